using Drydock.Tests.Shared;
using Drydock.Curation.Policy;
using Drydock.Datasets.Similarity;

namespace Drydock.Curation.Tests;

// A near copy only with a long number mistyped binds a pair to one side and chains no further.
public partial class CleanerTests
{
    // Sequential ids (tickets 10000–10399) differ from many others by one digit each: different values, so the split
    // is made about as the fraction asks, not chained into one family (was: one family, the split refused).
    [Theory]
    [InlineData(0.3)]
    [InlineData(0.5)]
    public void Clean_Holdout_SequentialLongIds_SplitAboutAsAsked(double fraction)
    {
        using var dir = new TempDir();
        var lines = Enumerable.Range(10000, 400).Select(n => Chat($"t{n}", $"Status of ticket {n}?", $"Ticket {n} has shipped."));
        var input = dir.File("in.jsonl", string.Join("", lines.Select(l => l + "\n")));
        var (manifest, _) = Clean(dir, input, new CleaningPolicy { NearDedup = false, ExactDedup = false }, holdout: fraction);
        var share = (double)manifest.HoldoutRecords / (manifest.Records + manifest.HoldoutRecords);
        Assert.InRange(share, fraction - 0.1, fraction + 0.1);
        Assert.InRange(manifest.Records + manifest.HoldoutRecords, 380, 400);
    }

    // A record retyped with its long ticket number's digits swapped (4711 → 4171) or one digit changed lands on the side
    // of its original, among other records whose numbers are unrelated; short enough that MinHash alone misses most pairs.
    [Fact]
    public void Clean_Holdout_ARecordWithItsLongNumberMistyped_LandsBesideItsOriginal()
    {
        using var dir = new TempDir();
        var random = new Random(3);
        var lines = new List<string>();
        var pairs = new List<(string Original, string Copy)>();
        for (var i = 0; i < 60; i++)
        {
            var number = random.Next(1000, 9999).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var typo = i % 2 == 0 ? number[..1] + number[2] + number[1] + number[3..] : number[..2] + (char)('0' + ((number[2] - '0' + 1) % 10)) + number[3..];
            var original = $"{Sentence(random, 2)} ticket {number} {Sentence(random, 1)}";
            var copy = original.Replace(number, typo, StringComparison.Ordinal);
            if (copy == original) continue;
            pairs.Add((original, copy));
            lines.Add(Chat($"a{i}", original, "Noted."));
            lines.Add(Chat($"b{i}", copy, "Noted."));
        }

        Assert.True(pairs.Count(p => NearDuplicateIndex.Similarity(NearDuplicateIndex.Signature(p.Original), NearDuplicateIndex.Signature(p.Copy)) < NearDuplicateIndex.DefaultThreshold) > pairs.Count / 3, "most pairs should be found by the mistyped rule only");
        var input = dir.File("in.jsonl", string.Join("", lines.Select(l => l + "\n")));
        var (manifest, options) = Clean(dir, input, new CleaningPolicy { NearDedup = false, ExactDedup = false }, holdout: 0.3);
        var training = Drydock.Datasets.DatasetReader.Texts(options.Output);
        var heldOut = Drydock.Datasets.DatasetReader.Texts(options.Holdout!);
        Assert.NotEmpty(heldOut);
        Assert.NotEmpty(training);
        foreach (var (original, copy) in pairs)
        {
            var originalHeldOut = heldOut.Any(t => t.Contains(original, StringComparison.Ordinal));
            var copyHeldOut = heldOut.Any(t => t.Contains(copy, StringComparison.Ordinal));
            Assert.True(originalHeldOut == copyHeldOut, $"split apart: {original} / {copy}");
        }

        Assert.Equal(0, manifest.Dispositions.GetValueOrDefault("split-conflict"));
    }

    // The index reports the two kinds of link apart: a copy with its numbers as they are, and one only with a number mistyped.
    [Fact]
    public void NearCopyIndex_ReportsMistypedLinksApartFromCopies()
    {
        var index = new NearCopyIndex(NearDuplicateIndex.DefaultThreshold);
        index.Add("Refund ticket 73914 please");
        index.Add("Refund tickett 73914 please");
        var links = index.FindLinks("Refund ticket 37914 please");
        Assert.Empty(links.Copies);
        Assert.Equal([0, 1], links.Mistyped);
        Assert.Equal("37914", links.Numbers);
        Assert.Equal([0, 1], index.FindLinks("Refund ticket 73914 pleas").Copies);
        Assert.False(NearCopyIndex.MistypedPair("10001", ["10000", "10002"], "10000", ["10001"]));
        Assert.True(NearCopyIndex.MistypedPair("4171", ["4711"], "4711", ["4171"]));
    }
}
