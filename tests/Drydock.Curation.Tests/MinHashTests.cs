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
}
