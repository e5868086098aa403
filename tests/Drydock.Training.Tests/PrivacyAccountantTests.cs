namespace Drydock.Training.Tests;

/// <summary>
/// The accountant against reference values. Two sources:
/// (1) TF-Privacy's own unit test (tensorflow/privacy, <c>rdp_accountant_test.py</c>, <c>test_compute_rdp_sequence</c>):
///     q = 0.01, σ = 2.5, 50 steps at orders 1.5, 2.5, 5, 50, 100 → 0.00065, 0.001085, 0.00218075, 0.023846, 167.416307,
///     checked there to 1e-5 — the same tolerance here;
/// (2) an independent multi-precision computation (mpmath, 40 digits): A_α = ∫ μ0 (μ/μ0)^α by numerical quadrature
///     with μ0 = N(0, σ²), μ = (1−q)·N(0, σ²) + q·N(1, σ²) (Mironov et al. 2019, Definition of A_α), composed over the
///     steps and converted with Balle et al. 2020 over Opacus's default orders; ε agrees to 1e-4 relative.
///     The quadrature gives the TF-Privacy values of (1) too (0.00065007, 0.00108542, 0.00218076, 0.02384604, 167.41631).
/// </summary>
public sealed class PrivacyAccountantTests
{
    [Theory]
    [InlineData(1.5, 0.00065)]
    [InlineData(2.5, 0.001085)]
    [InlineData(5, 0.00218075)]
    [InlineData(50, 0.023846)]
    [InlineData(100, 167.416307)]
    public void Rdp_MatchesTfPrivacysPublishedSequence(double order, double expected) =>
        Assert.Equal(expected, 50 * PrivacyAccountant.Rdp(0.01, 2.5, order), 1e-5);

    [Theory]
    // q, σ, steps, δ → ε (mpmath quadrature), optimal order
    [InlineData(0.01, 1.1, 10_000, 1e-5, 5.631992369, 4.7)]
    [InlineData(256.0 / 60000, 1.1, 14_100, 1e-5, 2.600342939, 8.1)] // TF-Privacy's MNIST tutorial setting: batch 256 of 60,000, 60 epochs
    [InlineData(0.01, 4.0, 10_000, 1e-5, 1.035490066, 17)] // Abadi et al. 2016's setting (their moments accountant: 1.26)
    [InlineData(0.004, 0.8, 5_000, 1e-6, 3.392487654, 6.0)]
    [InlineData(0.1, 2.0, 100, 1e-5, 2.580568809, 7.6)]
    public void Epsilon_MatchesMultiPrecisionReference(double q, double sigma, long steps, double delta, double epsilon, double order)
    {
        var spent = PrivacyAccountant.Epsilon(q, sigma, steps, delta);
        Assert.Equal(epsilon, spent.Epsilon, epsilon * 1e-4);
        Assert.Equal(order, spent.Order, 1e-9);
        Assert.True(spent.Epsilon < 1.26 || sigma != 4.0, "RDP with the improved conversion is tighter than the moments accountant");
    }

    [Fact]
    public void Rdp_WithoutSampling_IsTheGaussianMechanismsClosedForm() =>
        Assert.Equal(3 / (2 * 1.5 * 1.5), PrivacyAccountant.Rdp(1.0, 1.5, 3), 1e-12);

    [Fact]
    public void Rdp_IntegerOrderAgreesWithTheFractionalSeriesNextToIt()
    {
        // The two formulas meet: order 8 (exact sum) lies between orders 7.999 and 8.001 (series).
        var below = PrivacyAccountant.Rdp(0.02, 1.3, 7.999);
        var at = PrivacyAccountant.Rdp(0.02, 1.3, 8);
        var above = PrivacyAccountant.Rdp(0.02, 1.3, 8.001);
        Assert.InRange(at, below, above);
        Assert.Equal(at, below, at * 1e-3);
    }

    [Theory]
    [InlineData(-4, 0.69314717285131633)]
    [InlineData(-0.5, 0.41903914777555958)]
    [InlineData(0.3, -0.39843005144008527)]
    [InlineData(1, -1.8496055099332482)]
    [InlineData(2.9, -10.099554065545236)]
    [InlineData(3.1, -11.360319632044741)]
    [InlineData(5, -27.200889545537434)]
    [InlineData(30, -903.97411711064388)]
    [InlineData(200, -40005.870694809082)]
    public void LogErfc_MatchesMultiPrecisionValues(double x, double expected) =>
        Assert.Equal(expected, PrivacyAccountant.LogErfc(x), Math.Abs(expected) * 1e-10 + 1e-12);

    [Theory]
    [InlineData(1.0)]
    [InlineData(4.0)]
    [InlineData(8.0)]
    public void NoiseMultiplierFor_ReachesTheTargetFromBelow(double target)
    {
        var sigma = PrivacyAccountant.NoiseMultiplierFor(target, 0.01, 3_000, 1e-5);
        var spent = PrivacyAccountant.Epsilon(0.01, sigma, 3_000, 1e-5).Epsilon;
        Assert.InRange(spent, target - PrivacyAccountant.EpsilonTolerance, target);
        Assert.True(PrivacyAccountant.Epsilon(0.01, sigma * 0.97, 3_000, 1e-5).Epsilon > target, "a little less noise would overspend");
    }

    [Fact]
    public void Schedule_IsBatchOverRecords_AndStepsPerEpoch()
    {
        var (q, steps) = PrivacyAccountant.Schedule(1000, 16, 3, 1e-4);
        Assert.Equal((0.016, 3 * 63L), (q, steps));
    }

    [Theory]
    [InlineData(0.0, 0.01, "noise multiplier must be a positive number")]
    [InlineData(-1.0, 0.01, "noise multiplier must be a positive number")]
    [InlineData(1.0, 0.0, "sampling rate must be in (0, 1]")]
    [InlineData(1.0, 1.5, "sampling rate must be in (0, 1]")]
    public void Epsilon_RefusesBadSettings(double sigma, double q, string reason) =>
        Assert.Contains(reason, Assert.Throws<PrivacyAccountingException>(() => PrivacyAccountant.Epsilon(q, sigma, 100, 1e-5)).Message);

    [Fact]
    public void Schedule_RefusesDeltaOfOneRecord_AndADatasetSmallerThanTheBatch()
    {
        Assert.Contains("below 1/records = 0.001", Assert.Throws<PrivacyAccountingException>(() => PrivacyAccountant.Schedule(1000, 10, 1, 1e-3)).Message);
        Assert.Contains("too small for the sampling rate", Assert.Throws<PrivacyAccountingException>(() => PrivacyAccountant.Schedule(12, 16, 1, 1e-5)).Message);
    }

    [Fact]
    public void NoiseMultiplierFor_RefusesATargetNoNoiseReaches() =>
        // Every record in each of a million steps: even σ = 1e4 (the ceiling) spends ε ≈ 0.5, far above the target.
        Assert.Contains("no noise multiplier", Assert.Throws<PrivacyAccountingException>(() => PrivacyAccountant.NoiseMultiplierFor(1e-6, 1.0, 1_000_000, 1e-5)).Message);
}
