using Drydock.Evaluation.Targets;

namespace Drydock.Evaluation.Privacy;

/// <summary>
/// Runs membership inference against a target: every text of the members (training records) and non-members (the
/// held-out split) is scored per token under the target, and, with a reference model (the base model), the score
/// is the difference from the reference's.
/// </summary>
public static class MembershipTest
{
    /// <summary>Scores both sets and evaluates the attack.</summary>
    public static async Task<MembershipResult> RunAsync(IEvaluationTarget target, IEvaluationTarget? reference, IReadOnlyList<string> members, IReadOnlyList<string> nonMembers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        async Task<double[]> Scores(IReadOnlyList<string> texts) => await Task.WhenAll(texts.Select(async t =>
        {
            var own = await target.ScoreAsync("", t, cancellationToken).ConfigureAwait(false);
            // Rounded so that equal likelihoods summed over different lengths tie instead of differing in the last bits.
            var score = own.LogLikelihood / Math.Max(1, own.Tokens);
            if (reference is null) return Math.Round(score, 9);
            var theirs = await reference.ScoreAsync("", t, cancellationToken).ConfigureAwait(false);
            return Math.Round(score - (theirs.LogLikelihood / Math.Max(1, theirs.Tokens)), 9);
        })).ConfigureAwait(false);
        return Membership.Evaluate(await Scores(members).ConfigureAwait(false), await Scores(nonMembers).ConfigureAwait(false));
    }
}
