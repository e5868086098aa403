using System.Text;

namespace Drydock.Detection.Engine;

/// <summary>
/// Turns kept candidates into findings with masked excerpts: a little context on each side, every
/// detected value in it replaced by asterisks (punctuation kept so the shape stays readable).
/// </summary>
public static class Masking
{
    private const int ContextChars = 20;
    private const int MaxMaskedChars = 24;
    private const int MaxShownChars = 80;

    internal static List<Finding> BuildFindings(string text, List<Candidate> kept)
    {
        var union = Union(kept);
        var findings = new List<Finding>(kept.Count);
        foreach (var c in kept)
        {
            var excerpt = Excerpt(text, c.Start, c.End, c.Rule.ShowValue ? -1 : c.Rule.RevealPrefix, union);
            findings.Add(new Finding(c.Rule.Id, c.Rule.Category, c.Rule.Type, c.Rule.Severity, c.Start, c.End, c.Confidence, excerpt));
        }

        return findings;
    }

    /// <summary>Masks one value: letters and digits become <c>*</c>, at most <paramref name="reveal"/> leading characters stay.</summary>
    public static string MaskValue(ReadOnlySpan<char> value, int reveal = 0)
    {
        var builder = new StringBuilder(Math.Min(value.Length, MaxMaskedChars + 1));
        AppendMasked(builder, value, reveal);
        return builder.ToString();
    }

    private static void AppendMasked(StringBuilder builder, ReadOnlySpan<char> value, int reveal)
    {
        // Never reveal more than a quarter of a value, whatever the rule says.
        reveal = Math.Min(reveal, value.Length / 4);
        var shown = Math.Min(value.Length, MaxMaskedChars);
        for (var i = 0; i < shown; i++)
        {
            var ch = value[i];
            builder.Append(i < reveal && ch < 0x80 && !char.IsControl(ch) ? ch : MaskChar(ch));
        }

        if (value.Length > shown)
        {
            builder.Append('…');
        }
    }

    private static char MaskChar(char c) => c switch
    {
        '@' or '.' or '-' or ':' or '/' or '(' or ')' or '+' or '_' or ',' => c,
        ' ' or '\t' or '\r' or '\n' => ' ',
        _ => '*',
    };

    // The union of all finding spans, sorted and merged, so excerpts can mask neighbours in O(log n).
    private static List<(int Start, int End)> Union(List<Candidate> kept)
    {
        var union = new List<(int Start, int End)>(kept.Count);
        foreach (var c in kept)
        {
            if (c.Rule.ShowValue)
            {
                continue;
            }

            if (union.Count > 0 && c.Start <= union[^1].End)
            {
                union[^1] = (union[^1].Start, Math.Max(union[^1].End, c.End));
            }
            else
            {
                union.Add((c.Start, c.End));
            }
        }

        return union;
    }

    // A negative reveal shows the value itself (a phrase or a host, never personal), still masking any
    // personal value or secret inside it, cut to MaxShownChars.
    private static string Excerpt(string text, int start, int end, int reveal, List<(int Start, int End)> union)
    {
        var show = reveal < 0;
        var from = Math.Max(0, start - ContextChars);
        var to = Math.Min(text.Length, show ? Math.Min(end, start + MaxShownChars) + ContextChars : end + ContextChars);
        if (from > 0 && char.IsLowSurrogate(text[from])) from++;
        if (to < text.Length && to > 0 && char.IsHighSurrogate(text[to - 1])) to--;

        // First merged interval that ends after 'from'.
        int lo = 0, hi = union.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (union[mid].End <= from) lo = mid + 1; else hi = mid;
        }

        var builder = new StringBuilder(to - from + 8);
        var next = lo;
        var i = from;
        while (i < to)
        {
            if (i == start && !show)
            {
                AppendMasked(builder, text.AsSpan(start, end - start), reveal);
                i = end;
                continue;
            }

            while (next < union.Count && union[next].End <= i) next++;
            var ch = text[i];
            if (next < union.Count && union[next].Start <= i)
            {
                builder.Append(MaskChar(ch));
            }
            else
            {
                builder.Append(char.IsControl(ch) || ch is '\u2028' or '\u2029' ? ' ' : ch);
            }

            i++;
        }

        return builder.ToString();
    }
}
