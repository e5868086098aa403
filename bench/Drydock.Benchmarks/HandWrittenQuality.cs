using System.Globalization;
using System.Text;
using Drydock.Detection;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Bench;

/// <summary>
/// Precision and recall on the project's hand-written labelled lines (<c>bench/quality-data</c>): for each
/// <c>NAME.positives.txt</c> / <c>NAME.negatives.txt</c> pair, a line counts as flagged when a finding of NAME
/// (a type, or <c>internal-url</c> for any internal-host finding of the url category) is reported on it, every
/// rule running. Lines starting with '#' are comments. Prints Markdown.
/// </summary>
internal static class HandWrittenQuality
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);

    // The url types that name an internal host (not shorteners or public raw-IP links).
    private static readonly HashSet<string> s_internalUrlTypes = new(StringComparer.Ordinal) { "internal-domain", "intranet-host", "private-address", "unc-path" };

    public static int Run(string directory)
    {
        var output = new StringBuilder();
        output.AppendLine("| set | positives | found | negatives | flagged | precision | recall |");
        output.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        var misses = Environment.GetEnvironmentVariable("DRYDOCK_QUALITY_MISSES") == "1";
        foreach (var positives in Directory.GetFiles(directory, "*.positives.txt").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(positives)[..^".positives.txt".Length];
            var negatives = Path.Combine(directory, name + ".negatives.txt");
            var pos = Lines(positives);
            var neg = File.Exists(negatives) ? Lines(negatives) : [];
            var found = pos.Count(line => Flagged(name, line, misses ? "missed" : null, expected: true));
            var flagged = neg.Count(line => Flagged(name, line, misses ? "flagged" : null, expected: false));
            var precision = found + flagged == 0 ? 1 : (double)found / (found + flagged);
            var recall = pos.Count == 0 ? 1 : (double)found / pos.Count;
            output.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {pos.Count} | {found} | {neg.Count} | {flagged} | {precision:0.000} | {recall:0.000} |");
        }

        Console.Write(output.ToString());
        return 0;
    }

    private static List<string> Lines(string path) =>
        [.. File.ReadLines(path).Where(l => l.Length > 0 && !l.StartsWith('#'))];

    private static bool Flagged(string name, string line, string? report, bool expected)
    {
        var hit = s_detector.Scan(line).Any(f => name == "internal-url" ? f.Category == Categories.Url && s_internalUrlTypes.Contains(f.Type) : f.Type == name);
        if (report is not null && hit != expected)
        {
            Console.Error.WriteLine($"{name} {report}: {line}");
        }

        return hit;
    }
}
