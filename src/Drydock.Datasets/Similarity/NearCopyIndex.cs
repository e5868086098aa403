namespace Drydock.Datasets.Similarity;

/// <summary>
/// Finds near copies (<see cref="NearCopy"/>) among the texts added, each candidate confirmed by the same test as
/// <see cref="NearCopy.Is"/>. Candidates come from four indexes: MinHash bands (<see cref="NearDuplicateIndex"/>);
/// for folded texts up to <see cref="NearCopy.MaxEditLength"/> characters, the k + 1 pieces of each text (a
/// character apart; k the most edits it may be allowed with any other, <see cref="NearCopy.IndexedEdits"/>) that k edits, a swap of neighbours among them, leave at least one of intact (every text within k edits shares a piece, at a position at most k away,
/// so none is missed); for such texts with a long number, the numbers with one long value's digit (or pair of
/// adjacent digits) left open, so texts whose numbers differ by that value mistyped the same way wherever it stands
/// meet (two different values each mistyped are found only through the pieces); the sampled shingles for
/// containment; and, for long texts, a looser band set over the same signature for the loose edit test (see the
/// other part of this class). Each piece or shingle lookup walks at most the
/// <see cref="NearDuplicateIndex.MaxCandidatesPerBand"/> most recent texts sharing it, so a lookup's cost is bounded
/// on templated text (the same recall trade-off as the bands'). Not thread-safe.
/// With <c>mistypedNumbers</c> false, numbers must be equal: a long number differing by one digit is a different
/// value. The split of <c>clean --holdout</c> and the membership refusal both keep the rule (one definition: the
/// split's held-out file is what the refusal accepts); the split refuses a result far from the fraction asked.
/// </summary>
public sealed partial class NearCopyIndex(double threshold, bool mistypedNumbers = true)
{
    private readonly NearDuplicateIndex _similar = new(threshold);
    private readonly Dictionary<ulong, List<int>> _pieces = [];
    private readonly Dictionary<ulong, List<int>> _anchors = [];
    private readonly Dictionary<ulong, List<int>> _numbers = [];
    private readonly List<(string Folded, IReadOnlyList<string> Numbers)?> _short = [];
    private readonly List<HashSet<ulong>?> _anchorSets = [];
    private readonly List<IReadOnlyList<string>?> _anchorNumbers = [];
    private readonly List<int> _lengths = [];

    /// <summary>The number of texts added.</summary>
    public int Count => _lengths.Count;

    /// <summary>Adds a text; returns its index (in insertion order).</summary>
    public int Add(string text) => Add(text, NearDuplicateIndex.Signature(text));

    /// <summary>Adds a text whose signature is already known; returns its index (in insertion order).</summary>
    public int Add(string text, uint[] signature)
    {
        ArgumentNullException.ThrowIfNull(text);
        var id = _similar.Add(signature);
        var tokens = NearCopy.Tokens(text);
        var folded = tokens.Folded;
        _lengths.Add(folded.Length);
        _numberLists.Add(NumbersOf(tokens.Numbers));
        _short.Add(folded.Length <= NearCopy.MaxEditLength ? tokens : null);
        if (folded.Length <= NearCopy.MaxEditLength)
        {
            foreach (var key in NumberKeys(tokens.Numbers)) Post(_numbers, key, id);
            var k = NearCopy.IndexedEdits(folded.Length);
            for (var piece = 0; piece <= k; piece++)
            {
                var (start, length) = Piece(folded.Length, k, piece);
                Post(_pieces, PieceKey(folded.Length, piece, folded.AsSpan(start, length)), id);
            }
        }

        var anchors = NearCopy.Anchors(folded);
        _anchorSets.Add(anchors.Count >= NearCopy.MinAnchors ? anchors : null);
        _anchorNumbers.Add(anchors.Count >= NearCopy.MinAnchors ? tokens.Numbers : null);
        foreach (var h in anchors) Post(_anchors, h, id);
        AddLoose(id, text, folded, signature);
        return id;
    }

    /// <summary>The first text (smallest index) this one is a near copy of, or -1.</summary>
    public int Find(string text) => Find(text, NearDuplicateIndex.Signature(text));

    /// <summary>The first text (smallest index) this one is a near copy of, or -1, its signature already known.</summary>
    public int Find(string text, uint[] signature)
    {
        var all = FindAll(text, signature);
        return all.Count == 0 ? -1 : all[0];
    }

    /// <summary>Every text (index, ascending) this one is a near copy of.</summary>
    public IReadOnlyList<int> FindAll(string text) => FindAll(text, NearDuplicateIndex.Signature(text));

    /// <summary>Every text (index, ascending) this one is a near copy of, its signature already known.</summary>
    public IReadOnlyList<int> FindAll(string text, uint[] signature)
    {
        var found = new SortedSet<int>();
        Collect(text, signature, found, null);
        return [.. found];
    }

    // Every text this one is a near copy of into `found`; with `mistyped` given, those that are near copies only with a
    // long number mistyped go there instead (and not into `found`); without it, they go into `found` when the index
    // keeps the mistyped-number rule.
    private void Collect(string text, uint[] signature, SortedSet<int> found, SortedSet<int>? mistyped)
    {
        ArgumentNullException.ThrowIfNull(text);
        found.UnionWith(_similar.FindAll(signature));
        var tokens = NearCopy.Tokens(text);
        var folded = tokens.Folded;
        if (folded.Length <= NearCopy.MaxEditLength + NearCopy.MaxEdits)
        {
            foreach (var key in mistypedNumbers || mistyped is not null ? NumberKeys(tokens.Numbers) : [])
            {
                if (!_numbers.TryGetValue(key, out var ids)) continue;
                for (var i = ids.Count - 1; i >= 0 && i >= ids.Count - NearDuplicateIndex.MaxCandidatesPerBand; i--) CheckEdits(ids[i], tokens, found, mistyped);
            }

            var low = Math.Max(0, folded.Length - NearCopy.MaxEdits);
            var high = Math.Min(NearCopy.MaxEditLength, folded.Length + NearCopy.MaxEdits);
            for (var other = low; other <= high; other++)
            {
                var k = NearCopy.IndexedEdits(other);
                if (Math.Abs(other - folded.Length) > k) continue;
                for (var piece = 0; piece <= k; piece++)
                {
                    var (start, length) = Piece(other, k, piece);
                    for (var shift = -k; shift <= k; shift++)
                    {
                        if (start + shift < 0 || start + shift + length > folded.Length) continue;
                        if (!_pieces.TryGetValue(PieceKey(other, piece, folded.AsSpan(start + shift, length)), out var ids)) continue;
                        for (var i = ids.Count - 1; i >= 0 && i >= ids.Count - NearDuplicateIndex.MaxCandidatesPerBand; i--) CheckEdits(ids[i], tokens, found, mistyped);
                    }
                }
            }
        }

        FindLoose(text, folded, signature, found);
        var anchors = NearCopy.Anchors(folded);
        if (anchors.Count > 0)
        {
            var shared = new Dictionary<int, int>();
            foreach (var h in anchors)
            {
                if (!_anchors.TryGetValue(h, out var ids)) continue;
                for (var i = ids.Count - 1; i >= 0 && i >= ids.Count - NearDuplicateIndex.MaxCandidatesPerBand; i--)
                {
                    shared[ids[i]] = shared.GetValueOrDefault(ids[i]) + 1;
                }
            }

            foreach (var (id, count) in shared)
            {
                if (found.Contains(id) || _anchorSets[id] is not { } theirs) continue;
                var shorter = folded.Length <= _lengths[id] ? anchors.Count : theirs.Count;
                if (count < NearCopy.MinContainment * shorter || !NearCopy.Contained(anchors, theirs, folded.Length, _lengths[id])) continue;
                var (small, large) = folded.Length <= _lengths[id] ? (tokens.Numbers, _anchorNumbers[id]!) : (_anchorNumbers[id]!, tokens.Numbers);
                if (ExactNumbersIn(small, large)) found.Add(id);
                else if ((mistypedNumbers || mistyped is not null) && NearCopy.NumbersIn(small, large)) (mistyped ?? found).Add(id);
            }
        }

        mistyped?.ExceptWith(found);
    }

    // The edit test on a short candidate: a near copy with the same numbers, or only with a long number mistyped.
    private void CheckEdits(int id, (string Folded, IReadOnlyList<string> Numbers) tokens, SortedSet<int> found, SortedSet<int>? mistyped)
    {
        if (found.Contains(id) || mistyped?.Contains(id) == true || _short[id] is not { } candidate) return;
        if (tokens.Numbers.SequenceEqual(candidate.Numbers, StringComparer.Ordinal))
        {
            if (NearCopy.WithinEdits(tokens.Folded, candidate.Folded)) found.Add(id);
        }
        else if ((mistypedNumbers || mistyped is not null) && NearCopy.WithinEdits(tokens, candidate))
        {
            (mistyped ?? found).Add(id);
        }
    }

    // The shorter's numbers in the longer, in order, each the same value.
    private static bool ExactNumbersIn(IReadOnlyList<string> shorter, IReadOnlyList<string> longer)
    {
        var at = 0;
        foreach (var number in shorter)
        {
            while (at < longer.Count && longer[at] != number) at++;
            if (at++ >= longer.Count) return false;
        }

        return true;
    }

    // For each distinct number of MinMistypedDigits or more digits and each digit (or pair of adjacent digits, sorted)
    // of it: the key of all the numbers in order with that digit of every occurrence of the value left open.
    private static IEnumerable<ulong> NumberKeys(IReadOnlyList<string> numbers)
    {
        foreach (var value in numbers.Where(n => n.Length >= NearCopy.MinMistypedDigits).Distinct(StringComparer.Ordinal))
        {
            for (var p = 0; p < value.Length; p++)
            {
                yield return NumbersKey(numbers, value, value[..p] + "?" + value[(p + 1)..]);
                if (p + 1 < value.Length) yield return NumbersKey(numbers, value, value[..p] + "[" + (char)Math.Min(value[p], value[p + 1]) + (char)Math.Max(value[p], value[p + 1]) + "]" + value[(p + 2)..]);
            }
        }
    }

    private static ulong NumbersKey(IReadOnlyList<string> numbers, string value, string open)
    {
        var h = 0x84222325CBF29CE4UL;
        foreach (var n in numbers)
        {
            foreach (var c in n == value ? open : n) h = (h ^ c) * 0x100000001B3UL;
            h = (h ^ ' ') * 0x100000001B3UL;
        }

        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDUL;
        return h ^ (h >> 33);
    }

    // The piece's place: the text cut in edits + 1, each piece but the last without its last character, so a swap of
    // two neighbouring letters (one edit, NearCopy.TypoDistance) touches at most one piece, as any other edit does.
    private static (int Start, int Length) Piece(int length, int edits, int piece)
    {
        var start = piece * length / (edits + 1);
        return (start, ((piece + 1) * length / (edits + 1)) - start - (piece < edits ? 1 : 0));
    }

    private static ulong PieceKey(int length, int piece, ReadOnlySpan<char> text)
    {
        var h = 0xCBF29CE484222325UL ^ ((ulong)length << 8) ^ (ulong)piece;
        foreach (var c in text) h = (h ^ c) * 0x100000001B3UL;
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDUL;
        return h ^ (h >> 33);
    }

    private static void Post(Dictionary<ulong, List<int>> index, ulong key, int id)
    {
        if (!index.TryGetValue(key, out var ids)) index[key] = ids = [];
        if (ids.Count == 0 || ids[^1] != id) ids.Add(id);
    }
}
