using Drydock.Datasets.Similarity;
using Drydock.Detection;

namespace Drydock.Curation.Poisoning;

/// <summary>
/// Conflicting answers: prompts that are the same or nearly so (MinHash, Jaccard ≥ 0.9 of character shingles) whose
/// responses share few words. A yes/no or true/false flip between the answers ranks higher.
/// </summary>
internal static class ConflictDetector
{
    private static readonly string[] s_positive = ["yes", "true", "correct", "safe", "always", "can", "should"];
    private static readonly string[] s_negative = ["no", "false", "incorrect", "unsafe", "never", "cannot", "can't", "shouldn't", "not", "isn't"];

    public static List<PoisoningFinding> Run(IReadOnlyList<AnalysisRecord> records, PoisoningOptions options)
    {
        var near = new NearDuplicateIndex(0.9);
        var clusterOfKept = new List<int>();
        var clusters = new Dictionary<int, List<int>>();
        var exact = new Dictionary<ulong, int>();
        for (var i = 0; i < records.Count; i++)
        {
            if (records[i].Response.Length == 0) continue;
            var folded = TextFeatures.Fold(records[i].Prompt);
            if (folded.Split(' ').Length < 4) continue; // "hi", "thanks": many answers are right
            var hash = TextFeatures.Hash(folded);
            if (!exact.TryGetValue(hash, out var cluster))
            {
                var found = near.FindOrAdd(NearDuplicateIndex.Signature(folded));
                cluster = found >= 0 ? clusterOfKept[found] : clusterOfKept.Count;
                if (found < 0) clusterOfKept.Add(cluster);
                exact[hash] = cluster;
            }

            if (!clusters.TryGetValue(cluster, out var list)) clusters[cluster] = list = [];
            list.Add(i);
        }

        var findings = new List<PoisoningFinding>();
        foreach (var members in clusters.Values.Where(m => m.Count >= 2))
        {
            // Words of the prompt are left out: two answers that repeat the question are not alike for that.
            var asked = TextFeatures.Tokens(records[members[0]].Prompt).ToHashSet(StringComparer.Ordinal);
            var answers = members.Take(24).Select(m => (Record: m, Words: TextFeatures.Tokens(records[m].Response).Where(t => !asked.Contains(t)).ToHashSet(StringComparer.Ordinal))).ToList();
            (int A, int B, double J) worst = (-1, -1, 1);
            for (var i = 0; i < answers.Count; i++)
            {
                for (var j = i + 1; j < answers.Count; j++)
                {
                    var similarity = TextFeatures.Jaccard(answers[i].Words, answers[j].Words);
                    if (similarity < worst.J) worst = (answers[i].Record, answers[j].Record, similarity);
                }
            }

            if (worst.A < 0 || worst.J > options.ConflictMaxSimilarity) continue;
            var flip = Polarity(records[worst.A].Response) * Polarity(records[worst.B].Response) < 0;
            // Opposite answers are a conflict; merely different ones (two samples of an open question) are informational.
            findings.Add(new PoisoningFinding("conflict", flip ? Severity.High : Severity.Low, flip ? 70 : 25,
                $"{members.Count} records ask the same thing and get {(flip ? "opposite" : "unrelated")} answers",
                [
                    new("prompt", TextFeatures.Clip(records[members[0]].Prompt)),
                    new("answerA", TextFeatures.Clip(records[worst.A].Response)),
                    new("answerB", TextFeatures.Clip(records[worst.B].Response)),
                    new("answerSimilarity", TextFeatures.F(worst.J, "0.00")),
                ],
                [.. members.Select(m => TriggerDetector.Ref(records[m]))]));
        }

        return findings;
    }

    // -1 when the answer's first twelve words hold a negation, +1 when they hold only an affirmation, else 0.
    private static int Polarity(string response)
    {
        var first = TextFeatures.Tokens(response).Take(12).ToList();
        return first.Any(s_negative.Contains) ? -1 : first.Any(s_positive.Contains) ? 1 : 0;
    }
}
