using Drydock.Datasets.Similarity;

namespace Drydock.Curation.Tests;

public class MinHashTests
{
    [Fact]
    public void Similarity_IdenticalAndDisjoint()
    {
        var a = NearDuplicateIndex.Signature("the cat sat on the mat near the door today");
        Assert.Equal(1.0, NearDuplicateIndex.Similarity(a, NearDuplicateIndex.Signature("The cat, sat on the MAT near the door today!")));
        Assert.True(NearDuplicateIndex.Similarity(a, NearDuplicateIndex.Signature("quantum chromodynamics describes quarks and gluons in nuclei")) < 0.1);
    }

    [Fact]
    public void FindOrAdd_ReturnsClusterOfFirst()
    {
        var index = new NearDuplicateIndex(0.8);
        const string text = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty";
        Assert.Equal(-1, index.FindOrAdd(NearDuplicateIndex.Signature(text)));
        Assert.Equal(-1, index.FindOrAdd(NearDuplicateIndex.Signature("completely unrelated words about databases and indexes and query planners")));
        Assert.Equal(0, index.FindOrAdd(NearDuplicateIndex.Signature(text.Replace("seven", "SEVEN", StringComparison.Ordinal) + " twentyone")));
    }

    [Theory]
    [InlineData("You are a helpful assistant.|Where is my order #4411?|It shipped on Monday.")]
    [InlineData("|abc||de")]
    [InlineData("word|word")]
    [InlineData("")]
    public void Signature_OfParts_IsTheSignatureOfThePartsJoined(string joined)
    {
        var parts = joined.Split('|');
        Assert.Equal(NearDuplicateIndex.Signature(string.Join('\u001f', parts)), NearDuplicateIndex.Signature(parts));
        Assert.Equal(NearDuplicateIndex.Signature(string.Join(" / ", parts)), NearDuplicateIndex.Signature(parts));
    }

    // A near-duplicate that shares only one band with its original, behind twenty records that share that band but are
    // not similar (templated text): every entry of the bucket is a candidate, so it is still found (the index once
    // compared only the 8 most recent entries of a bucket and missed it).
    [Fact]
    public void FindOrAdd_FindsTheDuplicate_BehindMoreThanEightCandidatesInItsBucket()
    {
        var random = new Random(5);
        uint[] Random96() => [.. Enumerable.Range(0, NearDuplicateIndex.Hashes).Select(_ => (uint)random.Next())];
        var original = Random96();
        var index = new NearDuplicateIndex(0.8);
        Assert.Equal(-1, index.FindOrAdd(original));
        for (var i = 0; i < 20; i++)
        {
            // The first band (bins 0-5) as the original's, everything else different: a candidate, not a duplicate.
            var other = Random96();
            original.AsSpan(0, 6).CopyTo(other);
            Assert.Equal(-1, index.FindOrAdd(other));
        }

        // One bin changed in each of the other 15 bands: similarity 81/96 = 0.84, sharing the first band only.
        var copy = (uint[])original.Clone();
        for (var band = 1; band < 16; band++) copy[(band * 6) + 2] ^= 0x5A5A5A5A;
        Assert.True(NearDuplicateIndex.Similarity(original, copy) >= 0.8);
        Assert.Equal(0, index.Find(copy));
        Assert.Equal(0, index.FindOrAdd(copy));
        Assert.Equal([0], index.FindAll(copy));
        var stranger = Random96();
        Assert.Equal(-1, index.Find(stranger));
        Assert.Equal(-1, index.Find(stranger));
    }

    // Templated records: behind MaxCandidatesPerBand records sharing its only band, an older copy is no longer compared
    // (the bound that keeps a pass linear), while behind one fewer it still is.
    [Theory]
    [InlineData(NearDuplicateIndex.MaxCandidatesPerBand - 1, 0)]
    [InlineData(NearDuplicateIndex.MaxCandidatesPerBand, -1)]
    public void Find_ComparesAtMostMaxCandidatesPerBand(int templated, int expected)
    {
        var random = new Random(7);
        uint[] Random96() => [.. Enumerable.Range(0, NearDuplicateIndex.Hashes).Select(_ => (uint)random.Next())];
        var original = Random96();
        var index = new NearDuplicateIndex(0.8);
        index.Add(original);
        for (var i = 0; i < templated; i++)
        {
            var other = Random96();
            original.AsSpan(0, 6).CopyTo(other);
            index.Add(other);
        }

        var copy = (uint[])original.Clone();
        for (var band = 1; band < 16; band++) copy[(band * 6) + 2] ^= 0x5A5A5A5A;
        Assert.Equal(expected, index.Find(copy));
        Assert.Equal(expected < 0 ? [] : [0], index.FindAll(copy));
    }
}
