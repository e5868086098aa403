using System.Text.Json;

namespace Drydock.Curation.Review;

/// <summary>A reviewer's decision on one record: approve releases it from quarantine, reject drops it.</summary>
public sealed record ReviewDecision(string RecordSha256, string Reviewer, string Decision, string? Note, string? ReviewId, string? File, long? Line);

/// <summary>A decisions file problem, with file, line and field.</summary>
public sealed class ReviewDecisionException(string message) : Exception(message);

/// <summary>Reads decisions files and the review ledger.</summary>
public static class ReviewDecisions
{
    /// <summary>The review ledger's default place (decisions applied, in order; clean reads it).</summary>
    public static readonly string DefaultLedger = Path.Combine(".drydock", "review", "ledger.jsonl");

    /// <summary>
    /// Parses a decisions file (JSONL). Lines whose decision is still empty (an unfilled template) are counted in
    /// <paramref name="undecided"/>; any other problem throws naming file, line and field, before anything is applied.
    /// </summary>
    public static List<ReviewDecision> Parse(string path, out int undecided)
    {
        var decisions = new List<ReviewDecision>();
        var problems = new List<string>();
        undecided = 0;
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (line.Trim().Length == 0) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object) { problems.Add($"{path}:{number}: not a JSON object"); continue; }
                string? Str(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                var decision = Str("decision") ?? "";
                if (decision.Length == 0) { undecided++; continue; }
                if (decision is not ("approve" or "reject")) { problems.Add($"{path}:{number}: field decision: '{decision}' is not approve or reject"); continue; }
                var sha = Str("recordSha256") ?? "";
                if (sha.Length != 64 || !sha.All(Uri.IsHexDigit)) { problems.Add($"{path}:{number}: field recordSha256: missing or not 64 hex digits"); continue; }
                var reviewer = Str("reviewer") ?? "";
                if (reviewer.Trim().Length == 0) { problems.Add($"{path}:{number}: field reviewer: missing (who decided is recorded)"); continue; }
                long? recordLine = root.TryGetProperty("line", out var l) && l.TryGetInt64(out var n) ? n : null;
                decisions.Add(new ReviewDecision(sha.ToLowerInvariant(), reviewer.Trim(), decision, Str("note"), Str("reviewId"), Str("file"), recordLine));
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                problems.Add($"{path}:{number}: not JSON ({e.Message})");
            }
        }

        if (problems.Count > 0) throw new ReviewDecisionException(string.Join("\n", problems.Take(20).ToArray()) + (problems.Count > 20 ? $"\n… {problems.Count - 20} more" : ""));
        return decisions;
    }

    /// <summary>The latest decision per record in a review ledger (empty when there is none).</summary>
    public static Dictionary<string, ReviewDecision> Latest(string ledgerPath)
    {
        var latest = new Dictionary<string, ReviewDecision>(StringComparer.Ordinal);
        if (!File.Exists(ledgerPath)) return latest;
        foreach (var d in Parse(ledgerPath, out _)) latest[d.RecordSha256] = d;
        return latest;
    }
}
