using Drydock.Datasets;
using Drydock.Evaluation.Targets;

namespace Drydock.Evaluation.Privacy;

/// <summary>
/// Runs membership inference against a target: every text of the members (training records) and non-members (the
/// held-out split) is scored per token under the target, and, with a reference model (the base model), the score
/// is the difference from the reference's.
/// </summary>
public static class MembershipTest
{
    /// <summary>
    /// The record texts of a dataset file in any supported format (every text field of a record, joined), at most
    /// <paramref name="limit"/>; an unreadable record stops the run naming its file and line.
    /// </summary>
    public static IReadOnlyList<string> Texts(string path, int limit)
    {
        var reader = new DatasetReader();
        var texts = new List<string>();
        foreach (var batch in reader.Read(path, reader.Detect(path)))
        {
            foreach (var result in batch.Parse())
            {
                if (result.Record is null) throw new ArgumentException($"{result.Problem!.File}:{result.Problem.Line}: {result.Problem.Reason}");
                if (result.Record.Fields.Count > 0) texts.Add(string.Join("\n", result.Record.Fields.Select(f => f.Text)));
                if (texts.Count >= limit) return texts;
            }
        }

        return texts;
    }

    /// <summary>Scores both sets and evaluates the attack.</summary>
    public static async Task<MembershipResult> RunAsync(ModelTarget target, ModelTarget? reference, IReadOnlyList<string> members, IReadOnlyList<string> nonMembers, CancellationToken cancellationToken)
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
