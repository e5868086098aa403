using Drydock.Evaluation.Privacy;

namespace Drydock.Evaluation.Tests;

/// <summary>
/// The canary audit: planted canaries' exposures against codes never planted, per repetition count, to an observed
/// lower bound on ε per record (Clopper–Pearson, Bonferroni over the thresholds tried, group privacy undone); checked
/// against values computed by hand. And the leave-one-out exposure that scores the never-planted codes.
/// </summary>
public sealed class CanaryAuditTests
{
    // 10 canaries planted once, all at 20 bits; 1,000 codes never planted, all below. One threshold: each rate's bound at
    // 97.5 %, with no error 1 − 0.025^(1/n): FNR ≤ 0.3084971078, FPR ≤ 0.0036820839; ε ≥ ln((1 − 1e-5 − FNR)/FPR).
    [Fact]
    public void Run_TenCanariesPlantedOnce_AllAboveEveryNeverPlantedCode_GivesTheHandComputedBound()
    {
        var result = CanaryAudit.Run([.. Enumerable.Repeat((20.0, 1), 10)], [.. Enumerable.Range(0, 1000).Select(i => i % 10 * 1.0)], 1e-5);
        Assert.Equal(5.23537400, result.Epsilon, 1e-6);
        var group = Assert.Single(result.Groups);
        Assert.Equal((1, 10, 1000), (group.Repeats, group.Members, group.NonMembers));
        Assert.Equal((1.0, 0.0), (group.Group.TruePositiveRate, group.Group.FalsePositiveRate));
        Assert.StartsWith("observed ε ≥ 5.235 from canaries (95 % confidence, δ = 1E-05; 10 planted 1×: ε ≥ 5.235 per record", result.Statement(), StringComparison.Ordinal);
    }

    // The same attack on canaries each held by 4 records bounds ε for a group of 4: per record ε solves
    // 4ε = B(4·e^(3ε)·δ), a little below B(4δ)/4 = 1.30883; with δ = 0.01 the growing group δ costs far more.
    [Fact]
    public void Run_CanariesRepeatedFourTimes_BoundEpsilonPerRecordByGroupPrivacy()
    {
        var nonMembers = Enumerable.Range(0, 1000).Select(i => i % 10 * 1.0).ToArray();
        var result = CanaryAudit.Run([.. Enumerable.Repeat((20.0, 4), 10)], nonMembers, 1e-5);
        Assert.Equal(1.30811402, result.Epsilon, 1e-6);
        Assert.Equal(5.23533065, result.Groups[0].Group.Epsilon, 1e-6);
        Assert.Equal(0.88300380, CanaryAudit.Run([.. Enumerable.Repeat((20.0, 4), 10)], nonMembers, 0.01).Epsilon, 1e-6);
    }

    // Two repetition counts: the best group gives the bound; each is taken at a confidence raised for the thresholds
    // tried in both, so the once-planted group alone (one threshold) would give more than it does here.
    [Fact]
    public void Run_SeveralRepetitionCounts_TakesTheBest_AndPaysForEveryThresholdTried()
    {
        var nonMembers = Enumerable.Range(0, 1000).Select(i => i % 10 * 1.0).ToArray();
        var result = CanaryAudit.Run([.. Enumerable.Repeat((20.0, 1), 10), .. Enumerable.Repeat((15.0, 8), 5), (12.0, 8)], nonMembers, 1e-5);
        Assert.Equal([1, 8], result.Groups.Select(g => g.Repeats));
        Assert.Equal(result.Groups[0].Epsilon, result.Epsilon);
        Assert.InRange(result.Epsilon, 4.5, 5.23537400 - 1e-3);
        Assert.True(result.Groups[1].Epsilon < result.Groups[1].Group.Epsilon / 8);
    }

    [Fact]
    public void Run_CanariesNoMoreExposedThanCodesNeverPlanted_ObserveNothing()
    {
        var result = CanaryAudit.Run([.. Enumerable.Range(0, 20).Select(i => (i % 10 * 1.0, 16))], [.. Enumerable.Range(0, 1000).Select(i => i % 10 * 1.0)], 1e-5);
        Assert.Equal(0, result.Epsilon);
    }

    [Fact]
    public void Run_RefusesWhatCannotBeAudited()
    {
        Assert.Throws<ArgumentException>(() => CanaryAudit.Run([], [1.0], 1e-5));
        Assert.Throws<ArgumentException>(() => CanaryAudit.Run([(3.0, 1)], [], 1e-5));
        Assert.Throws<ArgumentException>(() => CanaryAudit.Run([(3.0, 0)], [1.0], 1e-5));
        Assert.Throws<ArgumentException>(() => CanaryAudit.Run([(double.NaN, 1)], [1.0], 1e-5));
        Assert.Throws<ArgumentException>(() => CanaryAudit.Run([(3.0, 1)], [1.0], 1));
    }

    [Fact]
    public void LeaveOneOut_ScoresEachCandidateAsACanaryAmongTheOthers()
    {
        var random = new Random(5);
        var candidates = Enumerable.Range(0, 60).Select(_ => -40 + (random.NextDouble() * 10)).ToArray();
        var exposures = Exposure.LeaveOneOut(candidates, 60);
        for (var i = 0; i < candidates.Length; i++)
        {
            Assert.Equal(Exposure.Compute(candidates[i], [.. candidates.Where((_, j) => j != i)], 60), exposures[i], 12);
        }

        // The likeliest of 60 ranks first among 59 others: past the ranks, on the fitted tail.
        Assert.True(exposures.Max() > Math.Log2(59.0 / 10));
    }
}
