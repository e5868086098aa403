using Drydock.Datasets.Similarity;

namespace Drydock.Datasets.Tests;

// The loose test compares only what two long texts do not share, a short part a machine word at a time: the same
// answers as the banded distance.
public class NearCopyLooseFastTests
{
    [Fact]
    public void TheBitParallelDistance_IsTheBandedDistance()
    {
        var random = new Random(3);
        for (var trial = 0; trial < 20000; trial++)
        {
            string Random(int n) => new([.. Enumerable.Range(0, n).Select(_ => "abcde01"[random.Next(random.Next(2, 8))])]);
            var a = Random(random.Next(0, 70));
            var b = random.Next(3) == 0 ? Random(random.Next(0, 70)) : a.Insert(random.Next(a.Length + 1), Random(random.Next(0, 4)));
            var banded = NearCopy.Distance<char>(a, b, 200);
            if (NearCopy.BitParallelDistance(a, b) is { } fast) Assert.Equal(banded, fast);
            else Assert.True(Math.Min(a.Length, b.Length) > NearCopy.MaxBitParallelLength, $"{a} {b}");
        }

        Assert.Null(NearCopy.BitParallelDistance("é", "e"));
        Assert.Equal(1, NearCopy.BitParallelDistance("e", "é"));
    }

    // Templated records (one boilerplate, a tail each): compared by their tails, near copies when the tails are within
    // a tenth of the whole, not otherwise.
    [Fact]
    public void TemplatedRecords_AreComparedByTheirTails()
    {
        var boilerplate = string.Concat(Enumerable.Repeat("thank you for contacting example support your request has been logged ", 4));
        const string Tail = "k3j9x q8w2m z7v1c p0r5t";
        var retyped = "k3j9y q8w2m z7v1c p0r5tt";
        Assert.True(NearCopy.WithinLooseEdits(boilerplate + Tail, boilerplate + retyped));
        Assert.False(NearCopy.WithinLooseEdits(boilerplate + Tail, "different opening words entirely here " + boilerplate[40..] + "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6"));
    }
}
