using System.Text;
using Drydock.Detection;

namespace Drydock.Gateway.Guards;

/// <summary>
/// The last characters of every text of a stream, in the order they arrived, whatever choice and field they belong to
/// (half a key in <c>delta.reasoning_content</c>, half in <c>delta.content</c>; or across two choices): each stream guard
/// reads only its own field, so a value split across fields is whole only here. It is judged with each chunk, before
/// anything of that chunk leaves, around the points where one field's text gives way to another's
/// (<see cref="BoundaryWindows"/>); a finding that runs across such a point is a finding of the stream. A tool call's
/// arguments are JSON: their string values, read as they arrive, go into a second tail of their own (see
/// <see cref="ArgumentValues"/>), where a value split across two calls is whole without the <c>"}{"part":"</c> between
/// its halves. Bounded: the tail keeps the longest value a stream guard holds back (a PEM block,
/// <see cref="StreamGuard.MaxHold"/> characters) and the hold-back window; a window that ended before the newest text
/// was judged whole and is not judged again, so a chunk costs one scan of the windows that reach its text.
/// </summary>
internal sealed class CombinedTail(int window)
{
    /// <summary>The fewest characters kept.</summary>
    public const int MinLength = 256;

    private readonly Tail _texts = new(Length(window));
    private readonly Tail _values = new(Length(window));

    // The texts outside the choices that were new for their path, in the order they arrived (x_a in one chunk, x_b in
    // the next): joined among themselves, whatever the choices said between them.
    private readonly Tail _outside = new(Length(window));
    private readonly Dictionary<(int Choice, string Slot), ArgumentValues> _arguments = [];

    // The strings a stream repeats chunk after chunk outside the texts its stream guards hold back, by path: the value
    // last seen and the tail of the values that path has had, each chunk's value its own piece.
    private readonly Dictionary<string, (string Last, Tail Tail)> _repeated = new(StringComparer.Ordinal);
    private int _chunk;

    // How many characters each tail keeps.
    private static int Length(int window) => Math.Max(MinLength, Math.Max(window + Drydock.Detection.Analyzers.CanaryAnalyzer.MaxCodeLength, StreamGuard.MaxHold + BoundaryWindows.Reach));

    /// <summary>Adds a text of a field as it arrived.</summary>
    public void Add(int choice, string slot, string text)
    {
        _texts.Add(choice, slot, text);
        if (!slot.EndsWith(".arguments", StringComparison.Ordinal)) return;
        if (!_arguments.TryGetValue((choice, slot), out var values)) _arguments[(choice, slot)] = values = new ArgumentValues();
        _values.Add(choice, slot, values.Read(text));
    }

    /// <summary>
    /// Adds a string the stream's guards do not hold back (a field outside the choices, an error event's message, a
    /// structural field such as a tool call's id, a number read as text) as it arrived in a chunk. A client may join a
    /// path's values chunk after chunk (<c>AKIAGNSU</c>, then <c>V3QBWQSDXU6S</c>): a value that differs from the path's
    /// last one is a new piece of that path's own tail, judged across the point where it joins the earlier values; a
    /// value repeated unchanged (an id, a model name in every chunk) adds nothing. Paths are joined across array elements
    /// (<c>tool_calls[#0].id</c> and <c>tool_calls[#1].id</c> share one tail): a key may be split across the ids of two
    /// tool calls as well as across two chunks of one.
    /// </summary>
    public void AddRepeated(string path, string value) => AddPath(path, value, text: false);

    /// <summary>
    /// Adds a text outside the choices (a provider's own field, an error event's message) as <see cref="AddRepeated(string, string)"/>
    /// does, and, when it is new for its path, to the texts of the stream in the order they arrived too: a value split
    /// between two such fields (<c>x_a</c> in one chunk, <c>x_b</c> in the next), or between one and the content, is
    /// whole there.
    /// </summary>
    public void AddOutside(string path, string value) => AddPath(path, value, text: true);

    private void AddPath(string path, string value, bool text)
    {
        var joined = AcrossElements(path);
        _repeated.TryGetValue(joined, out var seen);
        if (seen.Tail is not null && string.Equals(seen.Last, value, StringComparison.Ordinal)) return;
        var tail = seen.Tail ?? new Tail(Length(window));
        tail.Add(++_chunk, joined, value);
        _repeated[joined] = (value, tail);
        if (!text) return;
        _texts.Add(-1, path, value);
        _outside.Add(-1, path, value);
    }

    // The path with every array element's position or index left out (a[#3].b → a[].b).
    private static string AcrossElements(string path)
    {
        if (path.IndexOf('[', StringComparison.Ordinal) < 0) return path;
        var joined = new StringBuilder(path.Length);
        for (var i = 0; i < path.Length; i++)
        {
            joined.Append(path[i]);
            if (path[i] != '[') continue;
            var close = path.IndexOf(']', i);
            if (close < 0) return joined.Append(path, i + 1, path.Length - i - 1).ToString();
            i = close - 1;
        }

        return joined.ToString();
    }

    /// <summary>
    /// The findings that run across the end of one field's text into another's (none while the stream holds one field
    /// only), and across the values one repeated path had in two chunks.
    /// </summary>
    public List<Finding> Across(TextGuard guard, GuardedAnswer answer)
    {
        if (!answer.Guarding) return [];
        var found = new List<Finding>([.. _texts.Across(guard, answer), .. _values.Across(guard, answer), .. _outside.Across(guard, answer)]);
        foreach (var (_, tail) in _repeated.Values) found.AddRange(tail.Across(guard, answer));
        return found;
    }

    // The last characters of a sequence of texts, with where each owner's text ends.
    private sealed class Tail(int length)
    {
        private readonly StringBuilder _text = new();

        // Where each piece ends in _text, and whose it is (a choice and a field).
        private readonly List<(int End, (int Choice, string Slot) Owner)> _pieces = [];

        // Characters dropped from the front so far, and the absolute offset of the last end up to which every end's
        // window was judged when it had stopped short of the newest text (final: more text cannot change it).
        private long _dropped;
        private long _settled = -1;

        public void Add(int choice, string slot, string text)
        {
            if (text.Length == 0) return;
            _text.Append(text);
            if (_pieces.Count > 0 && _pieces[^1].Owner == (choice, slot)) _pieces[^1] = (_text.Length, (choice, slot));
            else _pieces.Add((_text.Length, (choice, slot)));
            var drop = _text.Length - length;
            if (drop <= 0) return;
            if (char.IsLowSurrogate(_text[drop])) drop++;
            _text.Remove(0, drop);
            _dropped += drop;
            for (var k = 0; k < _pieces.Count; k++) _pieces[k] = (_pieces[k].End - drop, _pieces[k].Owner);
            _pieces.RemoveAll(p => p.End <= 0);
        }

        public List<Finding> Across(TextGuard guard, GuardedAnswer answer)
        {
            if (_pieces.Count < 2) return [];
            var ends = new List<int>(_pieces.Count - 1);
            for (var k = 0; k < _pieces.Count - 1; k++) ends.Add(_pieces[k].End);

            // Incremental: an end before the point up to which every window was judged final lies in a window already
            // judged whole (a window holds its end), so only the ends from there on are looked at, and nothing at all
            // (not even the tail's text) when there is none.
            var open = ends.FindIndex(e => _dropped + e > _settled);
            if (open < 0) return [];
            var text = _text.ToString();

            // Each end's own window; the ends from the first one on whose windows all stopped short of the newest text are
            // settled (their text cannot change) and not looked at again. The open windows are merged and judged.
            var windows = new List<(int Start, int End)>();
            var settled = true;
            // Ends that lie within Reach of the first of their group (a stream of short pieces, one a chunk, has thousands)
            // have windows that overlap, and a window's start and end never move back as its end moves on, so the group's
            // windows together run from its first end's start to its last end's end: two windows a group, not one an end.
            for (var k = open; k < ends.Count; k++)
            {
                var last = k;
                while (last + 1 < ends.Count && ends[last + 1] - ends[k] <= BoundaryWindows.Reach) last++;
                var group = BoundaryWindows.Around(text, [ends[k]]);
                if (last > k) group.AddRange(BoundaryWindows.Around(text, [ends[last]]));
                if (group.Count > 0)
                {
                    var (start, end) = (group.Min(w => w.Start), group.Max(w => w.End));
                    if (windows.Count > 0 && start <= windows[^1].End) windows[^1] = (windows[^1].Start, Math.Max(windows[^1].End, end));
                    else windows.Add((start, end));
                    settled &= end < text.Length;
                    if (settled) _settled = _dropped + ends[last];
                }

                k = last;
            }

            var found = new List<Finding>();
            foreach (var (start, end) in windows)
            {
                foreach (var f in guard.Judge(text[start..end], answer.Tier.Output, answer.Canaries).Findings)
                {
                    var (from, to) = (f.Start + start, f.End + start);
                    if (ends.Exists(e => from < e && to > e)) found.Add(f with { Start = from, End = to });
                }
            }

            return found;
        }
    }
}
