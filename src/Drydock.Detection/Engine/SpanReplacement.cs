using System.Text;

namespace Drydock.Detection.Engine;

/// <summary>
/// The one rule every redaction follows (the cleaner's records, the gateway's answers and request log, a trainer's
/// log): spans are replaced in order of start, the longest first where two start together; a span that lies inside
/// one before it is already gone, and one that runs past it replaces what is left of it, so no character of any span
/// stays in the text.
/// </summary>
public static class SpanReplacement
{
    /// <summary>Replaces each span (start inclusive, end exclusive) of <paramref name="text"/> by its replacement.</summary>
    public static string Apply(string text, IEnumerable<(int Start, int End, string Replacement)> spans)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(spans);
        StringBuilder? builder = null;
        var at = 0;
        foreach (var (start, end, replacement) in spans.OrderBy(s => s.Start).ThenByDescending(s => s.End))
        {
            if (end <= at) continue;
            var from = Math.Max(start, at);
            (builder ??= new StringBuilder(text.Length)).Append(text, at, from - at).Append(replacement);
            at = end;
        }

        return builder is null ? text : builder.Append(text, at, text.Length - at).ToString();
    }
}
