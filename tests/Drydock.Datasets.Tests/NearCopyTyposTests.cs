using Drydock.Datasets.Similarity;

namespace Drydock.Datasets.Tests;

// Typos are one edit each, a swap of neighbouring letters included; the index finds every copy within the edits
// allowed (its pieces are a character apart, so a swap never breaks two).
public class NearCopyTyposTests
{
    private const string Text = "the replacement router arrived this morning but the power adapter is missing and the manual is in the wrong language";

    [Fact]
    public void ASwapOfNeighbours_IsOneEdit()
    {
        Assert.Equal(2, NearCopy.Distance<char>("teh", "the", 5));
        Assert.Equal(1, NearCopy.TypoDistance<char>("teh", "the", 5));
        Assert.Equal(3, NearCopy.TypoDistance<char>("kitten", "sitting", 5));
        Assert.Equal(3, NearCopy.TypoDistance<char>("kitten", "sitting", 2));
        Assert.Equal(2, NearCopy.TypoDistance<char>("abcdef", "badcef", 5));
    }

    // Copies with exactly as many swaps as the edits allowed, at random places (across piece boundaries too): each is
    // a near copy and the index finds it among other texts. Levenshtein counts each swap twice and found none.
    [Fact]
    public void CopiesWithAsManySwapsAsAllowed_AreFoundByTheIndex()
    {
        var folded = NearCopy.Fold(Text);
        var k = NearCopy.AllowedEdits(folded.Length);
        Assert.Equal(4, k);
        var index = new NearCopyIndex(NearDuplicateIndex.DefaultThreshold);
        index.Add("something else entirely about a printer that jams on every second page of the monthly report");
        index.Add(Text);
        var random = new Random(5);
        for (var trial = 0; trial < 300; trial++)
        {
            var chars = folded.ToCharArray();
            var swapped = new HashSet<int>();
            while (swapped.Count < k)
            {
                var at = random.Next(chars.Length - 1);
                if (chars[at] == chars[at + 1] || swapped.Contains(at - 1) || swapped.Contains(at) || swapped.Contains(at + 1)) continue;
                (chars[at], chars[at + 1]) = (chars[at + 1], chars[at]);
                swapped.Add(at);
            }

            var copy = new string(chars);
            Assert.True(NearCopy.Distance<char>(folded, copy, 3 * k) > k, copy);
            Assert.True(NearCopy.Is(Text, copy), copy);
            Assert.Equal([1], index.FindAll(copy));
        }
    }
}
