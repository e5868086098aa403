using System.Globalization;
using Drydock.Evaluation.Gate;
using Drydock.Provenance.Registry;

namespace Drydock.Evaluation.Privacy;

/// <summary>
/// The empirical privacy audit of a membership attack, stated beside the accountant's ε: "guaranteed ε ≤ 8, observed
/// ε ≥ 0.9". The observed bound is the best of <see cref="EmpiricalEpsilon.From"/> over the attack's thresholds (every
/// point of its ROC curve), each taken at a confidence raised for the number of thresholds tried (Bonferroni), so the
/// bound holds at the stated confidence whichever threshold gave it. A model trained without differential privacy has
/// only the observed bound.
/// </summary>
public static class PrivacyAudit
{
    /// <summary>The δ the audit uses for a model whose signed statement records none (trained without DP).</summary>
    public const double DefaultDelta = 1e-5;

    /// <summary>The observed lower bound on ε from a membership attack's result, at <paramref name="confidence"/>.</summary>
    public static ObservedEpsilon Observed(MembershipResult result, double delta, double confidence = 0.95)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (!(confidence > 0 && confidence < 1)) throw new ArgumentException($"the confidence must be in (0, 1), not {confidence}");
        var points = result.Roc.Where(p => p.Fpr > 0 || p.Tpr > 0).ToList();
        var each = 1 - ((1 - confidence) / Math.Max(1, points.Count));
        var best = EmpiricalEpsilon.From(0, result.Members, 0, result.NonMembers, delta, each);
        foreach (var (fpr, tpr) in points)
        {
            var observed = EmpiricalEpsilon.From((int)Math.Round(tpr * result.Members), result.Members, (int)Math.Round(fpr * result.NonMembers), result.NonMembers, delta, each);
            if (observed.Epsilon > best.Epsilon) best = observed;
        }

        return best with { Confidence = confidence };
    }

    /// <summary>The ε and δ the model version's signed statement records (the accountant's guarantee), or nulls when it was trained without DP.</summary>
    public static (double? Epsilon, double? Delta) Guaranteed(ModelRecord model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var (epsilon, delta, _) = PrivacyGate.Read(model);
        return (epsilon, delta);
    }

    /// <summary>"guaranteed ε ≤ 8, observed ε ≥ 0.9 (95 % confidence, …)", or only the observed bound without a guarantee.</summary>
    public static string Statement(double? guaranteedEpsilon, ObservedEpsilon observed)
    {
        ArgumentNullException.ThrowIfNull(observed);
        var guarantee = guaranteedEpsilon is { } g ? $"guaranteed ε ≤ {F(g)}" : "no guarantee (trained without differential privacy)";
        return string.Create(CultureInfo.InvariantCulture, $"{guarantee}, observed ε ≥ {F(observed.Epsilon)} ({observed.Confidence * 100:0.#} % confidence; the attack's TPR {observed.TruePositiveRate:0.000} at FPR {observed.FalsePositiveRate:0.000})");
    }

    private static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
