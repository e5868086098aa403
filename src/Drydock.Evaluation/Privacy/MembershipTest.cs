using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Evaluation.Targets;

namespace Drydock.Evaluation.Privacy;

/// <summary>
/// Runs membership inference against a target: every text of the members (training records) and non-members (the
/// held-out split) is scored per token under the target, and, with a reference model (the base model), the score
/// is the difference from the reference's.
/// </summary>
public static class MembershipTest
{
    /// <summary>The record texts of a JSONL file (every string value of a line, joined), at most <paramref name="limit"/>.</summary>
    public static IReadOnlyList<string> Texts(string path, int limit)
    {
        var texts = new List<string>();
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonNode? node;
            try
            {
                node = JsonNode.Parse(line);
            }
            catch (JsonException e)
            {
                throw new ArgumentException($"{path}:{number}: not a JSON record ({e.Message})");
            }

            var parts = new List<string>();
            Collect(node, parts);
            if (parts.Count > 0) texts.Add(string.Join("\n", parts));
            if (texts.Count >= limit) break;
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

    private static void Collect(JsonNode? node, List<string> parts)
    {
        switch (node)
        {
            case JsonValue v when v.TryGetValue<string>(out var s):
                parts.Add(s);
                break;
            case JsonObject o:
                foreach (var (_, child) in o) Collect(child, parts);
                break;
            case JsonArray a:
                foreach (var child in a) Collect(child, parts);
                break;
        }
    }
}
