namespace Drydock.Evaluation.Privacy;

/// <summary>A membership-inference result: AUC, true-positive rate at 1 % false positives, advantage, and the ROC curve.</summary>
public sealed record MembershipResult(double Auc, double TprAt1PercentFpr, double Advantage, IReadOnlyList<(double Fpr, double Tpr)> Roc, int Members, int NonMembers)
{
    /// <summary>The share of member/non-member pairs whose scores tie (0 to 1): each tied pair adds one half to the AUC whatever the model learned.</summary>
    public double TiedPairShare { get; init; }
}

/// <summary>
/// Membership inference by score (Yeom et al.): a record the model was trained on tends to be more likely under it.
/// Scores are per-token log-likelihoods (the loss attack) or their difference from a reference model's (the
/// reference-calibrated attack, which cancels how likely a text is anyway). AUC is the Mann–Whitney statistic;
/// TPR at 1 % FPR takes the threshold at the 99th percentile of non-member scores; advantage = max(TPR − FPR).
/// </summary>
public static class Membership
{
    /// <summary>Evaluates the attack that calls a record a member when its score is high.</summary>
    public static MembershipResult Evaluate(IReadOnlyList<double> members, IReadOnlyList<double> nonMembers)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(nonMembers);
        if (members.Count == 0 || nonMembers.Count == 0) throw new ArgumentException("membership inference needs members and non-members");
        var all = members.Select(s => (Score: s, Member: true)).Concat(nonMembers.Select(s => (Score: s, Member: false))).OrderByDescending(x => x.Score).ToList();
        var roc = new List<(double, double)> { (0, 0) };
        double tp = 0, fp = 0, auc = 0, advantage = 0, tied = 0;
        for (var i = 0; i < all.Count;)
        {
            // Ties move together: one step of the curve per distinct score.
            var j = i;
            double dtp = 0, dfp = 0;
            while (j < all.Count && all[j].Score == all[i].Score)
            {
                if (all[j].Member) dtp++;
                else dfp++;
                j++;
            }

            tied += dtp * dfp;
            auc += dfp / nonMembers.Count * ((tp + (dtp / 2)) / members.Count);
            tp += dtp;
            fp += dfp;
            roc.Add((fp / nonMembers.Count, tp / members.Count));
            advantage = Math.Max(advantage, (tp / members.Count) - (fp / nonMembers.Count));
            i = j;
        }

        var sortedNon = nonMembers.Order().ToList();
        var threshold = sortedNon[Math.Min(sortedNon.Count - 1, (int)Math.Ceiling(0.99 * sortedNon.Count) - 1)];
        var tpr = members.Count(s => s > threshold) / (double)members.Count;
        return new MembershipResult(Math.Round(auc, 4), Math.Round(tpr, 4), Math.Round(advantage, 4), roc, members.Count, nonMembers.Count)
        {
            TiedPairShare = Math.Round(tied / ((double)members.Count * nonMembers.Count), 4),
        };
    }
}
