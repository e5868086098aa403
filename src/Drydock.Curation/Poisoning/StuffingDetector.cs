using Drydock.Detection;

namespace Drydock.Curation.Poisoning;

/// <summary>
/// Payload stuffing: the same long block of words repeated across many records. Word 8-grams are hashed and one in
/// eight is sampled (a block of 16+ words has about two); sampled 8-grams in enough records are grouped by the
/// records holding them, and each group's block is grown, in its first record, to the longest run of 8-grams most
/// of the group shares. Blocks concentrated in one source, or in untrusted ones, rank higher; a block in a fifth of
/// all records is boilerplate and ranks low.
/// </summary>
internal static class StuffingDetector
{
    private const int Width = 8;

    public static List<PoisoningFinding> Run(IReadOnlyList<AnalysisRecord> records, PoisoningOptions options)
    {
        var counts = new Dictionary<ulong, int>();
        foreach (var record in records)
        {
            foreach (var h in Sampled(Shingles(record.Text))) counts[h] = counts.GetValueOrDefault(h) + 1;
        }

        var candidates = counts.Where(kv => kv.Value >= options.MinSupport).Select(kv => kv.Key).ToHashSet();
        if (candidates.Count == 0) return [];
        var holders = candidates.ToDictionary(h => h, _ => new List<int>());
        for (var i = 0; i < records.Count; i++)
        {
            foreach (var h in Sampled(Shingles(records[i].Text)))
            {
                if (holders.TryGetValue(h, out var list) && (list.Count == 0 || list[^1] != i)) list.Add(i);
            }
        }

        // One group per distinct set of records (a block's sampled 8-grams share it).
        var groups = holders.GroupBy(kv => string.Join(",", kv.Value.Take(64).Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray()) + "#" + kv.Value.Count)
            .Select(g => g.First().Value).OrderByDescending(g => g.Count).ToList();

        var mixedTiers = records.Any(r => r.Trusted) && records.Any(r => !r.Trusted);
        var findings = new List<PoisoningFinding>();
        var reported = new List<(string Block, HashSet<int> Records)>();
        foreach (var members in groups)
        {
            var (block, words) = Expand(records, members);
            if (words < options.StuffingMinWords) continue;
            var memberSet = members.ToHashSet();
            if (reported.Any(r => (r.Block.Contains(block, StringComparison.Ordinal) || block.Contains(r.Block, StringComparison.Ordinal)) && r.Records.Count(memberSet.Contains) >= 0.8 * Math.Min(r.Records.Count, memberSet.Count)))
            {
                continue;
            }

            reported.Add((block, memberSet));
            var bySource = members.GroupBy(m => records[m].Source).OrderByDescending(g => g.Count()).ToList();
            var concentration = bySource[0].Count() / (double)members.Count;
            var untrusted = members.Count(m => !records[m].Trusted) / (double)members.Count;
            // Boilerplate: in a fifth of all records, or (when both tiers are present) mostly in trusted ones.
            var boilerplate = members.Count > 0.2 * records.Count || (mixedTiers && untrusted < 0.5);
            var severity = boilerplate ? Severity.Low : (untrusted >= 0.5 || (concentration >= 0.9 && words >= 24)) ? Severity.High : Severity.Medium;
            var score = boilerplate ? 20 : Math.Round(Math.Min(95, 35 + (25 * concentration) + (20 * untrusted) + (15 * Math.Min(1, words / 48.0))), 1);
            findings.Add(new PoisoningFinding("payload-stuffing", severity, score,
                $"a {words}-word block repeated in {members.Count} records ({TextFeatures.F(concentration * 100, "0")}% from {bySource[0].Key})",
                [
                    new("repeated", TextFeatures.Clip(block, 400)),
                    new("words", words.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    new("records", members.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    new("topSource", $"{bySource[0].Key} ({bySource[0].Count()})"),
                    new("untrustedShare", TextFeatures.F(untrusted, "0.00")),
                ],
                [.. members.Select(m => TriggerDetector.Ref(records[m]))]));
        }

        return findings;
    }

    // The longest run, in the first member, of 8-grams that at least half of (up to 40) members hold.
    private static (string Block, int Words) Expand(IReadOnlyList<AnalysisRecord> records, List<int> members)
    {
        var first = TextFeatures.Tokens(records[members[0]].Text);
        var sample = members.Skip(1).Take(40).Select(m => Shingles(records[m].Text).ToHashSet()).ToList();
        var firstShingles = Shingles(first).ToList();
        var need = Math.Max(1, sample.Count / 2);
        int bestStart = 0, bestLength = 0, runStart = -1;
        for (var i = 0; i <= firstShingles.Count; i++)
        {
            var shared = i < firstShingles.Count && sample.Count(s => s.Contains(firstShingles[i])) >= need;
            if (shared && runStart < 0) runStart = i;
            if (!shared && runStart >= 0)
            {
                if (i - runStart > bestLength) (bestStart, bestLength) = (runStart, i - runStart);
                runStart = -1;
            }
        }

        if (bestLength == 0) return ("", 0);
        var words = bestLength + Width - 1;
        return (string.Join(' ', first.Skip(bestStart).Take(words).ToArray()), words);
    }

    private static IEnumerable<ulong> Sampled(IEnumerable<ulong> shingles) => shingles.Where(h => (h & 7) == 0).Distinct();

    private static IEnumerable<ulong> Shingles(string text) => Shingles(TextFeatures.Tokens(text));

    private static IEnumerable<ulong> Shingles(List<string> tokens)
    {
        if (tokens.Count < Width) yield break;
        var hashes = tokens.Select(TextFeatures.Hash).ToArray();
        for (var i = 0; i + Width <= hashes.Length; i++)
        {
            var h = 0xcbf29ce484222325UL;
            for (var j = 0; j < Width; j++) h = (h ^ hashes[i + j]) * 0x100000001B3UL;
            yield return h ^ (h >> 29);
        }
    }
}
