using System.Net;
using System.Text.RegularExpressions;
using Drydock.Detection;
using Drydock.Detection.Analyzers;
using Drydock.Detection.Engine;

namespace Drydock.Gateway.Guards;

/// <summary>
/// Registered canaries written with markup or character references between their characters, as a page that renders
/// the answer shows them joined: <c>&lt;b&gt;TA76&lt;/b&gt;-&lt;b&gt;9W5X&lt;/b&gt;-…</c>, <c>TA76 &lt;br&gt; 9W5X …</c>,
/// <c>TA76&lt;!-- x --&gt;-…</c>, <c>TA76&amp;shy;9W5X…</c>. A text holding <c>&lt;</c> or <c>&amp;</c> is read once more
/// for canaries with every HTML tag and comment removed and every reference decoded (each written over its own
/// characters, the rest of them zero-width spaces that matching removes, so offsets stay those of the text). Only the
/// canary matcher reads it: a code is twelve random characters matched by its hash, so an ordinary HTML answer does not
/// trip it.
/// </summary>
internal static partial class RenderedCanaries
{
    /// <summary>Adds to <paramref name="found"/> the canaries of the rendered reading of <paramref name="text"/> (on spans of the text) not already in it.</summary>
    public static void Find(string text, CanaryAnalyzer canaries, List<Finding> found)
    {
        if (canaries.Count == 0 || Read(text) is not { } rendered) return;
        var match = MatchText.Of(rendered);
        List<Finding>? tripped = null;
        canaries.Analyze(match.Text, ref tripped);
        if (tripped is null) return;
        foreach (var f in tripped.ConvertAll(match.ToOriginal))
        {
            if (!found.Exists(g => g.Start == f.Start && g.End == f.End && g.Type == f.Type)) found.Add(f);
        }
    }

    /// <summary>The text with tags and comments removed and references decoded, offset for offset; null when it holds none.</summary>
    internal static string? Read(string text)
    {
        if (text.AsSpan().IndexOfAny('<', '&') < 0) return null;
        char[]? chars = null;
        foreach (Match m in Piece().Matches(text))
        {
            var span = (chars ??= text.ToCharArray()).AsSpan(m.Index, m.Length);
            if (m.Value[0] != '&')
            {
                span.Fill('\u200B');
                continue;
            }

            var reference = m.Value[^1] == ';' ? m.Value : m.Value + ";";
            var decoded = WebUtility.HtmlDecode(reference);
            if (decoded == reference || decoded.Length == 0 || decoded.Length > m.Length) continue;
            decoded.AsSpan().CopyTo(span);
            span[decoded.Length..].Fill('\u200B');
        }

        return chars is null ? null : new string(chars);
    }

    // A comment, a tag, or a character reference (numeric or named, with or without its semicolon).
    [GeneratedRegex(@"<!--[\s\S]{0,256}?-->|</?[A-Za-z][A-Za-z0-9-]{0,31}(?:\s[^<>]{0,256})?/?>|&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?")]
    private static partial Regex Piece();
}
