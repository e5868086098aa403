using System.Text;
using System.Text.RegularExpressions;

namespace Drydock.Detection.Engine;

/// <summary>
/// E-mail addresses with <c>@</c> and dots spelled out (<c>spelled</c>): <c>maria.lopez (at) fastmail (dot) com</c>,
/// <c>[at]</c>/<c>[dot]</c>, <c>{at}</c>, <c>(period)</c>, <c>[@]</c>/<c>[.]</c>, <c>-at-</c>/<c>-dot-</c>, <c>at-sign</c>, <c>@@</c>,
/// <c>@</c> and <c>.</c> with spaces around them (<c>maria.lopez @ fastmail . com</c>, read as bare words), and the bare
/// words <c> at </c>/<c> dot </c>, read as the address. Bracketed
/// spellings are read as written, a name spelled with dots too (<c>maria dot lopez at …</c>: the run starts at the
/// name's first word, so all of it is redacted); an address with a bare word (<c>maria.lopez at fastmail dot com</c>)
/// only when it is plausible: a known top-level domain, no common or host word in the name or a label of the domain, a
/// name that is not a version or product (<c>gpt-4</c>, <c>2.0</c>), and before a written domain a name written as one
/// (<c>maria.lopez at fastmail.com</c>, not <c>release-1.2 at github.com</c>), so prose is not read as an address.
/// </summary>
internal static partial class EncodedText
{
    private static void SpelledAddresses(string text, ref List<Run>? runs)
    {
        if (!SpelledAt().IsMatch(text)) return;
        foreach (Match m in SpelledAddress().Matches(text))
        {
            var parts = m.Groups["part"].Captures.Select(c => c.Value).ToList();
            var local = string.Join('.', parts);
            var at = m.Groups["at"].Value;
            var labels = new List<string> { m.Groups["first"].Value };
            var bareAt = IsBare(at, "at") || IsBare(at, "@");
            var bare = bareAt || m.Groups["ldot"].Captures.Any(d => IsBare(d.Value, "dot"));
            var spelled = at.Length > 1 || parts.Count > 1;
            var spelledDot = false;
            foreach (Capture dot in m.Groups["dot"].Captures)
            {
                bare |= IsBare(dot.Value, "dot") || IsBare(dot.Value, ".");
                spelledDot |= dot.Value.Length > 1;
            }

            foreach (Capture label in m.Groups["label"].Captures) labels.Add(label.Value);
            if (!(spelled || spelledDot) || labels.Count < 2) continue;

            // "available at github.com", "release-1.2 at github.com", "Anne-Marie at paris.fr": a bare "at" before a
            // written domain is prose unless the name is written as one (maria.lopez, maria_lopez, m.lopez2).
            if (bareAt && !spelledDot && parts.Count == 1 && !WrittenName().IsMatch(local)) continue;
            if (bare && !Plausible(local, labels)) continue;
            var decoded = new StringBuilder(local.Length + 32).Append(local).Append('@').AppendJoin('.', labels).ToString();
            (runs ??= []).Add(new Run(m.Index, m.Index + m.Length, "spelled", decoded));
        }
    }

    // A bare word between two parts of an address: " at ", " dot ", and "@" or "." with white space around them (prose
    // writes "us @ the office"), read as plausible only (a bracketed or hyphenated spelling is read as written).
    private static bool IsBare(string written, string word) =>
        written.Trim().Equals(word, StringComparison.OrdinalIgnoreCase) && (word.Length > 1 || written.Length > 1);

    // An address written with a bare word: a known top-level domain, no common word or host word as a part of the name or
    // a label of the domain, and a name that is not a version or a product ("gpt-4", "2.0", "v1.2", "db-01").
    private static bool Plausible(string local, List<string> labels)
    {
        if (!s_topLevel.Contains(labels[^1]) || VersionShape().IsMatch(local)) return false;
        var words = local.Split(['.', '_', '+', '-'], StringSplitOptions.RemoveEmptyEntries);
        return !words.Any(w => s_commonWords.Contains(w) || s_hostWords.Contains(w))
            && !labels.Take(labels.Count - 1).Any(l => s_commonWords.Contains(l) || s_hostWords.Contains(l));
    }

    // Words of host names, software and releases that a person's address seldom holds ("mail.server at smtp dot com").
    private static readonly HashSet<string> s_hostWords = new(
        ["mail", "server", "smtp", "imap", "pop", "pop3", "ftp", "sftp", "www", "api", "host", "localhost", "db", "prod", "staging", "internal",
         "node", "web", "cdn", "proxy", "release", "version", "model", "build", "download", "package"], StringComparer.OrdinalIgnoreCase);

    // A name before a bare "at" and a written domain: words of letters joined by "." or "_" (digits only at the end).
    [GeneratedRegex(@"^[a-z]{2,}(?:[._][a-z]{2,})+[0-9]{0,4}$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex WrittenName();

    // A version or product number: a name that starts with a number (2.0, v1.2) or a number after a separator (gpt-4, db-01).
    [GeneratedRegex(@"^v?[0-9]|[-._+]v?[0-9]", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex VersionShape();

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
    [GeneratedRegex(@"[(\[{]\s*(?:at|dot|period|at-sign|@|\.)\s*[)\]}]|\s(?:at|dot|at-sign)\s|-(?:at|dot)-|\s@|@\s|@@|\s\.\s", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SpelledAt();

    [GeneratedRegex(@"(?<![\w.%+-])(?<local>(?<part>[a-z0-9][a-z0-9._%+-]{0,63})(?:(?<ldot>\s*[(\[{]\s*(?:dot|period|\.)\s*[)\]}]\s*|\s+dot\s+|\s*-dot-\s*)(?<part>[a-z0-9][a-z0-9._%+-]{0,63})){0,7})(?<at>\s*[(\[{]\s*(?:at|at-sign|@)\s*[)\]}]\s*|\s+(?:at|at-sign)\s+|\s*-at-\s*|\s+@\s*|\s*@\s+|@@?)(?<first>[a-z0-9][a-z0-9-]{0,62})(?:(?<dot>\s*[(\[{]\s*(?:dot|period|\.)\s*[)\]}]\s*|\s+dot\s+|\s*-dot-\s*|\s+\.\s+|\.)(?<label>[a-z0-9][a-z0-9-]{0,62}))+(?![\w-])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SpelledAddress();
}
