using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Detection.Tests.Engine;

/// <summary>
/// A value written in space-separated groups of mixed lengths (<c>AKIA Q3EGRL 5TFZ6XW7NB</c>) was not read: the grouped
/// reading needed groups of one length. Stretches of such groups are now read joined, and reported where a rule finds a
/// value in them.
/// </summary>
public sealed class MixedGroupsTests
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);

    [Theory]
    [InlineData("key: AKIA Q3EGRL 5TFZ6XW7NB", "AKIA Q3EGRL 5TFZ6XW7NB")]
    [InlineData("Sure, here: AKIAQ3EGRL 5TFZ6XW7NB. Keep it safe.", "AKIAQ3EGRL 5TFZ6XW7NB")]
    [InlineData("ID 2024 AKIA Q3 EGRL5TFZ 6XW7NB OK", "AKIA Q3 EGRL5TFZ 6XW7NB")]
    [InlineData("the key is AK IAQ3EGR L5TFZ6XW 7NB, rotate it", "AK IAQ3EGR L5TFZ6XW 7NB")]
    public void AKeyInGroupsOfMixedLength_IsOneGroupedFinding(string text, string spelled)
    {
        var finding = Assert.Single(s_detector.Scan(text), f => f.Type == "aws-access-key-id");
        Assert.Equal("grouped", finding.Encoding);
        var at = text.IndexOf(spelled, StringComparison.Ordinal);
        Assert.True(finding.Start <= at && finding.End >= at + spelled.Length, $"{finding.Start}..{finding.End} does not cover {at}..{at + spelled.Length}");
        Assert.DoesNotContain("Q3EGRL", finding.Excerpt, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Card 4539 1488 0343 6467 expires soon")]
    [InlineData("CARD 4539 1488 0343 6467 expires soon")]
    public void ACardNumber_IsStillOneFinding(string text) =>
        Assert.Single(s_detector.Scan(text), f => f.Type == "credit-card");

    [Theory]
    [InlineData("ERROR 404 NOT FOUND AT LINE 12 OF FILE MAIN2 IN BUILD 7731 ON HOST WEB01")]
    [InlineData("Order AB12 shipped in 3 BOXES via UPS 1Z 999 AA1 on 2024 05 12, ref QX7 RR 55 TT")]
    [InlineData("USB C 3 1 GEN2 PORTS AND 2 HDMI 2 1 OUTPUTS, WIFI 6E, BT 5 3")]
    public void OrdinaryTextWithCapitalsAndNumbers_ReportsNothing(string text) =>
        Assert.DoesNotContain(s_detector.Scan(text), f => f.Category is Categories.Secret or Categories.Pii);

    // Tag characters (U+E0020–U+E007E) that spell a key: read as the ASCII they stand for, reported on the whole run.
    [Fact]
    public void AKeyInUnicodeTagCharacters_IsAnAwsKeyFinding()
    {
        var tags = string.Concat("AKIAQ3EGRL5TFZ6XW7NB".Select(c => char.ConvertFromUtf32(0xE0000 + c)));
        var text = "key " + tags + " ok";
        var finding = Assert.Single(s_detector.Scan(text), f => f.Type == "aws-access-key-id");
        Assert.Equal("tags", finding.Encoding);
        Assert.Equal((4, 4 + tags.Length), (finding.Start, finding.End));
        Assert.DoesNotContain(s_detector.Scan("hello " + string.Concat("hello world".Select(c => char.ConvertFromUtf32(0xE0000 + c)))), f => f.Category is Categories.Secret or Categories.Pii);
    }

    [Fact]
    public void ALongTextOfMixedGroups_IsReadWithinTheBound()
    {
        var text = string.Concat(Enumerable.Repeat("AB1 CD23 ", 50_000)) + "AKIA Q3EGRL 5TFZ6XW7NB";
        var runs = EncodedText.Find(text) ?? [];
        Assert.InRange(runs.Count(r => r.Encoding == "grouped"), 1, 4_096);
    }
}
