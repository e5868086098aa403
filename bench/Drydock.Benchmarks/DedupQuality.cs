using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Drydock.Datasets.Similarity;

namespace Drydock.Bench;

/// <summary>
/// Precision and recall of near-duplicate detection at the default threshold (0.8) on planted duplicates: real
/// assistant answers from hh-rlhf (MIT) as originals, and variants made by word edits (about 5% of words replaced,
/// inserted or deleted), sentence reordering, whitespace and case changes, punctuation changes. A detection is
/// correct when the record is a planted variant and the kept record it is matched to is from the same original.
/// </summary>
internal static class DedupQuality
{
    public static int Run(string shared, double threshold)
    {
        var originals = Answers(Path.Combine(shared, "hh-rlhf/harmless-base_test.jsonl.gz")).Where(t => t.Split(' ').Length >= 40).Distinct().Take(3000).ToList();
        var random = new Random(17);
        var records = new List<(int Group, bool Variant, string Kind, string Text)>();
        for (var g = 0; g < originals.Count; g++)
        {
            records.Add((g, false, "original", originals[g]));
            if (random.NextDouble() < 0.5)
            {
                var kinds = new[] { "edits", "reorder", "whitespace-case", "punctuation", "combined" };
                var kind = kinds[random.Next(kinds.Length)];
                records.Add((g, true, kind, Variant(originals[g], kind, random)));
            }
        }

        var index = new NearDuplicateIndex(threshold);
        var keptGroup = new List<int>();
        var perKind = new SortedDictionary<string, (int Planted, int Found)>(StringComparer.Ordinal);
        int tp = 0, fp = 0, planted = 0;
        foreach (var (group, variant, kind, text) in records)
        {
            var cluster = index.FindOrAdd(NearDuplicateIndex.Signature(text));
            if (variant) planted++;
            if (cluster < 0)
            {
                keptGroup.Add(group);
            }
            else if (variant && keptGroup[cluster] == group)
            {
                tp++;
            }
            else
            {
                fp++;
            }

            if (variant)
            {
                var c = perKind.GetValueOrDefault(kind);
                perKind[kind] = (c.Planted + 1, c.Found + (cluster >= 0 && keptGroup[cluster] == group ? 1 : 0));
            }
        }

        var output = new StringBuilder();
        output.AppendLine(CultureInfo.InvariantCulture, $"{originals.Count} originals, {planted} planted variants, threshold {threshold}: precision {Ratio(tp, tp + fp)}, recall {Ratio(tp, planted)} ({fp} false matches)");
        output.AppendLine();
        output.AppendLine("| variant | planted | found | recall |");
        output.AppendLine("| --- | ---: | ---: | ---: |");
        foreach (var (kind, c) in perKind) output.AppendLine(CultureInfo.InvariantCulture, $"| {kind} | {c.Planted} | {c.Found} | {Ratio(c.Found, c.Planted)} |");
        Console.Write(output);
        return 0;
    }

    private static string Variant(string text, string kind, Random random) => kind switch
    {
        "edits" => Edit(text, random),
        "reorder" => Reorder(text, random),
        "whitespace-case" => random.Next(2) == 0 ? text.ToUpperInvariant().Replace(" ", "  ", StringComparison.Ordinal) : "  " + text.ToLowerInvariant().Replace(". ", ".\n\n", StringComparison.Ordinal) + "\n",
        "punctuation" => text.Replace(",", "", StringComparison.Ordinal).Replace(".", "!", StringComparison.Ordinal).Replace("'", "’", StringComparison.Ordinal),
        _ => Reorder(Edit(text.ToLowerInvariant(), random), random),
    };

    private static string Edit(string text, Random random)
    {
        var words = text.Split(' ').ToList();
        var edits = Math.Max(1, words.Count / 20);
        for (var e = 0; e < edits; e++)
        {
            var at = random.Next(words.Count);
            switch (random.Next(3))
            {
                case 0: words[at] = new[] { "really", "also", "just", "very", "quite", "perhaps" }[random.Next(6)]; break;
                case 1: words.Insert(at, new[] { "indeed", "actually", "simply", "then" }[random.Next(4)]); break;
                default: if (words.Count > 10) words.RemoveAt(at); break;
            }
        }

        return string.Join(" ", words.ToArray());
    }

    private static string Reorder(string text, Random random)
    {
        var sentences = text.Split(". ", StringSplitOptions.RemoveEmptyEntries).ToList();
        if (sentences.Count < 2) return text;
        var a = random.Next(sentences.Count);
        var b = (a + 1 + random.Next(sentences.Count - 1)) % sentences.Count;
        (sentences[a], sentences[b]) = (sentences[b], sentences[a]);
        return string.Join(". ", sentences.ToArray());
    }

    private static IEnumerable<string> Answers(string path)
    {
        using var stream = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            using var doc = JsonDocument.Parse(line);
            foreach (var turn in doc.RootElement.GetProperty("chosen").GetString()!.Split("\n\nAssistant: ").Skip(1))
            {
                yield return turn.Split("\n\nHuman:")[0].Trim();
            }
        }
    }

    private static string Ratio(int a, int b) => b == 0 ? "n/a" : ((double)a / b).ToString("0.000", CultureInfo.InvariantCulture);
}
