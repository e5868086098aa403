namespace Drydock.Evaluation.Privacy;

/// <summary>An observed lower bound on ε, with the attack's rates and their one-sided Clopper–Pearson bounds it rests on.</summary>
public sealed record ObservedEpsilon(double Epsilon, double TruePositiveRate, double FalsePositiveRate, double FalsePositiveUpper, double FalseNegativeUpper, double Confidence);

/// <summary>
/// The empirical privacy audit (Jagielski, Ullman and Oprea 2020, "Auditing Differentially Private Machine Learning"):
/// an (ε, δ)-DP training bounds every membership attack by TPR ≤ e^ε·FPR + δ (and the same with the roles of the
/// error rates swapped), so an attack's measured rates give ε ≥ max(log((1 − δ − FPR)/FNR), log((1 − δ − FNR)/FPR)).
/// With FPR and FNR replaced by their one-sided Clopper–Pearson upper bounds, the bound holds with the stated confidence
/// (each bound at (1 + confidence)/2, so both hold together). Zero when the attack does no better than chance.
/// </summary>
public static class EmpiricalEpsilon
{
    /// <summary>The lower bound from an attack that flagged <paramref name="truePositives"/> of <paramref name="members"/> and <paramref name="falsePositives"/> of <paramref name="nonMembers"/>.</summary>
    public static ObservedEpsilon From(int truePositives, int members, int falsePositives, int nonMembers, double delta, double confidence = 0.95)
    {
        if (members < 1 || nonMembers < 1) throw new ArgumentException("the audit needs at least one member and one non-member");
        if (truePositives < 0 || truePositives > members || falsePositives < 0 || falsePositives > nonMembers) throw new ArgumentException("counts must be within 0 and the number scored");
        if (!(delta >= 0 && delta < 1)) throw new ArgumentException($"δ must be in [0, 1), not {delta}");
        if (!(confidence > 0 && confidence < 1)) throw new ArgumentException($"the confidence must be in (0, 1), not {confidence}");
        var each = (1 + confidence) / 2;
        var fprUpper = Upper(falsePositives, nonMembers, each);
        var fnrUpper = Upper(members - truePositives, members, each);
        double Bound(double numerator, double denominator) => numerator <= 0 ? 0 : denominator <= 0 ? double.PositiveInfinity : Math.Log(numerator / denominator);
        var epsilon = Math.Max(0, Math.Max(Bound(1 - delta - fprUpper, fnrUpper), Bound(1 - delta - fnrUpper, fprUpper)));
        return new ObservedEpsilon(epsilon, truePositives / (double)members, falsePositives / (double)nonMembers, fprUpper, fnrUpper, confidence);
    }

    /// <summary>The one-sided Clopper–Pearson upper bound on a rate of <paramref name="k"/> in <paramref name="n"/>: the p with P(Binomial(n, p) ≤ k) = 1 − confidence.</summary>
    public static double Upper(int k, int n, double confidence)
    {
        if (k >= n) return 1;
        // P(Bin(n, p) ≤ k) = 1 − I_p(k + 1, n − k), decreasing in p: bisect for 1 − confidence.
        double low = k / (double)n, high = 1;
        for (var i = 0; i < 100; i++)
        {
            var mid = (low + high) / 2;
            if (1 - RegularizedBeta(mid, k + 1, n - k) > 1 - confidence) low = mid;
            else high = mid;
        }

        return high;
    }

    // I_x(a, b) by the continued fraction (Numerical Recipes' betacf), with the symmetry for x above the mean.
    internal static double RegularizedBeta(double x, double a, double b)
    {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        var front = Math.Exp(LogGamma(a + b) - LogGamma(a) - LogGamma(b) + a * Math.Log(x) + b * Math.Log(1 - x));
        return x < (a + 1) / (a + b + 2) ? front * Fraction(x, a, b) / a : 1 - front * Fraction(1 - x, b, a) / b;
    }

    private static double Fraction(double x, double a, double b)
    {
        const double tiny = 1e-300;
        double c = 1, d = 1 - (a + b) * x / (a + 1);
        d = Math.Abs(d) < tiny ? 1 / tiny : 1 / d;
        var h = d;
        for (var m = 1; m < 10_000; m++)
        {
            var aa = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
            d = 1 + aa * d;
            d = Math.Abs(d) < tiny ? 1 / tiny : 1 / d;
            c = 1 + aa / c;
            if (Math.Abs(c) < tiny) c = tiny;
            h *= d * c;
            aa = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
            d = 1 + aa * d;
            d = Math.Abs(d) < tiny ? 1 / tiny : 1 / d;
            c = 1 + aa / c;
            if (Math.Abs(c) < tiny) c = tiny;
            var step = d * c;
            h *= step;
            if (Math.Abs(step - 1) < 1e-15) break;
        }

        return h;
    }

    // Lanczos approximation (g = 7, nine coefficients), accurate to about 15 digits for x > 0.
    private static readonly double[] s_lanczos = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

    internal static double LogGamma(double x)
    {
        if (x < 0.5) return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        x -= 1;
        var sum = s_lanczos[0];
        for (var i = 1; i < s_lanczos.Length; i++) sum += s_lanczos[i] / (x + i);
        var t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }
}
