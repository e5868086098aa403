using Drydock.Detection.Analyzers;
using Drydock.Detection.Engine;

namespace Drydock.Detection.Tests.Engine;

/// <summary>
/// One look-alike table serves the pattern rules and the canary analyzer: every Cyrillic or Greek letter the rules read
/// as a Latin one, the canary analyzer reads as that letter too (it kept a table of its own, which lacked Ԍ, ϲ, Ѵ, ɡ and
/// others); the code-only letters (н as H, β as B) are read only in codes; the digit look-alikes (З as 3, Б as 6) are
/// folded into the text the rules read only inside a value of ASCII letters and digits.
/// </summary>
public sealed class LookAlikeTableTests
{
    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    // Every character of Greek, Cyrillic and their supplements, and the IPA script g.
    private static IEnumerable<char> Candidates() => Enumerable.Range(0x370, 0x530 - 0x370).Select(i => (char)i).Append('ɡ');

    [Fact]
    public void EveryLookAlikeOfACodeLetter_ReadsAsThatLetter_InACanary()
    {
        var missed = new List<string>();
        var checkedLetters = 0;
        foreach (var c in Candidates())
        {
            var upper = char.ToUpperInvariant(LookAlikes.Latin(c));
            if (!LookAlikes.IsLookAlike(c) || !Alphabet.Contains(upper, StringComparison.Ordinal)) continue;
            checkedLetters++;
            var canary = $"{upper}F3K-QZ9M-2WX{upper}";
            var analyzer = new CanaryAnalyzer([CanaryAnalyzer.Hash(canary)]);
            List<Finding>? findings = null;
            analyzer.Analyze($"the code is {c}F3K-QZ9M-2WX{c} as agreed", ref findings);
            if (findings is not { Count: 1 }) missed.Add($"U+{(int)c:X4} ({c}) as {upper}");
        }

        Assert.True(checkedLetters >= 50, $"only {checkedLetters} look-alikes checked");
        Assert.Empty(missed);
    }

    [Theory]
    [InlineData('З', '3')]
    [InlineData('Б', '6')]
    [InlineData('б', '6')]
    [InlineData('н', 'H')]
    [InlineData('β', 'B')]
    public void CodeOnlyLookAlikes_AreReadInCanaries_ButNotFoldedInText(char lookAlike, char code)
    {
        Assert.Equal(code, LookAlikes.Latin(lookAlike, code: true));
        Assert.Equal(lookAlike, LookAlikes.Latin(lookAlike));
        Assert.False(LookAlikes.IsLookAlike(lookAlike));

        // A digit look-alike inside a value of ASCII letters and digits is that digit (DigitLookAlikeTests); a letter one is not folded.
        var word = $"AKIA{lookAlike}Q3EGRL5TFZ6XW7N";
        Assert.Equal(char.IsAsciiDigit(code) ? word.Replace(lookAlike, code) : word, LookAlikes.Fold(word));

        var canary = $"7F{code}K-QZ9M-2WXL";
        List<Finding>? findings = null;
        new CanaryAnalyzer([CanaryAnalyzer.Hash(canary)]).Analyze($"code: 7F{lookAlike}K-QZ9M-2WXL.", ref findings);
        Assert.Single(findings!);
    }
}
