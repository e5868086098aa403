using System.Globalization;
using System.Text.RegularExpressions;

namespace Drydock.Bench.Injection;

/// <summary>
/// Keeps the training paraphrases apart from the held-out set: a training text is a near copy of a held-out text when
/// the two share a sequence of five words, or when they share half their distinct words (word-set Jaccard of 0.5 or
/// more). <c>train-semantic</c> refuses to train while any training text is a near copy, naming the file and line.
/// </summary>
internal static partial class NearCopyCheck
{
    private const int Shingle = 5;
    private const double MaxJaccard = 0.5;

    [GeneratedRegex(@"[\p{L}\p{N}']+")]
    private static partial Regex Word();

    public static string[] Words(string text) => Word().Matches(text.ToLowerInvariant()).Select(m => m.Value).ToArray();

    private static HashSet<string> Shingles(string[] words) =>
        Enumerable.Range(0, Math.Max(0, words.Length - Shingle + 1)).Select(i => string.Join(' ', words, i, Shingle)).ToHashSet(StringComparer.Ordinal);

    /// <summary>One message per near copy ("where: text … ~ held-out text …, reason"), and the highest Jaccard seen.</summary>
    public static List<string> Find(IEnumerable<string> heldOut, IEnumerable<(string Where, string Text)> training, out double highestJaccard)
    {
        var held = heldOut.Select(t => (Text: t, Words: Words(t).ToHashSet(StringComparer.Ordinal), Shingles: Shingles(Words(t)))).ToList();
        var found = new List<string>();
        highestJaccard = 0;
        foreach (var (where, text) in training)
        {
            var words = Words(text);
            var set = words.ToHashSet(StringComparer.Ordinal);
            var shingles = Shingles(words);
            foreach (var h in held)
            {
                var union = set.Count + h.Words.Count - set.Count(h.Words.Contains);
                var jaccard = union == 0 ? 0 : (double)set.Count(h.Words.Contains) / union;
                highestJaccard = Math.Max(highestJaccard, jaccard);
                var shared = shingles.FirstOrDefault(h.Shingles.Contains);
                if (shared is null && jaccard < MaxJaccard) continue;
                var reason = shared is not null ? $"shares the words \"{shared}\"" : string.Create(CultureInfo.InvariantCulture, $"word-set Jaccard {jaccard:0.00}");
                found.Add($"{where}: a near copy of the held-out text \"{Cut(h.Text)}\" ({reason})");
                break;
            }
        }

        return found;
    }

    private static string Cut(string text) => text.Length <= 60 ? text : text[..60] + "…";
}
