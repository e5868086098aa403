namespace Drydock.Evaluation.Privacy;

/// <summary>
/// Exposure of a canary (Carlini et al., "The Secret Sharer"): exposure = log2 |R| − log2 rank, where rank is the
/// canary's place among all |R| possible canaries ordered by the model's likelihood. With a sample of candidates,
/// rank/|R| is estimated by the share of candidates at least as likely as the canary, so exposure = −log2 of that
/// share. When few or no candidates are as likely (the interesting case: a memorised canary), the share is taken
/// from a skew-normal fitted to the candidates' log-likelihoods (method of moments), extrapolating past the sample.
/// Exposure is capped at log2 |R|.
/// </summary>
public static class Exposure
{
    /// <summary>Below this many candidates at least as likely as the canary, the fitted tail is used.</summary>
    public const int MinEmpirical = 10;

    /// <summary>The exposure in bits of a canary with log-likelihood <paramref name="canary"/> among <paramref name="candidates"/>.</summary>
    public static double Compute(double canary, IReadOnlyList<double> candidates, double maxBits)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count < 2) throw new ArgumentException("exposure needs at least two candidates");
        var atLeast = candidates.Count(c => c >= canary);
        double share;
        if (atLeast >= MinEmpirical) share = (double)atLeast / candidates.Count;
        else share = Math.Max(SkewNormal.Fit(candidates).Survival(canary), 1e-300);
        var bits = -Math.Log2(share);
        return bits <= 0 ? 0 : Math.Min(bits, maxBits); // never −0
    }

    /// <summary>
    /// The exposure of each of <paramref name="candidates"/> among the others (as <see cref="Compute"/> gives a canary's
    /// among them): codes that were never planted, scored as a planted one is, for the canary audit's non-members.
    /// </summary>
    public static double[] LeaveOneOut(IReadOnlyList<double> candidates, double maxBits)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count < 3) throw new ArgumentException("leave-one-out exposure needs at least three candidates");
        var sorted = candidates.Order().ToArray();
        var result = new double[candidates.Count];
        for (var i = 0; i < candidates.Count; i++)
        {
            // Others at least as likely: all at least as likely, less itself (binary search for the first not below it).
            int low = 0, high = sorted.Length;
            while (low < high)
            {
                var mid = (low + high) / 2;
                if (sorted[mid] < candidates[i]) low = mid + 1;
                else high = mid;
            }

            var atLeast = sorted.Length - low - 1;
            if (atLeast >= MinEmpirical)
            {
                var bits = -Math.Log2((double)atLeast / (candidates.Count - 1));
                result[i] = bits <= 0 ? 0 : Math.Min(bits, maxBits);
            }
            else
            {
                result[i] = Compute(candidates[i], [.. candidates.Where((_, j) => j != i)], maxBits);
            }
        }

        return result;
    }
}

/// <summary>A skew-normal distribution (location ξ, scale ω, shape α).</summary>
public sealed record SkewNormal(double Location, double Scale, double Shape)
{
    /// <summary>Fits by the method of moments (sample skewness clamped inside the family's range).</summary>
    public static SkewNormal Fit(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var n = values.Count;
        var mean = values.Average();
        var variance = values.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, n - 1);
        var sd = Math.Sqrt(Math.Max(variance, 1e-12));
        var skew = values.Sum(v => Math.Pow((v - mean) / sd, 3)) / n;
        skew = Math.Clamp(skew, -0.99, 0.99);
        var g = Math.Pow(Math.Abs(skew), 2.0 / 3);
        var delta = Math.Sign(skew) * Math.Sqrt(Math.PI / 2 * g / (g + Math.Pow((4 - Math.PI) / 2, 2.0 / 3)));
        var alpha = delta / Math.Sqrt(1 - (delta * delta));
        var omega = sd / Math.Sqrt(1 - (2 * delta * delta / Math.PI));
        var xi = mean - (omega * delta * Math.Sqrt(2 / Math.PI));
        return new SkewNormal(xi, omega, alpha);
    }

    /// <summary>P(X ≥ x) = Φ(−z) + 2 T(z, α).</summary>
    public double Survival(double x)
    {
        var z = (x - Location) / Scale;
        return Math.Clamp(Normal.Survival(z) + (2 * OwenT(z, Shape)), 0, 1);
    }

    // Owen's T function by Simpson's rule on [0, a] (a's sign carries through).
    private static double OwenT(double h, double a)
    {
        if (a == 0) return 0;
        const int steps = 400;
        var width = a / steps;
        double F(double x) => Math.Exp(-0.5 * h * h * (1 + (x * x))) / (1 + (x * x));
        var sum = F(0) + F(a);
        for (var i = 1; i < steps; i++) sum += F(i * width) * (i % 2 == 1 ? 4 : 2);
        return sum * width / 3 / (2 * Math.PI);
    }
}

/// <summary>The standard normal distribution's tail.</summary>
internal static class Normal
{
    /// <summary>P(Z ≥ z), accurate in the far tails (complementary error function, relative error below 1.2e-7).</summary>
    public static double Survival(double z) => 0.5 * Erfc(z / Math.Sqrt(2));

    private static readonly double[] s_coefficients = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];

    private static double Erfc(double x)
    {
        var t = 1 / (1 + (0.5 * Math.Abs(x)));
        var poly = 0.0;
        for (var i = s_coefficients.Length - 1; i >= 0; i--) poly = (poly * t) + s_coefficients[i];
        var r = t * Math.Exp((-x * x) + poly);
        return x >= 0 ? r : 2 - r;
    }
}
