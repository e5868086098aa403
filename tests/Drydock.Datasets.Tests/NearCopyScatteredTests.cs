using Drydock.Datasets.Similarity;

namespace Drydock.Datasets.Tests;

// A copy retyped with a typo in twenty letters can exceed the edits the shorter text is allowed (deletions shorten it,
// the allowance rounds down): scattered edits are allowed up to a twentieth of the longer, rounded; edits that stand
// together (a name or a place filled in differently) are not.
public class NearCopyScatteredTests
{
    private const string Text = "the replacement router arrived this morning but the power adapter is missing and the manual is in the wrong language";

    // Five letters deleted, at least five characters apart, from a text of 97 letters: the copy (92) is allowed 4
    // edits by its own length, the original 5 by its length rounded. Each is a near copy, and the index finds it.
    [Fact]
    public void ACopyWithScatteredDeletions_BeyondTheShorterAllowance_IsANearCopy_AndTheIndexFindsIt()
    {
        var folded = NearCopy.Fold(Text);
        Assert.Equal(97, folded.Length);
        Assert.Equal(4, NearCopy.AllowedEdits(folded.Length - 5));
        Assert.Equal(5, NearCopy.ScatteredEdits(folded.Length));
        var index = new NearCopyIndex(NearDuplicateIndex.DefaultThreshold);
        index.Add("something else entirely about a printer that jams on every second page of the monthly report");
        index.Add(Text);
        var random = new Random(3);
        for (var trial = 0; trial < 300; trial++)
        {
            var places = new SortedSet<int>();
            while (places.Count < 5)
            {
                var at = random.Next(folded.Length);
                if (places.All(p => Math.Abs(p - at) >= 5)) places.Add(at);
            }

            var copy = new string([.. folded.Where((_, i) => !places.Contains(i))]);
            Assert.Equal(5, NearCopy.TypoDistance<char>(folded, copy, 10));
            Assert.True(NearCopy.Is(Text, copy), copy);
            Assert.Equal([1], index.FindAll(copy));
        }
    }

    // Five edits between two records of one template, where the letters of a name and a place differ together: no
    // more than the shorter's allowance (4) is granted.
    [Fact]
    public void RecordsOfOneTemplate_DifferingInFilledInWords_AreNotNearCopies()
    {
        const string Anna = "Dear Anna, the desk lamp you returned in Berlin was refunded on Saturday. Thank you for shopping with us this week.";
        const string Emma = "Dear Emma, the desk lamp you returned in Bern was refunded on Saturday. Thank you for shopping with us this week.";
        var (a, b) = (NearCopy.Fold(Anna), NearCopy.Fold(Emma));
        Assert.Equal(5, NearCopy.TypoDistance<char>(a, b, 10));
        Assert.Equal(4, NearCopy.AllowedEdits(b.Length));
        Assert.Equal(5, NearCopy.ScatteredEdits(a.Length));
        Assert.False(NearCopy.WithinScatteredEdits(a, b, 5));
        Assert.False(NearCopy.WithinEdits(a, b));
    }

    // Five letters deleted from the same 97-letter text, two pairs of them two characters apart (typos that fell close
    // twice): a near copy, found by the index. Three of them within four characters (a word changed), or three pairs, are not.
    [Fact]
    public void ACopyWithTwoPairsOfTyposStandingTogether_IsANearCopy_ButThreeEditsInOneWordAreNot()
    {
        var folded = NearCopy.Fold(Text);
        var index = new NearCopyIndex(NearDuplicateIndex.DefaultThreshold);
        index.Add(Text);
        string Without(params int[] places) => new([.. folded.Where((_, i) => !places.Contains(i))]);
        foreach (var copy in new[] { Without(10, 12, 40, 60, 62), Without(5, 7, 30, 32, 80), Without(20, 50, 52, 70, 72) })
        {
            Assert.Equal(5, NearCopy.TypoDistance<char>(folded, copy, 10));
            Assert.True(NearCopy.Is(Text, copy), copy);
            Assert.Equal([0], index.FindAll(copy));
        }

        foreach (var copy in new[] { Without(10, 11, 13, 40, 70), Without(10, 12, 40, 42, 44), Without(30, 31, 32, 60, 90) })
        {
            Assert.False(NearCopy.Is(Text, copy), copy);
            Assert.Empty(index.FindAll(copy));
        }
    }

    // Edits apart count as scattered, with two pairs standing together at most and never three edits within four
    // characters; a swap of neighbours is one edit.
    [Theory]
    [InlineData("abcdefghijklmnopqrstuvwxyz", "bcdefghijklmnopqrstuvwxy", 2, true)]
    [InlineData("abcdefghijklmnopqrstuvwxyz", "abcdxfghijxlmnopxrstuvwxyz", 3, true)]
    [InlineData("abcdefghijklmnopqrstuvwxyz", "abcdxxghijxlmnopxrstuvwxyz", 4, true)]
    [InlineData("abcdefghijklmnopqrstuvwxyz", "abcdxxxhijklmnopqrstuvwxyz", 3, false)]
    [InlineData("abcdefghijklmnopqrstuvwxyz", "abcdxxghijklmnopqrstuvqqyz", 4, true)]
    [InlineData("abcdefghijklmnopqrstuvwxyz", "abcdxxghijxxmnopqrstuvqqyz", 6, false)]
    [InlineData("abcdefghijklmnopqrstuvwxyz", "abcxxfxhijklmnopqrstuvwxyz", 3, false)]
    [InlineData("abcdefghijklmnopqrstuvwxyz", "abcdxfxhxjklmnopqrstuvwxyz", 3, true)]
    [InlineData("abcdefghijklmnopqrstuvwxyz", "abdcefghjiklmnopqrtsuvwxyz", 3, true)]
    [InlineData("abcdefghijklmnopqrstuvwxyz", "abcdxfghijxlmnopxrstuvwxyz", 2, false)]
    public void WithinScatteredEdits_CountsEditsStandingTogether(string a, string b, int k, bool expected) =>
        Assert.Equal(expected, NearCopy.WithinScatteredEdits(a, b, k));
}
