using System.IO.Compression;
using Drydock.Detection;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Bench;

/// <summary>
/// False positives on text written in Cyrillic or Greek: every line of the shared corpora (plain, JSON, JSONL, gzip)
/// that holds a Cyrillic or Greek letter, outside the corpora of secrets and of hidden-text or smuggling attacks, is
/// scanned; a line with any secret or personal-data finding counts. Look-alike letters are folded before the pattern
/// rules, so this is the figure that folding must not raise.
/// </summary>
public static class LookAlikeProse
{
    public static int Run(string dir)
    {
        var detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
        int texts = 0, flagged = 0;
        var types = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(dir, file);
            if (relative.StartsWith("secrets-", StringComparison.Ordinal) || relative.StartsWith("hidden-text", StringComparison.Ordinal)
                || relative.Contains("smuggling", StringComparison.Ordinal) || relative.Contains("homoglyph", StringComparison.Ordinal)) continue;
            if (!(file.EndsWith(".json", StringComparison.Ordinal) || file.EndsWith(".jsonl", StringComparison.Ordinal) || file.EndsWith(".txt", StringComparison.Ordinal) || file.EndsWith(".gz", StringComparison.Ordinal))) continue;
            using var stream = File.OpenRead(file);
            using var reader = new StreamReader(file.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(stream, CompressionMode.Decompress) : stream);
            while (reader.ReadLine() is { } line)
            {
                if (!line.AsSpan().ContainsAnyInRange('\u0370', '\u04FF')) continue;
                texts++;
                var found = detector.Scan(line).Where(f => f.Category is Categories.Secret or Categories.Pii).ToList();
                if (found.Count == 0) continue;
                flagged++;
                foreach (var type in found.Select(f => f.Type).Distinct()) types[type] = types.GetValueOrDefault(type) + 1;
            }
        }

        Console.WriteLine($"lines with Cyrillic or Greek letters: {texts}; with a secret or personal-data finding: {flagged}");
        foreach (var (type, count) in types) Console.WriteLine($"  {type}: {count}");
        return 0;
    }
}
