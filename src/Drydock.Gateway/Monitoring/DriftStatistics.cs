namespace Drydock.Gateway.Monitoring;

/// <summary>
/// The tests <c>drydock monitor</c> applies to a window against its baseline: the population stability index and
/// Pearson's chi-square (with its p-value) for categorical counts, the two-sample Kolmogorov–Smirnov distance for
/// distributions (exact on samples, or on shared histogram bins).
/// </summary>
public static class DriftStatistics
{
    // A bin empty on one side would make PSI infinite: each share is floored at this.
    private const double Floor = 1e-4;

    /// <summary>
    /// The population stability index Σ (w − b)·ln(w / b) over the shares of each category (counts normalised on each
    /// side; a share of zero counts as 0.0001). Rules of thumb: below 0.1 stable, 0.1–0.25 moderate, above 0.25 a shift.
    /// </summary>
    public static double Psi(IReadOnlyList<double> baseline, IReadOnlyList<double> window)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(window);
        if (baseline.Count != window.Count) throw new ArgumentException("baseline and window need the same categories");
        double b = baseline.Sum(), w = window.Sum();
        if (b <= 0 || w <= 0) return 0;
        var psi = 0.0;
        for (var i = 0; i < baseline.Count; i++)
        {
            var pb = Math.Max(baseline[i] / b, Floor);
            var pw = Math.Max(window[i] / w, Floor);
            psi += (pw - pb) * Math.Log(pw / pb);
        }

        return psi;
    }

    /// <summary>
    /// Pearson's chi-square test of homogeneity on a 2 × k table (baseline and window counts per category): the
    /// statistic, its degrees of freedom (categories with a count on either side, less one) and the p-value.
    /// </summary>
    public static (double Statistic, int DegreesOfFreedom, double PValue) ChiSquare(IReadOnlyList<double> baseline, IReadOnlyList<double> window)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(window);
        if (baseline.Count != window.Count) throw new ArgumentException("baseline and window need the same categories");
        double b = baseline.Sum(), w = window.Sum(), n = b + w;
        if (b <= 0 || w <= 0) return (0, 0, 1);
        var statistic = 0.0;
        var used = 0;
        for (var i = 0; i < baseline.Count; i++)
        {
            var column = baseline[i] + window[i];
            if (column <= 0) continue;
            used++;
            var eb = column * b / n;
            var ew = column * w / n;
            statistic += ((baseline[i] - eb) * (baseline[i] - eb) / eb) + ((window[i] - ew) * (window[i] - ew) / ew);
        }

        var df = used - 1;
        return df < 1 ? (0, 0, 1) : (statistic, df, ChiSquareSurvival(statistic, df));
    }

    /// <summary>P(X ≥ <paramref name="x"/>) for a chi-square variable with <paramref name="degreesOfFreedom"/>.</summary>
    public static double ChiSquareSurvival(double x, int degreesOfFreedom) =>
        x <= 0 ? 1 : UpperRegularizedGamma(degreesOfFreedom / 2.0, x / 2.0);

    /// <summary>The two-sample Kolmogorov–Smirnov distance D = sup |F₁(x) − F₂(x)| of two samples.</summary>
    public static double KolmogorovSmirnov(IReadOnlyList<double> first, IReadOnlyList<double> second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (first.Count == 0 || second.Count == 0) return 0;
        var a = first.Order().ToArray();
        var b = second.Order().ToArray();
        int i = 0, j = 0;
        var d = 0.0;
        while (i < a.Length && j < b.Length)
        {
            var x = Math.Min(a[i], b[j]);
            while (i < a.Length && a[i] <= x) i++;
            while (j < b.Length && b[j] <= x) j++;
            d = Math.Max(d, Math.Abs(((double)i / a.Length) - ((double)j / b.Length)));
        }

        return d;
    }

    /// <summary>The Kolmogorov–Smirnov distance between two distributions given as counts in the same bins.</summary>
    public static double KolmogorovSmirnovBinned(IReadOnlyList<double> baseline, IReadOnlyList<double> window)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(window);
        if (baseline.Count != window.Count) throw new ArgumentException("baseline and window need the same bins");
        double b = baseline.Sum(), w = window.Sum();
        if (b <= 0 || w <= 0) return 0;
        double cb = 0, cw = 0, d = 0;
        for (var i = 0; i < baseline.Count; i++)
        {
            cb += baseline[i] / b;
            cw += window[i] / w;
            d = Math.Max(d, Math.Abs(cb - cw));
        }

        return d;
    }

    /// <summary>The asymptotic p-value of a two-sample KS distance <paramref name="d"/> for sample sizes n and m.</summary>
    public static double KolmogorovSmirnovPValue(double d, double n, double m)
    {
        if (n <= 0 || m <= 0 || d <= 0) return 1;
        var en = Math.Sqrt(n * m / (n + m));
        var lambda = (en + 0.12 + (0.11 / en)) * d;
        // Q_KS(λ) = 2 Σ (−1)^(k−1) e^(−2k²λ²)
        var sum = 0.0;
        for (var k = 1; k <= 100; k++)
        {
            var term = 2 * (k % 2 == 1 ? 1 : -1) * Math.Exp(-2 * k * k * lambda * lambda);
            sum += term;
            if (Math.Abs(term) < 1e-12) break;
        }

        return Math.Clamp(sum, 0, 1);
    }

    // Q(a, x) = Γ(a, x) / Γ(a): a series below a + 1, a continued fraction above (Numerical Recipes, 6.2).
    private static double UpperRegularizedGamma(double a, double x)
    {
        if (x < a + 1)
        {
            double sum = 1 / a, term = sum, ap = a;
            for (var n = 0; n < 1000; n++)
            {
                ap++;
                term *= x / ap;
                sum += term;
                if (Math.Abs(term) < Math.Abs(sum) * 1e-15) break;
            }

            return Math.Clamp(1 - (sum * Math.Exp(-x + (a * Math.Log(x)) - LogGamma(a))), 0, 1);
        }

        double bb = x + 1 - a, c = 1 / 1e-300, dd = 1 / bb, h = dd;
        for (var i = 1; i < 1000; i++)
        {
            var an = -i * (i - a);
            bb += 2;
            dd = (an * dd) + bb;
            if (Math.Abs(dd) < 1e-300) dd = 1e-300;
            c = bb + (an / c);
            if (Math.Abs(c) < 1e-300) c = 1e-300;
            dd = 1 / dd;
            var delta = dd * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-15) break;
        }

        return Math.Clamp(Math.Exp(-x + (a * Math.Log(x)) - LogGamma(a)) * h, 0, 1);
    }

    // Lanczos approximation (g = 7, n = 9).
    private static double LogGamma(double x)
    {
        ReadOnlySpan<double> g = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
        if (x < 0.5) return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        x -= 1;
        var sum = g[0];
        for (var i = 1; i < 9; i++) sum += g[i] / (x + i);
        var t = x + 7.5;
        return (0.5 * Math.Log(2 * Math.PI)) + ((x + 0.5) * Math.Log(t)) - t + Math.Log(sum);
    }
}
