using System.Globalization;

namespace Drydock.Training;

/// <summary>The (ε, δ) a training run spends, and the Rényi order at which the bound is tightest.</summary>
public sealed record PrivacySpent(double Epsilon, double Delta, double Order);

/// <summary>
/// The privacy accountant of DP-SGD: Rényi differential privacy (RDP) of the Poisson-subsampled Gaussian mechanism
/// (Mironov, Talwar and Zhang 2019, "Rényi Differential Privacy of the Sampled Gaussian Mechanism": the exact sum for
/// integer orders, the two-sided series with erfc terms for fractional ones — the method of TF-Privacy's and Opacus's
/// <c>compute_rdp</c>), composed over the steps, then converted to (ε, δ) with the conversion of Balle et al. 2020
/// ("Hypothesis Testing Interpretations and Renyi Differential Privacy", Theorem 21), which is what Opacus's
/// <c>get_privacy_spent</c> and TF-Privacy's <c>compute_epsilon</c> use:
/// ε = RDP(α) + log((α−1)/α) − (log δ + log α)/(α−1), minimised over the orders α.
/// </summary>
public static class PrivacyAccountant
{
    /// <summary>The Rényi orders tried (Opacus's default: 1.1 to 10.9 by 0.1, then 12 to 63).</summary>
    public static IReadOnlyList<double> Orders { get; } = [.. Enumerable.Range(1, 99).Select(x => 1 + x / 10.0), .. Enumerable.Range(12, 52).Select(x => (double)x)];

    /// <summary>The ε searched for by <see cref="NoiseMultiplierFor"/> is met to within this much (below the target, never above).</summary>
    public const double EpsilonTolerance = 0.01;

    private const double MaxNoiseMultiplier = 1e4;

    /// <summary>RDP of one step of the sampled Gaussian mechanism at order <paramref name="order"/> (&gt; 1).</summary>
    public static double Rdp(double samplingRate, double noiseMultiplier, double order)
    {
        CheckRate(samplingRate);
        CheckNoise(noiseMultiplier);
        if (!(order > 1) || double.IsInfinity(order)) throw new PrivacyAccountingException($"the Rényi order must be finite and above 1, not {F(order)}");
        if (samplingRate == 1.0) return order / (2 * noiseMultiplier * noiseMultiplier);
        var logA = order == Math.Floor(order) ? LogAInteger(samplingRate, noiseMultiplier, (int)order) : LogAFraction(samplingRate, noiseMultiplier, order);
        return logA / (order - 1);
    }

    /// <summary>The (ε, δ) spent by <paramref name="steps"/> steps with sampling rate q and noise multiplier σ.</summary>
    public static PrivacySpent Epsilon(double samplingRate, double noiseMultiplier, long steps, double delta)
    {
        CheckRate(samplingRate);
        CheckNoise(noiseMultiplier);
        if (steps < 1) throw new PrivacyAccountingException($"the number of steps must be at least 1, not {steps}");
        if (!(delta > 0 && delta < 1)) throw new PrivacyAccountingException($"δ must be in (0, 1), not {F(delta)}");
        var best = new PrivacySpent(double.PositiveInfinity, delta, double.NaN);
        foreach (var a in Orders)
        {
            var rdp = steps * Rdp(samplingRate, noiseMultiplier, a);
            var epsilon = rdp + Math.Log((a - 1) / a) - (Math.Log(delta) + Math.Log(a)) / (a - 1);
            if (epsilon < best.Epsilon) best = best with { Epsilon = Math.Max(0, epsilon), Order = a };
        }

        return best;
    }

    /// <summary>
    /// The smallest noise multiplier (to <see cref="EpsilonTolerance"/> in ε) whose run spends at most
    /// <paramref name="targetEpsilon"/>: doubled until the target is met, then bisected.
    /// </summary>
    public static double NoiseMultiplierFor(double targetEpsilon, double samplingRate, long steps, double delta)
    {
        if (!(targetEpsilon > 0) || double.IsInfinity(targetEpsilon)) throw new PrivacyAccountingException($"the target ε must be a positive number, not {F(targetEpsilon)}");
        double low = 0, high = 1;
        while (Epsilon(samplingRate, high, steps, delta).Epsilon > targetEpsilon)
        {
            low = high;
            high *= 2;
            if (high > MaxNoiseMultiplier)
                throw new PrivacyAccountingException($"no noise multiplier up to {F(MaxNoiseMultiplier)} reaches ε = {F(targetEpsilon)} with sampling rate {F(samplingRate)} over {steps} steps at δ = {F(delta)} (sample less, train fewer steps, or allow a larger ε)");
        }

        for (var i = 0; i < 100; i++)
        {
            var mid = (low + high) / 2;
            var epsilon = Epsilon(samplingRate, mid, steps, delta).Epsilon;
            if (epsilon > targetEpsilon) low = mid;
            else high = mid;
            if (targetEpsilon - Epsilon(samplingRate, high, steps, delta).Epsilon <= EpsilonTolerance) return high;
        }

        throw new PrivacyAccountingException($"the search for the noise multiplier for ε = {F(targetEpsilon)} did not converge");
    }

    /// <summary>
    /// The sampling rate and steps of DP-SGD over <paramref name="records"/> records: expected batch size over records
    /// (Poisson sampling), and ⌈records / batch⌉ steps per epoch. Refuses δ ≥ 1/records and a dataset smaller than the batch.
    /// </summary>
    public static (double SamplingRate, long Steps) Schedule(int records, int batchSize, int epochs, double delta)
    {
        if (records < 1) throw new PrivacyAccountingException("the dataset has no records");
        if (batchSize < 1) throw new PrivacyAccountingException($"the batch size must be at least 1, not {batchSize}");
        if (epochs < 1) throw new PrivacyAccountingException($"epochs must be at least 1, not {epochs}");
        if (batchSize > records) throw new PrivacyAccountingException($"the dataset ({records} records) is too small for the sampling rate: the expected batch of {batchSize} exceeds it (q = {F((double)batchSize / records)} > 1)");
        if (!(delta > 0) || delta >= 1.0 / records) throw new PrivacyAccountingException($"δ = {F(delta)} must be above 0 and below 1/records = {F(1.0 / records)} ({records} records): a larger δ allows leaking a whole record");
        return ((double)batchSize / records, (long)epochs * ((records + batchSize - 1) / batchSize));
    }

    private static void CheckRate(double q)
    {
        if (!(q > 0 && q <= 1)) throw new PrivacyAccountingException($"the sampling rate must be in (0, 1], not {F(q)}");
    }

    private static void CheckNoise(double sigma)
    {
        if (!(sigma > 0) || double.IsInfinity(sigma)) throw new PrivacyAccountingException($"the noise multiplier must be a positive number, not {F(sigma)} (without noise there is no privacy guarantee)");
    }

    private static string F(double v) => v.ToString("G4", CultureInfo.InvariantCulture);

    // log A_α for integer α: log Σ_i C(α,i) q^i (1−q)^(α−i) exp((i²−i)/(2σ²)).
    private static double LogAInteger(double q, double sigma, int alpha)
    {
        var logA = double.NegativeInfinity;
        var logBinomial = 0.0;
        for (var i = 0; i <= alpha; i++)
        {
            if (i > 0) logBinomial += Math.Log(alpha - i + 1) - Math.Log(i);
            var term = logBinomial + i * Math.Log(q) + (alpha - i) * Math.Log(1 - q) + (i * (double)i - i) / (2 * sigma * sigma);
            logA = LogAdd(logA, term);
        }

        return logA;
    }

    // log A_α for fractional α: the two series of Mironov et al. 2019 (Section 3.3), summed until their terms are below e^-30.
    private static double LogAFraction(double q, double sigma, double alpha)
    {
        double logA0 = double.NegativeInfinity, logA1 = double.NegativeInfinity;
        var z0 = sigma * sigma * Math.Log(1 / q - 1) + 0.5;
        double logCoefficient = 0, sign = 1;
        for (var i = 0; ; i++)
        {
            if (i > 0)
            {
                var factor = (alpha - i + 1) / i;
                if (factor == 0) break;
                logCoefficient += Math.Log(Math.Abs(factor));
                sign *= Math.Sign(factor);
            }

            var j = alpha - i;
            var logT0 = logCoefficient + i * Math.Log(q) + j * Math.Log(1 - q);
            var logT1 = logCoefficient + j * Math.Log(q) + i * Math.Log(1 - q);
            var logE0 = Math.Log(0.5) + LogErfc((i - z0) / (Math.Sqrt(2) * sigma));
            var logE1 = Math.Log(0.5) + LogErfc((z0 - j) / (Math.Sqrt(2) * sigma));
            var logS0 = logT0 + (i * (double)i - i) / (2 * sigma * sigma) + logE0;
            var logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
            if (sign > 0)
            {
                logA0 = LogAdd(logA0, logS0);
                logA1 = LogAdd(logA1, logS1);
            }
            else
            {
                logA0 = LogSub(logA0, logS0);
                logA1 = LogSub(logA1, logS1);
            }

            if (Math.Max(logS0, logS1) < -30) break;
            if (i > 100_000) throw new PrivacyAccountingException($"the RDP series at order {F(alpha)} did not converge (q = {F(q)}, σ = {F(sigma)})");
        }

        return LogAdd(logA0, logA1);
    }

    private static double LogAdd(double x, double y)
    {
        double a = Math.Min(x, y), b = Math.Max(x, y);
        return double.IsNegativeInfinity(a) ? b : Math.Log(1 + Math.Exp(a - b)) + b;
    }

    private static double LogSub(double x, double y)
    {
        if (x < y) throw new PrivacyAccountingException("the RDP series went negative (numerical failure): use other noise or sampling settings");
        if (double.IsNegativeInfinity(y)) return x;
        if (x == y) return double.NegativeInfinity;
        var d = x - y;
        // log(e^x − e^y) = y + log(e^(x−y) − 1); for large x−y that is x + log(1 − e^(y−x)).
        return d > 700 ? x + Math.Log(1 - Math.Exp(-d)) : Math.Log(Math.Exp(d) - 1) + y;
    }

    /// <summary>log erfc(x), accurate in the far tail where erfc(x) itself underflows.</summary>
    internal static double LogErfc(double x)
    {
        if (x > 3)
        {
            // Continued fraction erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))) by modified Lentz.
            const double tiny = 1e-300;
            var f = x;
            var c = x;
            var d = 0.0;
            for (var n = 1; n < 500; n++)
            {
                var an = n / 2.0;
                d = x + an * d;
                d = Math.Abs(d) < tiny ? 1 / tiny : 1 / d;
                c = x + an / c;
                if (Math.Abs(c) < tiny) c = tiny;
                var delta = c * d;
                f *= delta;
                if (Math.Abs(delta - 1) < 1e-16) break;
            }

            return -x * x - 0.5 * Math.Log(Math.PI) - Math.Log(f);
        }

        if (x < -3) return Math.Log(2 - Math.Exp(LogErfc(-x)));
        // erf(x) = 2/√π · e^(−x²) · Σ 2^n x^(2n+1) / (1·3·…·(2n+1)): positive terms, no cancellation for |x| ≤ 3.
        var term = x;
        var sum = x;
        for (var n = 1; n < 200; n++)
        {
            term *= 2 * x * x / (2 * n + 1);
            sum += term;
            if (Math.Abs(term) < 1e-17 * Math.Abs(sum)) break;
        }

        var erf = 2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x) * sum;
        return Math.Log(1 - erf);
    }
}

/// <summary>Privacy settings the accountant cannot account for (the message says why): exit code 2.</summary>
public sealed class PrivacyAccountingException(string message) : Exception(message);
