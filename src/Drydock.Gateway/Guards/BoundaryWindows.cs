using Drydock.Detection;

namespace Drydock.Gateway.Guards;

/// <summary>
/// A value split across two texts (two messages, two choices, two tool calls, two fields of a stream) runs across the
/// point where one text gives way to the next in their join. Only the join's text around those points is judged:
/// <see cref="Reach"/> characters on each side, widened to the ends of the run of non-space characters there (a long
/// token, a JWT or a base64 blob, up to <see cref="StreamGuard.MaxTokenHold"/> characters each way) and to a PEM block
/// open across the point (up to <see cref="StreamGuard.MaxHold"/>): every value the catalogue matches that holds the
/// point lies inside its window. Windows that meet are merged, so the work is at most one scan of the join, and for
/// texts longer than a few hundred characters far less.
/// </summary>
internal static class BoundaryWindows
{
    /// <summary>Characters judged on each side of a boundary before widening (a spaced-out value, a phone number with spaces, a canary code with separators).</summary>
    public const int Reach = 256;

    /// <summary>The windows of <paramref name="text"/> around each of <paramref name="ends"/> (sorted), merged, in order.</summary>
    public static List<(int Start, int End)> Around(string text, IEnumerable<int> ends)
    {
        var windows = new List<(int Start, int End)>();
        foreach (var e in ends)
        {
            if (e <= 0 || e >= text.Length) continue;
            var start = Math.Max(0, e - Reach);
            var end = Math.Min(text.Length, e + Reach);
            var floor = Math.Max(0, e - StreamGuard.MaxTokenHold);
            while (start > floor && !char.IsWhiteSpace(text[start - 1])) start--;
            var ceiling = Math.Min(text.Length, e + StreamGuard.MaxTokenHold);
            while (end < ceiling && !char.IsWhiteSpace(text[end])) end++;
            (start, end) = OpenBlock(text, e, start, end);
            if (start > 0 && char.IsLowSurrogate(text[start])) start--;
            if (end < text.Length && char.IsLowSurrogate(text[end])) end++;
            if (windows.Count > 0 && start <= windows[^1].End) windows[^1] = (windows[^1].Start, Math.Max(windows[^1].End, end));
            else windows.Add((start, end));
        }

        return windows;
    }

    /// <summary>
    /// The findings of <paramref name="judge"/> on the windows of <paramref name="text"/> around <paramref name="ends"/>
    /// that run across one of them, on spans of <paramref name="text"/>.
    /// </summary>
    public static List<Finding> Across(string text, IReadOnlyList<int> ends, Func<string, IEnumerable<Finding>> judge)
    {
        var found = new List<Finding>();
        foreach (var (start, end) in Around(text, ends))
        {
            foreach (var f in judge(text[start..end]))
            {
                var (from, to) = (f.Start + start, f.End + start);
                if (ends.Any(e => from < e && to > e)) found.Add(f with { Start = from, End = to });
            }
        }

        return found;
    }

    // A PEM block whose BEGIN line is before the boundary and whose END line is not: the window holds it from its BEGIN
    // to the END line's closing dashes (or the text's end).
    private static (int Start, int End) OpenBlock(string text, int e, int start, int end)
    {
        var from = Math.Max(0, e - StreamGuard.MaxHold);
        var begin = text.LastIndexOf("-----BEGIN ", e - 1, e - from, StringComparison.Ordinal);
        if (begin < 0 || text.IndexOf("-----END ", begin, e - begin, StringComparison.Ordinal) >= 0) return (start, end);
        var limit = Math.Min(text.Length, begin + StreamGuard.MaxHold);
        var close = text.IndexOf("-----END ", e, limit - e, StringComparison.Ordinal);
        var dashes = close < 0 || close + 9 > limit ? -1 : text.IndexOf("-----", close + 9, limit - close - 9, StringComparison.Ordinal);
        return (Math.Min(start, begin), Math.Max(end, dashes < 0 ? limit : dashes + 5));
    }
}
