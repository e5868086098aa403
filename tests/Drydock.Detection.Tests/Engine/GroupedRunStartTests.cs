using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Detection.Tests.Engine;

/// <summary>
/// The grouped reading of spaced groups started at a capitalised word before the value (<c>Card 4539 1488 0343 6467</c>
/// read as <c>Card4539148803436467</c>), which then found the card a second time. A run now starts at the first group
/// that holds a digit or is written in capitals; groups of capitals that are part of the value (<c>AKIA GNSU …</c>) stay.
/// </summary>
public sealed class GroupedRunStartTests
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);

    [Theory]
    [InlineData("Card 4539 1488 0343 6467 expires soon")]
    [InlineData("Visa Card 4539 1488 0343 6467 expires soon")]
    [InlineData("Mein Konto 4539 1488 0343 6467")]
    public void AGroupedRun_NeverStartsAtACapitalisedWordBeforeTheValue(string text)
    {
        var value = text.IndexOf("4539", StringComparison.Ordinal);
        var runs = EncodedText.Find(text) ?? [];
        Assert.DoesNotContain(runs, r => r.Encoding == "grouped" && r.Start < value);
        var card = Assert.Single(s_detector.Scan(text), f => f.Type == "credit-card");
        Assert.Equal((value, value + "4539 1488 0343 6467".Length), (card.Start, card.End));
        Assert.Null(card.Encoding);
    }

    [Theory]
    [InlineData("CARD 4539 1488 0343 6467 expires soon")]
    [InlineData("Card: 4539 1488 0343 6467, mail jane.doe@acme-mail.com")]
    [InlineData("Visa Card 4539-1488-0343-6467")]
    public void ACardNumberAfterAWord_IsOneFinding(string text)
    {
        Assert.Single(s_detector.Scan(text), f => f.Type == "credit-card");
    }

    [Theory]
    [InlineData("Key AKIA GNSU V3QB WQSD XU6S here", "AKIA GNSU V3QB WQSD XU6S")]
    [InlineData("Sure: AKIA GNSU V3QB WQSD XU6S", "AKIA GNSU V3QB WQSD XU6S")]
    [InlineData("Code Word AKIA GNSU V3QB WQSD XU6S", "AKIA GNSU V3QB WQSD XU6S")]
    public void GroupsOfCapitalsThatArePartOfTheValue_StayInTheRun(string text, string spelled)
    {
        var finding = Assert.Single(s_detector.Scan(text), f => f.Type == "aws-access-key-id");
        Assert.Equal("grouped", finding.Encoding);
        Assert.Equal((text.IndexOf(spelled, StringComparison.Ordinal), text.IndexOf(spelled, StringComparison.Ordinal) + spelled.Length), (finding.Start, finding.End));
    }
}
