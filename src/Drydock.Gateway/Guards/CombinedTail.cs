using System.Text;
using Drydock.Detection;

namespace Drydock.Gateway.Guards;

/// <summary>
/// The last characters of every text of a stream, in the order they arrived, whatever choice and field they belong to
/// (half a key in <c>delta.reasoning_content</c>, half in <c>delta.content</c>; or across two choices): each stream guard
/// reads only its own field, so a value split across fields is whole only here. It is judged with each chunk, before
/// anything of that chunk leaves; a finding that runs across the point where one field gives way to another is a
/// finding of the stream. Bounded: at least <see cref="MinLength"/> characters, and at least the hold-back window and
/// the longest canary code, so the part of a value that arrived first is still held back when the rest arrives.
/// </summary>
internal sealed class CombinedTail(int window)
{
    /// <summary>The fewest characters kept.</summary>
    public const int MinLength = 256;

    private readonly int _length = Math.Max(MinLength, window + Drydock.Detection.Analyzers.CanaryAnalyzer.MaxCodeLength);
    private readonly StringBuilder _text = new();

    // Where each piece ends in _text, and whose it is (a choice and a field).
    private readonly List<(int End, (int Choice, string Slot) Owner)> _pieces = [];

    /// <summary>Adds a text of a field as it arrived.</summary>
    public void Add(int choice, string slot, string text)
    {
        if (text.Length == 0) return;
        _text.Append(text);
        if (_pieces.Count > 0 && _pieces[^1].Owner == (choice, slot)) _pieces[^1] = (_text.Length, (choice, slot));
        else _pieces.Add((_text.Length, (choice, slot)));
        var drop = _text.Length - _length;
        if (drop <= 0) return;
        if (char.IsLowSurrogate(_text[drop])) drop++;
        _text.Remove(0, drop);
        for (var k = 0; k < _pieces.Count; k++) _pieces[k] = (_pieces[k].End - drop, _pieces[k].Owner);
        _pieces.RemoveAll(p => p.End <= 0);
    }

    /// <summary>The findings of the tail that run across the end of one field's text into another's (none when it holds one field only).</summary>
    public List<Finding> Across(TextGuard guard, GuardedAnswer answer)
    {
        if (_pieces.Count < 2 || !answer.Guarding) return [];
        var ends = _pieces.Take(_pieces.Count - 1).Select(p => p.End).ToList();
        return guard.Judge(_text.ToString(), answer.Tier.Output, answer.Canaries).Findings.Where(f => ends.Exists(e => f.Start < e && f.End > e)).ToList();
    }
}
