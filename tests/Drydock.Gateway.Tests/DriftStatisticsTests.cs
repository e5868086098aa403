using Drydock.Gateway.Monitoring;

namespace Drydock.Gateway.Tests;

/// <summary>The monitor's tests against values worked out by hand or from published tables.</summary>
public sealed class DriftStatisticsTests
{
    [Fact]
    public void Psi_HalfAndHalfAgainstQuarterAndThreeQuarters_IsTheFormulasValue()
    {
        // (0.25 − 0.5)·ln(0.25/0.5) + (0.75 − 0.5)·ln(0.75/0.5)
        var expected = (-0.25 * Math.Log(0.5)) + (0.25 * Math.Log(1.5));
        Assert.Equal(expected, DriftStatistics.Psi([50, 50], [25, 75]), 1e-12);
        Assert.Equal(0.274653, DriftStatistics.Psi([50, 50], [25, 75]), 1e-6);
    }

    [Fact]
    public void Psi_SameShares_IsZero_AndAnEmptyBinIsFloored()
    {
        Assert.Equal(0, DriftStatistics.Psi([10, 30, 60], [1, 3, 6]), 1e-12);
        Assert.True(double.IsFinite(DriftStatistics.Psi([100, 0], [50, 50])));
        Assert.True(DriftStatistics.Psi([100, 0], [50, 50]) > 1);
    }

    [Fact]
    public void ChiSquare_TwoByTwoTable_HasTheStatisticAndPValueOfTheTextbook()
    {
        // Expected 20/80 on each side: (10−20)²/20 + (30−20)²/20 + (90−80)²/80 + (70−80)²/80 = 12.5; p = erfc(√6.25).
        var (statistic, df, p) = DriftStatistics.ChiSquare([10, 90], [30, 70]);
        Assert.Equal(12.5, statistic, 1e-9);
        Assert.Equal(1, df);
        Assert.Equal(0.000406952, p, 1e-8);
    }

    [Theory]
    [InlineData(3.841459, 1, 0.05)]
    [InlineData(6.634897, 1, 0.01)]
    [InlineData(5.991465, 2, 0.05)]
    [InlineData(11.070498, 5, 0.05)]
    [InlineData(18.307038, 10, 0.05)]
    [InlineData(29.588298, 10, 0.001)]
    public void ChiSquareSurvival_MatchesTheTableOfCriticalValues(double x, int df, double p) =>
        Assert.Equal(p, DriftStatistics.ChiSquareSurvival(x, df), 1e-6);

    [Fact]
    public void ChiSquare_IdenticalProportions_IsZeroWithPValueOne()
    {
        var (statistic, _, p) = DriftStatistics.ChiSquare([20, 80], [40, 160]);
        Assert.Equal(0, statistic, 1e-12);
        Assert.Equal(1, p, 1e-9);
    }

    [Theory]
    [InlineData(new double[] { 1, 2, 3, 4 }, new double[] { 3, 4, 5, 6 }, 0.5)]
    [InlineData(new double[] { 1, 2, 3 }, new double[] { 4, 5, 6 }, 1.0)]
    [InlineData(new double[] { 1, 2, 3 }, new double[] { 3, 2, 1 }, 0.0)]
    [InlineData(new double[] { 1, 1, 2, 2 }, new double[] { 1, 2, 2, 2, 2 }, 0.3)]
    public void KolmogorovSmirnov_TwoSamples_IsTheLargestGapOfTheirCdfs(double[] a, double[] b, double d) =>
        Assert.Equal(d, DriftStatistics.KolmogorovSmirnov(a, b), 1e-12);

    [Fact]
    public void KolmogorovSmirnovBinned_EqualsTheSampleDistance_WhenEachValueIsItsOwnBin()
    {
        double[] a = [0, 1, 1, 2, 3, 3, 3];
        double[] b = [1, 2, 2, 2, 3];
        double[] binsA = [1, 2, 1, 3];
        double[] binsB = [0, 1, 3, 1];
        Assert.Equal(DriftStatistics.KolmogorovSmirnov(a, b), DriftStatistics.KolmogorovSmirnovBinned(binsA, binsB), 1e-12);
    }

    [Fact]
    public void KolmogorovSmirnovPValue_AtTheFivePercentCriticalValue_IsFivePercent()
    {
        // For large samples the 5 % critical value is 1.358·√((n + m)/(n·m)).
        const double n = 1_000_000;
        var d = 1.358 * Math.Sqrt(2 / n);
        Assert.Equal(0.05, DriftStatistics.KolmogorovSmirnovPValue(d, n, n), 2e-3);
    }
}
