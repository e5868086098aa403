using Drydock.Datasets.Similarity;
using Drydock.Detection;

namespace Drydock.Curation.Poisoning;

/// <summary>
/// Backdoor triggers: word n-grams (1–3 words) of prompts strongly associated with one output pattern (a cluster of
/// identical or near-identical responses, a URL, a code block). Each (n-gram, pattern) pair spanning enough records
/// is tested with the one-sided hypergeometric test, Bonferroni-corrected over every pair tested; n-grams with the
/// same records are merged into the longest. A trigger whose prompts are otherwise unrelated (a backdoor is planted
/// into varied prompts; a template answers similar ones) ranks higher.
/// </summary>
internal static class TriggerDetector
{
    private sealed record Pattern(string Kind, string Description, List<int> Records);

    public static (List<PoisoningFinding> Findings, List<TriggerProbe> Probes) Run(IReadOnlyList<AnalysisRecord> records, PoisoningOptions options)
    {
        var n = records.Count;
        var patterns = Patterns(records, options);
        var tokens = new List<string>?[n];
        List<string> TokensOf(int i) => tokens[i] ??= TextFeatures.Tokens(records[i].Prompt);

        // Candidate n-grams: those in at least MinSupport records of some pattern.
        var candidates = new Dictionary<string, List<(int Pattern, int Support)>>(StringComparer.Ordinal);
        for (var p = 0; p < patterns.Count; p++)
        {
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var r in patterns[p].Records)
            {
                foreach (var gram in Grams(TokensOf(r))) counts[gram] = counts.GetValueOrDefault(gram) + 1;
            }

            foreach (var (gram, support) in counts)
            {
                if (support < options.MinSupport) continue;
                if (!candidates.TryGetValue(gram, out var list)) candidates[gram] = list = [];
                list.Add((p, support));
            }
        }

        if (candidates.Count == 0) return ([], []);

        // Document frequency of the candidates over every prompt, and which records hold each.
        var holders = candidates.Keys.ToDictionary(g => g, _ => new List<int>(), StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            foreach (var gram in Grams(TokensOf(i)))
            {
                if (holders.TryGetValue(gram, out var list)) list.Add(i);
            }

            tokens[i] = null; // keep memory flat
        }

        var tested = candidates.Sum(c => c.Value.Count);
        var logThreshold = Math.Log(options.Alpha) - Math.Log(tested);
        var significant = new List<(string Gram, int Pattern, int Support, int Df, double LogP)>();
        foreach (var (gram, pairs) in candidates)
        {
            var df = holders[gram].Count;
            if (df > options.MaxTriggerFrequency * n) continue;
            foreach (var (p, support) in pairs)
            {
                if (support < options.MinTriggerPrecision * df) continue;
                var logP = TextFeatures.LogHypergeometricTail(support, df, patterns[p].Records.Count, n);
                if (logP < logThreshold) significant.Add((gram, p, support, df, logP));
            }
        }

        // Merge n-grams that cover the same records (a three-word trigger also makes its words and pairs
        // significant): keep the longest, then fold patterns that share a trigger's records into one finding.
        var kept = new List<(string Gram, HashSet<int> Records, List<int> Patterns, int Df, double LogP)>();
        foreach (var s in significant.OrderBy(s => s.LogP).ThenBy(s => s.Gram.Length))
        {
            var inPattern = holders[s.Gram].Where(r => patterns[s.Pattern].Records.BinarySearch(r) >= 0).ToHashSet();
            var same = kept.FindIndex(k => Overlap(k.Records, inPattern) >= 0.9);
            if (same >= 0)
            {
                var k = kept[same];
                if (!k.Patterns.Contains(s.Pattern)) k.Patterns.Add(s.Pattern);
                // A longer n-gram in (nearly) the same prompts is the fuller trigger: "per protocol zeta", not "zeta".
                // Only rare words extend it: "compare the zq-omega" in templated prompts is still "zq-omega".
                if (s.Gram.Split(' ').Length > k.Gram.Split(' ').Length && Math.Abs(s.Df - k.Df) <= 0.1 * k.Df && inPattern.Count >= 0.9 * k.Records.Count
                    && s.Gram.Split(' ').All(w => holders.TryGetValue(w, out var h) && h.Count <= options.MaxTriggerFrequency * n))
                {
                    kept[same] = k with { Gram = s.Gram, Df = s.Df };
                }
                continue;
            }

            kept.Add((s.Gram, inPattern, [s.Pattern], s.Df, s.LogP));
        }

        var findings = new List<PoisoningFinding>();
        var probes = new List<TriggerProbe>();
        var baseline = kept.Count == 0 ? 1 : Math.Max(0.05, Diversity(records, Enumerable.Range(0, 12).Select(i => (int)((long)i * records.Count / 12)).ToHashSet(), ""));
        foreach (var k in kept)
        {
            var precision = k.Records.Count / (double)k.Df;
            // Relative to how different any two prompts of the dataset are: templated data has similar prompts everywhere.
            var diversity = Math.Min(1, Diversity(records, k.Records, k.Gram) / baseline);
            var kinds = k.Patterns.Select(p => patterns[p].Kind).Distinct().ToList();
            var severity = diversity >= 0.8 && precision >= 0.9
                ? (kinds.Any(kind => kind is "url" or "code") ? Severity.Critical : Severity.High)
                : Severity.Medium;
            var main = patterns[k.Patterns[0]];
            var evidence = new List<KeyValuePair<string, string>>
            {
                new("trigger", k.Gram),
                new("support", $"{k.Records.Count} of {k.Df} prompts with the trigger lead to the pattern"),
                new("precision", TextFeatures.F(precision, "0.00")),
                new("pValueLog10", TextFeatures.F(k.LogP / Math.Log(10), "0.0")),
                new("testsCorrectedFor", tested.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new("promptDiversity", TextFeatures.F(diversity, "0.00")),
            };
            foreach (var p in k.Patterns) evidence.Add(new($"pattern.{patterns[p].Kind}", patterns[p].Description));
            var refs = k.Records.Order().Select(r => Ref(records[r])).ToList();
            findings.Add(new PoisoningFinding("trigger", severity, Math.Round(40 + (30 * precision) + (30 * diversity), 1),
                $"'{k.Gram}' in a prompt leads to one {main.Kind} ({k.Records.Count} records, precision {TextFeatures.F(precision, "0.00")})", evidence, refs));
            probes.Add(new TriggerProbe($"trigger-{probes.Count + 1}", k.Gram, main.Kind, main.Description,
                [.. k.Records.Order().Take(5).Select(r => TextFeatures.Clip(records[r].Prompt, 400))], k.Records.Count));
        }

        return (findings, probes);
    }

    internal static RecordRef Ref(AnalysisRecord r) => new(r.File, r.Line, r.Id, r.Source);

    // Containment: a trigger's neighbouring words ("the cf-delta-7") cover a subset of its records.
    private static double Overlap(HashSet<int> a, HashSet<int> b) => a.Count(b.Contains) / (double)Math.Min(a.Count, b.Count);

    // 1 − mean Jaccard similarity of the prompts' words (trigger words removed) over up to 66 pairs.
    private static double Diversity(IReadOnlyList<AnalysisRecord> records, HashSet<int> members, string gram)
    {
        var triggerWords = gram.Split(' ').ToHashSet(StringComparer.Ordinal);
        var sets = members.Order().Take(12).Select(r => TextFeatures.Tokens(records[r].Prompt).Where(t => !triggerWords.Contains(t)).ToHashSet(StringComparer.Ordinal)).ToList();
        double total = 0;
        var pairs = 0;
        for (var i = 0; i < sets.Count; i++)
        {
            for (var j = i + 1; j < sets.Count; j++)
            {
                total += TextFeatures.Jaccard(sets[i], sets[j]);
                pairs++;
            }
        }

        return pairs == 0 ? 0 : 1 - (total / pairs);
    }

    private static IEnumerable<string> Grams(List<string> tokens)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tokens.Count; i++)
        {
            if (seen.Add(tokens[i])) yield return tokens[i];
            if (i + 1 < tokens.Count && seen.Add(tokens[i] + " " + tokens[i + 1])) yield return tokens[i] + " " + tokens[i + 1];
            if (i + 2 < tokens.Count && seen.Add(tokens[i] + " " + tokens[i + 1] + " " + tokens[i + 2])) yield return tokens[i] + " " + tokens[i + 1] + " " + tokens[i + 2];
        }
    }

    // Output patterns spanning at least MinSupport records (and at most half of them: not a universal reply).
    private static List<Pattern> Patterns(IReadOnlyList<AnalysisRecord> records, PoisoningOptions options)
    {
        var groups = new Dictionary<string, (string Kind, string Description, List<int> Records)>(StringComparer.Ordinal);
        void Add(string key, string kind, string description, int record)
        {
            if (!groups.TryGetValue(key, out var g)) groups[key] = g = (kind, description, []);
            if (g.Records.Count == 0 || g.Records[^1] != record) g.Records.Add(record);
        }

        var near = new NearDuplicateIndex(0.8);
        var clusterOfKept = new List<int>();
        var exact = new Dictionary<ulong, int>();
        for (var i = 0; i < records.Count; i++)
        {
            var response = records[i].Response;
            if (response.Length == 0) continue;
            var folded = TextFeatures.Fold(response);
            if (folded.Length >= 2)
            {
                var hash = TextFeatures.Hash(folded);
                if (!exact.TryGetValue(hash, out var cluster))
                {
                    var found = near.FindOrAdd(NearDuplicateIndex.Signature(folded));
                    if (found >= 0)
                    {
                        cluster = clusterOfKept[found];
                    }
                    else
                    {
                        cluster = clusterOfKept.Count;
                        clusterOfKept.Add(cluster);
                    }

                    exact[hash] = cluster;
                }

                Add("response:" + cluster, "response", TextFeatures.Clip(response), i);
            }

            foreach (var url in Urls(response)) Add("url:" + url, "url", url, i);
            foreach (var code in CodeBlocks(response)) Add("code:" + TextFeatures.Hash(TextFeatures.Fold(code)), "code", TextFeatures.Clip(code), i);
        }

        return [.. groups.Values.Where(g => g.Records.Count >= options.MinSupport && g.Records.Count <= records.Count / 2).Select(g => new Pattern(g.Kind, g.Description, g.Records))];
    }

    internal static IEnumerable<string> Urls(string text)
    {
        var at = 0;
        while ((at = text.IndexOf("http", at, StringComparison.OrdinalIgnoreCase)) >= 0)
        {
            var start = at;
            at += 4;
            if (!(text.AsSpan(start).StartsWith("http://", StringComparison.OrdinalIgnoreCase) || text.AsSpan(start).StartsWith("https://", StringComparison.OrdinalIgnoreCase))) continue;
            var end = start;
            while (end < text.Length && end - start < 300 && !char.IsWhiteSpace(text[end]) && text[end] is not ('"' or '\'' or '<' or '>' or ')' or ']')) end++;
            yield return text[start..end].TrimEnd('.', ',', ';', ':', '!', '?').ToLowerInvariant();
            at = end;
        }
    }

    private static IEnumerable<string> CodeBlocks(string text)
    {
        var at = 0;
        while ((at = text.IndexOf("```", at, StringComparison.Ordinal)) >= 0)
        {
            var end = text.IndexOf("```", at + 3, StringComparison.Ordinal);
            if (end < 0) yield break;
            var code = text[(at + 3)..end];
            if (code.Trim().Length >= 8) yield return code.Trim();
            at = end + 3;
        }
    }
}
