using Drydock.Datasets.Similarity;

namespace Drydock.Datasets.Tests;

// Short texts (up to 200 letters and digits) retyped with a few percent of typos are near copies; numbers still count as numbers.
public class NearCopyShortEditsTests
{
    private const string Text = "Hello support team, the replacement router for order 14 arrived this morning but the power adapter is missing and the manual is in the wrong language. Could you send the adapter by courier this week?";

    // Seven letters changed in a text of about 160 letters and digits (4.4 %): beyond the 4 edits once allowed, within 5 %.
    private static string Retyped(string text)
    {
        var chars = text.ToCharArray();
        foreach (var at in new[] { 7, 31, 52, 77, 101, 133, 170 })
        {
            var i = at;
            while (!char.IsLetter(chars[i])) i++;
            chars[i] = chars[i] == 'x' ? 'y' : 'x';
        }

        return new string(chars);
    }

    [Fact]
    public void AShortTextRetypedWithTypos_IsANearCopy_AndFoundByTheIndex()
    {
        var retyped = Retyped(Text);
        var folded = NearCopy.Fold(Text);
        Assert.InRange(folded.Length, 140, 200);
        Assert.True(NearDuplicateIndex.Similarity(NearDuplicateIndex.Signature(Text), NearDuplicateIndex.Signature(retyped)) < NearDuplicateIndex.DefaultThreshold);
        Assert.Equal(7, NearCopy.Distance<char>(folded, NearCopy.Fold(retyped), 20));
        Assert.True(NearCopy.Is(Text, retyped));
        var index = new NearCopyIndex(NearDuplicateIndex.DefaultThreshold);
        index.Add("Something else entirely, about a printer that jams on every second page of the monthly report");
        index.Add(Text);
        Assert.Equal([1], index.FindAll(retyped));
    }

    // The edit test compares numbers as numbers: a small number changed is another value, even with no other edit
    // (MinHash, which reads digits as letters, still links a long text that differs in one digit).
    [Fact]
    public void AShortTextWithOnlyASmallNumberChanged_IsNotWithinEdits()
    {
        var other = Text.Replace("order 14", "order 15", StringComparison.Ordinal);
        Assert.False(NearCopy.WithinEdits(NearCopy.Tokens(Text), NearCopy.Tokens(other)));
        Assert.False(NearCopy.WithinEdits(NearCopy.Tokens(Retyped(Text)), NearCopy.Tokens(other)));
        Assert.True(NearCopy.WithinEdits(NearCopy.Tokens(Retyped(Text)), NearCopy.Tokens(Text)));
        Assert.False(NearCopy.Is("question 12 about order 84 and the refund for it", "question 13 about order 91 and the refund for it"));
    }

    [Theory]
    [InlineData(39, 3)]
    [InlineData(40, 4)]
    [InlineData(79, 4)]
    [InlineData(100, 5)]
    [InlineData(190, 9)]
    [InlineData(200, 10)]
    public void EditsAllowed_ScaleWithLength(int length, int edits) => Assert.Equal(edits, NearCopy.AllowedEdits(length));
}
