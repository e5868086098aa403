using Drydock.Evaluation.Privacy;

namespace Drydock.Evaluation.Tests;

/// <summary>
/// The privacy audit of a membership attack: the observed lower bound on ε over the attack's thresholds (Bonferroni over
/// the thresholds), checked against values computed by hand from Clopper–Pearson bounds, and the statement that puts it
/// beside the accountant's ε.
/// </summary>
public sealed class PrivacyAuditTests
{
    // Two thresholds (two distinct scores): at 90 % overall confidence each is taken at 95 %, each rate's bound at 97.5 %.
    [Fact]
    public void Observed_AnAttackFlagging90Of100MembersAnd10Of100NonMembers_GivesTheHandComputedBound()
    {
        var result = Membership.Evaluate([.. Enumerable.Repeat(1.0, 90), .. Enumerable.Repeat(0.0, 10)], [.. Enumerable.Repeat(1.0, 10), .. Enumerable.Repeat(0.0, 90)]);
        var observed = PrivacyAudit.Observed(result, 1e-5, confidence: 0.9);
        // Upper(10, 100, 0.975) = 0.17622259774 (Clopper–Pearson); ε ≥ ln((1 − 1e-5 − 0.17622259774) / 0.17622259774).
        Assert.Equal(1.54214025546, observed.Epsilon, 1e-8);
        Assert.Equal((0.9, 0.1, 0.9), (observed.TruePositiveRate, observed.FalsePositiveRate, observed.Confidence));
    }

    [Fact]
    public void Observed_APerfectAttack_IsBoundedByTheSampleSize()
    {
        var result = Membership.Evaluate([.. Enumerable.Repeat(1.0, 100)], [.. Enumerable.Repeat(0.0, 100)]);
        // No error in 100 either way: each rate is at most 1 − 0.025^(1/100) = 0.0362167 at 97.5 %; ε ≥ ln((1 − 1e-5 − u) / u).
        Assert.Equal(3.28133597327, PrivacyAudit.Observed(result, 1e-5, confidence: 0.9).Epsilon, 1e-8);
    }

    [Fact]
    public void Observed_MoreThresholds_CostConfidence_AndAChanceAttackObservesNothing()
    {
        // The same best rates among three thresholds: each taken at 1 − 0.1/3, so the bound is lower.
        var result = Membership.Evaluate([.. Enumerable.Repeat(1.0, 90), .. Enumerable.Repeat(-1.0, 10)], [.. Enumerable.Repeat(1.0, 10), .. Enumerable.Repeat(0.0, 90)]);
        var observed = PrivacyAudit.Observed(result, 1e-5, confidence: 0.9);
        Assert.InRange(observed.Epsilon, 0.5, 1.54214025546 - 1e-3);
        var chance = Membership.Evaluate([.. Enumerable.Range(0, 100).Select(i => (double)i)], [.. Enumerable.Range(0, 100).Select(i => i + 0.5)]);
        Assert.Equal(0, PrivacyAudit.Observed(chance, 1e-5).Epsilon);
    }

    [Fact]
    public void Statement_PutsTheObservedBoundBesideTheGuarantee_OrAloneWithoutDp()
    {
        var observed = new ObservedEpsilon(0.91234, 0.3, 0.05, 0.1, 0.8, 0.95);
        Assert.StartsWith("guaranteed ε ≤ 8, observed ε ≥ 0.912 (95 % confidence", PrivacyAudit.Statement(8, observed), StringComparison.Ordinal);
        Assert.StartsWith("no guarantee (trained without differential privacy), observed ε ≥ 0.912", PrivacyAudit.Statement(null, observed), StringComparison.Ordinal);
    }
}
