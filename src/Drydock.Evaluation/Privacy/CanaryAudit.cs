using System.Globalization;

namespace Drydock.Evaluation.Privacy;

/// <summary>The canary audit of one repetition count: how many canaries were planted that often, the attack's best rates on them, and the ε it shows.</summary>
/// <param name="Repeats">How many training records hold each of these canaries.</param>
/// <param name="Members">Planted canaries with that count.</param>
/// <param name="NonMembers">Random codes of the same shape never planted, scored the same way.</param>
/// <param name="Group">The bound for the group of <paramref name="Repeats"/> records (the attack's rates and their Clopper–Pearson bounds).</param>
/// <param name="Epsilon">The per-record lower bound this group shows (group privacy undone).</param>
public sealed record CanaryAuditGroup(int Repeats, int Members, int NonMembers, ObservedEpsilon Group, double Epsilon);

/// <summary>The canary audit: the per-record observed ε (the best group's), its confidence and δ, and each repetition count's part.</summary>
public sealed record CanaryAuditResult(double Epsilon, double Confidence, double Delta, IReadOnlyList<CanaryAuditGroup> Groups)
{
    /// <summary>"observed ε ≥ 1.2 from canaries (95 % confidence; 8 planted 16×: TPR 0.875 at FPR 0.000, …)".</summary>
    public string Statement()
    {
        var groups = string.Join("; ", Groups.Select(g => string.Create(CultureInfo.InvariantCulture,
            $"{g.Members} planted {g.Repeats}×: ε ≥ {g.Epsilon:0.###} per record (TPR {g.Group.TruePositiveRate:0.000} at FPR {g.Group.FalsePositiveRate:0.0000} over {g.NonMembers} never planted)")));
        return string.Create(CultureInfo.InvariantCulture, $"observed ε ≥ {Epsilon:0.###} from canaries ({Confidence * 100:0.#} % confidence, δ = {Delta:G3}; {groups})");
    }
}

/// <summary>
/// The empirical privacy audit from planted canaries (Jagielski, Ullman and Oprea 2020; Carlini et al. 2019 for the
/// exposure). Members are the canaries planted in the training data, grouped by how many records hold each; non-members
/// are random codes of the same shape after the same sentence, never planted, scored the same way (exposure among the
/// other candidates). The attack calls a code planted when its exposure reaches a threshold; for each repetition count r
/// and each threshold, its true and false positive rates, replaced by one-sided Clopper–Pearson bounds, give a lower
/// bound ε_r for the group of r records (<see cref="EmpiricalEpsilon.From"/>). A per-record (ε, δ) guarantee gives
/// (rε, r·e^((r−1)ε)·δ) for r records (group privacy), so ε_r shows per-record ε ≥ the ε that solves rε = ε_r(r·e^((r−1)ε)·δ).
/// The result is the best over repetition counts and thresholds, each taken at a confidence raised for the number of
/// (count, threshold) pairs tried (Bonferroni), so it holds at the stated confidence whichever pair gave it.
/// </summary>
public static class CanaryAudit
{
    /// <summary>
    /// Audits <paramref name="members"/> (each planted canary's exposure in bits and the number of training records that
    /// hold it) against <paramref name="nonMembers"/> (exposures of codes never planted).
    /// </summary>
    public static CanaryAuditResult Run(IReadOnlyList<(double Exposure, int Repeats)> members, IReadOnlyList<double> nonMembers, double delta, double confidence = 0.95)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(nonMembers);
        if (members.Count == 0) throw new ArgumentException("the canary audit needs at least one planted canary");
        if (nonMembers.Count == 0) throw new ArgumentException("the canary audit needs codes that were never planted");
        if (members.Any(m => m.Repeats < 1)) throw new ArgumentException("a canary in the audit must be held by at least one training record");
        if (members.Any(m => double.IsNaN(m.Exposure)) || nonMembers.Any(double.IsNaN)) throw new ArgumentException("an exposure is not a number");
        if (!(delta >= 0 && delta < 1)) throw new ArgumentException($"δ must be in [0, 1), not {delta}");
        if (!(confidence > 0 && confidence < 1)) throw new ArgumentException($"the confidence must be in (0, 1), not {confidence}");

        var sortedNon = nonMembers.Order().ToArray();
        int AtLeast(double t) => sortedNon.Length - LowerBound(sortedNon, t);
        var groups = members.GroupBy(m => m.Repeats).OrderBy(g => g.Key).Select(g => (Repeats: g.Key, Scores: g.Select(m => m.Exposure).OrderDescending().ToArray())).ToList();
        var tries = groups.Sum(g => g.Scores.Distinct().Count());
        var each = 1 - ((1 - confidence) / Math.Max(1, tries));

        var results = new List<CanaryAuditGroup>();
        foreach (var (repeats, scores) in groups)
        {
            CanaryAuditGroup? best = null;
            foreach (var threshold in scores.Distinct())
            {
                var tp = scores.Count(s => s >= threshold);
                var fp = AtLeast(threshold);
                var group = EmpiricalEpsilon.From(tp, scores.Length, fp, sortedNon.Length, Math.Min(repeats * delta, 0.999999), each);
                var perRecord = PerRecord(repeats, delta, d => EmpiricalEpsilon.From(tp, scores.Length, fp, sortedNon.Length, d, each).Epsilon);
                if (best is null || perRecord > best.Epsilon) best = new CanaryAuditGroup(repeats, scores.Length, sortedNon.Length, group with { Confidence = confidence }, perRecord);
            }

            results.Add(best!);
        }

        return new CanaryAuditResult(results.Max(g => g.Epsilon), confidence, delta, results);
    }

    /// <summary>
    /// The per-record ε a group bound shows: the ε at which r·ε meets <paramref name="groupBound"/>(r·e^((r−1)ε)·δ) (the
    /// left side grows with ε, the right shrinks, as a larger δ allows more), found by bisection; 0 when the group shows nothing.
    /// </summary>
    internal static double PerRecord(int repeats, double delta, Func<double, double> groupBound)
    {
        double Bound(double epsilon)
        {
            var groupDelta = repeats * Math.Exp((repeats - 1) * epsilon) * delta;
            return groupDelta >= 1 ? 0 : groupBound(groupDelta);
        }

        var high = Bound(0) / repeats;
        if (!(high > 0)) return 0;
        if (double.IsPositiveInfinity(high)) return high;
        var low = 0.0;
        for (var i = 0; i < 60; i++)
        {
            var mid = (low + high) / 2;
            if (repeats * mid < Bound(mid)) low = mid;
            else high = mid;
        }

        return low;
    }

    private static int LowerBound(double[] sorted, double value)
    {
        int low = 0, high = sorted.Length;
        while (low < high)
        {
            var mid = (low + high) / 2;
            if (sorted[mid] < value) low = mid + 1;
            else high = mid;
        }

        return low;
    }
}
