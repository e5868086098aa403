using System.Text;
using System.Text.RegularExpressions;

namespace Drydock.Detection.Engine;

/// <summary>
/// E-mail addresses with <c>@</c> and dots spelled out (<c>spelled</c>): <c>maria.lopez (at) fastmail (dot) com</c>,
/// <c>[at]</c>/<c>[dot]</c>, <c>{at}</c>, and the bare words <c> at </c>/<c> dot </c>, read as the address. Bracketed
/// spellings are read as written; an address with a bare word (<c>maria.lopez at fastmail dot com</c>) only when its
/// domain is plausible: a known top-level domain, and no common word as the name or a label of the domain, so prose
/// ("meet at the dot com bubble") is not read as an address.
/// </summary>
internal static partial class EncodedText
{
    private static void SpelledAddresses(string text, ref List<Run>? runs)
    {
        if (!SpelledAt().IsMatch(text)) return;
        foreach (Match m in SpelledAddress().Matches(text))
        {
            var local = m.Groups["local"].Value;
            var at = m.Groups["at"].Value;
            var labels = new List<string> { m.Groups["first"].Value };
            var bareAt = at.Trim().Equals("at", StringComparison.OrdinalIgnoreCase);
            var bare = bareAt;
            var spelled = at.Trim().Length > 1;
            var spelledDot = false;
            foreach (Capture dot in m.Groups["dot"].Captures)
            {
                bare |= dot.Value.Trim().Equals("dot", StringComparison.OrdinalIgnoreCase);
                spelledDot |= dot.Value.Trim().Length > 1;
            }

            foreach (Capture label in m.Groups["label"].Captures) labels.Add(label.Value);
            if (!(spelled || spelledDot) || labels.Count < 2) continue;

            // "available at github.com": a bare "at" before a written domain is prose unless the name looks like one.
            if (bareAt && !spelledDot && !local.AsSpan().ContainsAny(s_nameMarks)) continue;
            if (bare && (!s_topLevel.Contains(labels[^1]) || s_commonWords.Contains(local) || labels.Take(labels.Count - 1).Any(s_commonWords.Contains))) continue;
            var decoded = new StringBuilder(local.Length + 32).Append(local).Append('@').AppendJoin('.', labels).ToString();
            (runs ??= []).Add(new Run(m.Index, m.Index + m.Length, "spelled", decoded));
        }
    }

    // What makes a name before a bare "at" look like an address's name rather than a word.
    private static readonly System.Buffers.SearchValues<char> s_nameMarks = System.Buffers.SearchValues.Create("._+-0123456789");

    // Top-level domains an address with a bare "at" or "dot" must end in.
    private static readonly HashSet<string> s_topLevel = new(
        ["com", "org", "net", "edu", "gov", "mil", "int", "io", "co", "ai", "dev", "app", "info", "biz", "me", "us", "uk", "de", "fr", "es", "it", "nl",
         "be", "ch", "at", "se", "no", "dk", "fi", "pl", "cz", "pt", "ie", "ru", "ua", "jp", "cn", "kr", "in", "br", "mx", "ar", "ca", "au", "nz", "za",
         "email", "mail", "online", "tech", "xyz"], StringComparer.OrdinalIgnoreCase);

    // Words of prose that are not an address's name or domain ("meet at the dot com bubble", "call me at home dot").
    private static readonly HashSet<string> s_commonWords = new(
        ["the", "a", "an", "this", "that", "these", "those", "my", "your", "our", "their", "his", "her", "its", "me", "you", "us", "them", "him",
         "it", "we", "they", "i", "he", "she", "work", "home", "school", "least", "all", "once", "first", "last", "night", "noon", "some", "any",
         "one", "time", "times", "look", "looking", "arrive", "arrived", "meet", "be", "is", "was", "are", "were", "and", "or", "but", "not",
         "stop", "stopped", "point", "end", "best", "most", "nothing", "something", "what", "where", "which", "who", "how"], StringComparer.OrdinalIgnoreCase);

    // Cheap test first: a spelled "at" or "dot" anywhere in the text.
    [GeneratedRegex(@"[(\[{]\s*(?:at|dot)\s*[)\]}]|\s(?:at|dot)\s", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SpelledAt();

    [GeneratedRegex(@"(?<![\w.%+-])(?<local>[a-z0-9][a-z0-9._%+-]{0,63})(?<at>\s*[(\[{]\s*at\s*[)\]}]\s*|\s+at\s+|@)(?<first>[a-z0-9][a-z0-9-]{0,62})(?:(?<dot>\s*[(\[{]\s*dot\s*[)\]}]\s*|\s+dot\s+|\.)(?<label>[a-z0-9][a-z0-9-]{0,62}))+(?![\w-])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SpelledAddress();
}
