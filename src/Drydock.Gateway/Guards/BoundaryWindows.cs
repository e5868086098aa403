using Drydock.Detection;

namespace Drydock.Gateway.Guards;

/// <summary>
/// A value split across two texts (two messages, two choices, two tool calls, two fields of a stream) runs across the
/// point where one text gives way to the next in their join. <see cref="Across"/> judges a join of up to
/// <see cref="WholeJoinLimit"/> characters whole, once (on ordinary requests that costs about what judging windows
/// did, and no value can escape a window); a longer join is judged in windows of <see cref="StreamGuard.MaxHold"/>
/// characters on each side of each point (the longest value a rule matches, a PEM block; an encoded run is decoded in
/// its first <c>EncodedText.MaxRunLength</c> characters, fewer), merged, so every value that holds a point lies inside
/// its window and the work is at most one scan of the join.
/// <see cref="Around"/> gives the narrower windows a stream's tail is judged in, chunk by chunk: <see cref="Reach"/>
/// characters on each side, widened to the ends of the run of non-space characters there (a long token, up to
/// <see cref="StreamGuard.MaxTokenHold"/> each way), of a run of single characters or hex pairs with a separator (a
/// spaced-out value, as far), of a run of groups joined by separator runs (<c>EAAC | 7xQ2 | …</c>, the run a stream
/// holds whole and the grouped reading reads: <c>EncodedText.GroupedRunAround</c>, as far), and to a PEM block open
/// across the point (up to <see cref="StreamGuard.MaxHold"/>).
/// </summary>
internal static class BoundaryWindows
{
    /// <summary>
    /// Characters judged on each side of a boundary before widening: more than the longest value with spaces a rule
    /// matches (a quoted secret assignment, <c>client_secret = "…"</c> with up to 256 characters, about 290 in all; a
    /// phone number with spaces; a canary code with separators).
    /// </summary>
    public const int Reach = 512;

    /// <summary>The longest join judged whole (64 KiB of characters); a longer one is judged in windows.</summary>
    public const int WholeJoinLimit = 64 * 1024;

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
            (start, end) = SeparatedRun(text, e, start, end);
            if (Drydock.Detection.Engine.EncodedText.GroupedRunAround(text, e, StreamGuard.MaxTokenHold) is { } run)
            {
                (start, end) = (Math.Min(start, run.Start), Math.Max(end, run.End));
            }

            (start, end) = OpenBlock(text, e, start, end);
            if (start > 0 && char.IsLowSurrogate(text[start])) start--;
            if (end < text.Length && char.IsLowSurrogate(text[end])) end++;
            if (windows.Count > 0 && start <= windows[^1].End) windows[^1] = (windows[^1].Start, Math.Max(windows[^1].End, end));
            else windows.Add((start, end));
        }

        return windows;
    }

    /// <summary>
    /// The findings of <paramref name="judge"/> on <paramref name="text"/> (whole up to <see cref="WholeJoinLimit"/>,
    /// else in windows of <see cref="StreamGuard.MaxHold"/> on each side of each of <paramref name="ends"/>) that run
    /// across one of <paramref name="ends"/>, on spans of <paramref name="text"/>.
    /// </summary>
    public static List<Finding> Across(string text, IReadOnlyList<int> ends, Func<string, IEnumerable<Finding>> judge)
    {
        var found = new List<Finding>();
        foreach (var (start, end) in Wide(text, ends))
        {
            foreach (var f in judge(start == 0 && end == text.Length ? text : text[start..end]))
            {
                var (from, to) = (f.Start + start, f.End + start);
                if (ends.Any(e => from < e && to > e)) found.Add(f with { Start = from, End = to });
            }
        }

        return found;
    }

    // The whole text when it is short enough, else MaxHold characters on each side of each end, merged.
    private static List<(int Start, int End)> Wide(string text, IReadOnlyList<int> ends)
    {
        if (text.Length <= WholeJoinLimit) return ends.Any(e => e > 0 && e < text.Length) ? [(0, text.Length)] : [];
        var windows = new List<(int Start, int End)>();
        foreach (var e in ends.Where(e => e > 0 && e < text.Length).Order())
        {
            var start = Math.Max(0, e - StreamGuard.MaxHold);
            var end = Math.Min(text.Length, e + StreamGuard.MaxHold);
            if (start > 0 && char.IsLowSurrogate(text[start])) start--;
            if (end < text.Length && char.IsLowSurrogate(text[end])) end++;
            if (windows.Count > 0 && start <= windows[^1].End) windows[^1] = (windows[^1].Start, Math.Max(windows[^1].End, end));
            else windows.Add((start, end));
        }

        return windows;
    }

    // A run of single characters or hex byte pairs with one separator between them (A K I A …, 41 4b 49 …) that holds
    // the point: the window holds it from its start to its end (up to MaxTokenHold characters each way).
    private static (int Start, int End) SeparatedRun(string text, int e, int start, int end)
    {
        var head = Math.Min(text.Length, e + 3);
        var from = Drydock.Detection.Engine.EncodedText.OpenSeparatedRun(text.AsSpan(Math.Max(0, e - StreamGuard.MaxTokenHold), head - Math.Max(0, e - StreamGuard.MaxTokenHold)));
        if (from < 0) return (start, end);
        from += Math.Max(0, e - StreamGuard.MaxTokenHold);
        if (from >= start) return (start, end);

        // The run's period and separator (a single character, then its separator; or a pair, then its separator).
        var period = from + 1 < text.Length && text[from + 1] is ' ' or '-' or '.' or '_' ? 2 : 3;
        if (from + period - 1 >= text.Length) return (from, end);
        var separator = text[from + period - 1];
        var at = from;
        var ceiling = Math.Min(text.Length, e + StreamGuard.MaxTokenHold);
        while (at + period < ceiling && text[at + period - 1] == separator) at += period;
        return (from, Math.Max(end, Math.Min(text.Length, at + period)));
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
