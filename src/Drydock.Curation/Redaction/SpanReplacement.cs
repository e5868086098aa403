using System.Text;

namespace Drydock.Curation.Redaction;

/// <summary>Replaces spans of a text (the cleaner's redactions).</summary>
internal static class SpanReplacement
{
    /// <summary>Replaces each span by its replacement, in order of start; of overlapping spans the first (then the longest) wins.</summary>
    public static string Apply(string text, List<(int Start, int End, string Replacement)> redactions)
    {
        if (redactions.Count == 0) return text;
        var builder = new StringBuilder(text.Length);
        var at = 0;
        foreach (var (start, end, replacement) in redactions.OrderBy(r => r.Start).ThenByDescending(r => r.End))
        {
            if (start < at) continue;
            builder.Append(text, at, start - at).Append(replacement);
            at = end;
        }

        return builder.Append(text, at, text.Length - at).ToString();
    }
}
