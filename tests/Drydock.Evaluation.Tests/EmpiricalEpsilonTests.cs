using Drydock.Evaluation.Privacy;

namespace Drydock.Evaluation.Tests;

/// <summary>The empirical ε audit: Clopper–Pearson bounds against a 30-digit mpmath computation (bisection on the regularised incomplete beta), and the bound itself.</summary>
public sealed class EmpiricalEpsilonTests
{
    [Theory]
    [InlineData(0, 100, 0.95, 0.029513049607)] // also the closed form 1 − 0.05^(1/100)
    [InlineData(5, 100, 0.975, 0.112834911105)]
    [InlineData(50, 200, 0.975, 0.31596283333)]
    [InlineData(10, 100, 0.975, 0.17622259774)]
    public void Upper_MatchesClopperPearson(int k, int n, double confidence, double expected) =>
        Assert.Equal(expected, EmpiricalEpsilon.Upper(k, n, confidence), 1e-9);

    [Fact]
    public void RegularizedBeta_MatchesAKnownValue() => Assert.Equal(0.3529305, EmpiricalEpsilon.RegularizedBeta(0.3, 3, 5), 1e-7);

    [Fact]
    public void From_AStrongAttack_GivesTheBoundOfJagielskiEtAl()
    {
        // 90 of 100 members and 10 of 100 non-members flagged, δ = 1e-5, 95 % (each rate bounded at 97.5 %).
        var observed = EmpiricalEpsilon.From(90, 100, 10, 100, 1e-5);
        Assert.Equal(1.54214025546, observed.Epsilon, 1e-8);
        Assert.Equal((0.9, 0.1), (observed.TruePositiveRate, observed.FalsePositiveRate));
    }

    [Theory]
    [InlineData(50, 100, 50, 100)]
    [InlineData(10, 100, 12, 100)]
    [InlineData(0, 100, 0, 100)]
    public void From_AnAttackNoBetterThanChance_ObservesNothing(int tp, int members, int fp, int nonMembers) =>
        Assert.Equal(0, EmpiricalEpsilon.From(tp, members, fp, nonMembers, 1e-5).Epsilon);

    [Fact]
    public void From_RefusesBadCounts()
    {
        Assert.Throws<ArgumentException>(() => EmpiricalEpsilon.From(5, 0, 1, 10, 1e-5));
        Assert.Throws<ArgumentException>(() => EmpiricalEpsilon.From(11, 10, 1, 10, 1e-5));
        Assert.Throws<ArgumentException>(() => EmpiricalEpsilon.From(5, 10, 1, 10, 1.5));
    }
}
