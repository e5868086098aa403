using Drydock.Detection.Analyzers;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Detection.Tests.Engine;

/// <summary>
/// A digit look-alike (Cyrillic <c>З</c> for 3, <c>Б</c> for 6) or a decimal digit of another script (Oriya, Arabic-Indic,
/// Devanagari, fullwidth) standing in a value otherwise written in ASCII letters and digits is read as its ASCII digit by
/// the pattern rules and the canary analyzer, from the one <see cref="LookAlikes"/> table; Cyrillic and Arabic prose,
/// numbers written wholly in another script included, is not rewritten.
/// </summary>
public sealed class DigitLookAlikeFoldTests
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);

    [Theory]
    [InlineData("\u0417")] // Cyrillic З
    [InlineData("\u0B69")] // Oriya 3
    [InlineData("\u0663")] // Arabic-Indic 3
    [InlineData("\u06F3")] // Extended Arabic-Indic 3
    [InlineData("\u0969")] // Devanagari 3
    [InlineData("\uFF13")] // fullwidth 3
    public void AnAwsKeyWithADigitOfAnotherScript_IsAnAwsKeyFinding(string three)
    {
        var text = $"Use {"AKIAQ3EGRL5TFZ6XW7NB".Replace("3", three, StringComparison.Ordinal)} for the bucket.";
        var finding = Assert.Single(s_detector.Scan(text), f => f.Type == "aws-access-key-id");
        Assert.Equal(("AKIAQ", "7NB"), (text[finding.Start..(finding.Start + 5)], text[(finding.End - 3)..finding.End]));
    }

    [Fact]
    public void Fold_ReadsDigitsOnlyInAValueOfAsciiLettersAndDigits()
    {
        Assert.Equal("AKIAQ3EGRL5TFZ6XW7NB", LookAlikes.Fold("AKIAQ\u0417EGRL5TFZ6XW7NB"));
        Assert.Equal("id:345 ok", LookAlikes.Fold("id:\u0663\u0664\u0665 ok"));
        Assert.Equal("tok_9a6b", LookAlikes.Fold("tok_\u0B6Fa\u0431b"));
    }

    [Theory]
    [InlineData("Привет! Заказ №٣٤٥ от 3 мая, ЗАО «Ромашка», тел. ۰۹۱۲. Зоя и Боря купили 2 билета.")]
    [InlineData("Звоните: З-й подъезд, Зимой; Б. Победы.")]
    [InlineData("العدد ٣٤٥٦٧٨٩ في الصفحة ١٢ من الكتاب، وطبعة ٢٠١٥.")]
    [InlineData("पृष्ठ ३४५ पर देखें, वर्ष २०१५।")]
    public void ProseInOtherScripts_IsNotRewritten(string text)
    {
        Assert.Same(text, LookAlikes.Fold(text));
        Assert.DoesNotContain(s_detector.Scan(text), f => f.Category is Categories.Secret or Categories.Pii);
    }

    [Theory]
    [InlineData('\u0B6F', '9')] // Oriya
    [InlineData('\u0669', '9')] // Arabic-Indic
    [InlineData('\uFF19', '9')] // fullwidth
    [InlineData('\u0417', '3')] // Cyrillic З
    public void TheCanaryAnalyzer_ReadsTheSameDigits(char written, char digit)
    {
        Assert.Equal(digit, LookAlikes.Latin(written, code: true));
        Assert.Equal(digit, LookAlikes.Digit(written));
        var canary = $"7F{digit}K-QZ2M-4WXL";
        List<Finding>? findings = null;
        new CanaryAnalyzer([CanaryAnalyzer.Hash(canary)]).Analyze($"code: 7F{written}K-QZ2M-4WXL.", ref findings);
        Assert.Single(findings!);
    }
}
