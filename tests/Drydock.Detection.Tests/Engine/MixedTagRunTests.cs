using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Detection.Tests.Engine;

/// <summary>
/// Unicode tag characters are read by one reading (<see cref="EncodedText"/>): a run of them is read as the ASCII it
/// stands for, and so is a run where they are mixed with plain characters (<c>AKIA</c> written plainly, the rest in tag
/// characters): one value, reported on the whole run.
/// </summary>
public sealed class MixedTagRunTests
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);

    private static string Tags(string text) => string.Concat(text.Select(c => char.ConvertFromUtf32(0xE0000 + c)));

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(1)]
    public void AKeyWrittenPartlyPlainAndPartlyInTagCharacters_IsOneAwsKey(int plain)
    {
        const string key = "AKIAQ3EGRL5TFZ6XW7NB";
        var written = key[..plain] + Tags(key[plain..]);
        var text = $"Use {written} now.";
        var finding = Assert.Single(s_detector.Scan(text), f => f.Type == "aws-access-key-id");
        Assert.Equal((4, 4 + written.Length), (finding.Start, finding.End));
    }

    [Fact]
    public void PlainAndTagCharactersInterleaved_AreOneValue()
    {
        const string key = "AKIAQ3EGRL5TFZ6XW7NB";
        var written = string.Concat(key.Select((c, i) => i % 2 == 0 ? c.ToString() : Tags(c.ToString())));
        Assert.Contains(s_detector.Scan($"key {written}."), f => f.Type == "aws-access-key-id");
    }

    [Fact]
    public void TagsRead_KeepsEveryOffset()
    {
        var text = "AK" + Tags("IA") + " x";
        var read = EncodedText.TagsRead(text);
        Assert.Equal("AKI\u200BA\u200B x", read);
        Assert.Null(EncodedText.TagsRead("plain text"));
    }

    [Fact]
    public void AFlagWithItsSubdivisionTags_IsNoFinding()
    {
        // England's flag: a black flag and the tag characters "gbeng", then the cancel tag.
        var text = "Go \U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F team!";
        Assert.DoesNotContain(s_detector.Scan(text), f => f.Category is Categories.Secret or Categories.Pii);
    }
}
