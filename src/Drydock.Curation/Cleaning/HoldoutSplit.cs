using System.Globalization;
using System.IO.Hashing;
using Drydock.Curation.Policy;
using Drydock.Datasets.Similarity;

namespace Drydock.Curation.Cleaning;

/// <summary>
/// The held-out split: each record's side, seeded, with near-copy families kept on one side, and the check that the
/// split is the one asked for.
/// </summary>
internal sealed class HoldoutSplit(CleanOptions options, CleaningPolicy policy, RecordPositions positions)
{
    // How far the held-out share may differ from the fraction asked before clean refuses the split: three standard
    // deviations of the share when whole families are drawn (sqrt(p(1-p) * sum of squared family sizes) / records),
    // never less than 10 points (small files of single records) and never more than 20 (a few families decide the split).
    private const double MinSplitSkew = 0.10;
    private const double MaxSplitSkew = 0.20;

    // Every record written to each side of the held-out split (by ordinal), indexed at the near-duplicate threshold
    // the membership evaluation applies (or the policy's, when lower): a record goes to the side of its near
    // duplicates, whatever the policy's own near-duplicate removal does.
    private readonly double _splitThreshold = SplitThreshold(policy);
    private readonly NearCopyIndex _placed = new(SplitThreshold(policy));
    private readonly List<(int Ordinal, bool HeldOut, int Family)> _placedRecords = [];
    private readonly Dictionary<int, HashSet<string>> _mistypedNeighbours = [];
    private readonly Dictionary<int, (bool HeldOut, int Size)> _familySizes = [];

    /// <summary>
    /// The side of <paramref name="record"/> (ordinal <paramref name="ordinal"/>): held out or not, or the ledger entry
    /// dropping it when it nearly copies records on both sides.
    /// </summary>
    public (bool HeldOut, LedgerEntry? Conflict) Place(ProcessedRecord record, int ordinal)
    {
        var holdout = Fraction(record.ExactHash, options.Seed) < options.HoldoutFraction;
        if (record.SplitSignature is not { } split || record.SplitText is not { } splitText) return (holdout, null);

        // A near-duplicate family stays on one side: the side of the records it nearly duplicates, the seeded
        // hash only for a record that nearly duplicates none. One that nearly duplicates records on both sides
        // (it bridges two families) can go to neither without leaking one into the other: it is dropped. A
        // near copy only with a long number mistyped binds the two records to one side when it is a pair
        // (NearCopyIndex.MistypedPair: neither has a mistyped link to other numbers), and chains no further:
        // sequential ids are different values, a retyped record lands beside its original.
        var links = _placed.FindLinks(splitText, split);
        var values = links.Mistyped.Select(_placed.NumbersOf).ToHashSet(StringComparer.Ordinal);
        var bound = links.Copies.Concat(links.Mistyped.Where(m => NearCopyIndex.MistypedPair(
            links.Numbers, values, _placed.NumbersOf(m), _mistypedNeighbours.TryGetValue(m, out var theirs) ? theirs : []))).ToList();
        var inTraining = bound.FirstOrDefault(b => !_placedRecords[b].HeldOut, -1);
        var heldOut = bound.FirstOrDefault(b => _placedRecords[b].HeldOut, -1);
        if (inTraining >= 0 && heldOut >= 0)
        {
            return (false, new LedgerEntry(record.Id, record.File, record.Line, null, CleanRules.SplitConflict, "dedup", "split-conflict", "drop",
                $"near copy (Jaccard ≥ {_splitThreshold.ToString("0.##", CultureInfo.InvariantCulture)}, a few edits, or contained) of {positions.Where(_placedRecords[inTraining].Ordinal)} (training) and of {positions.Where(_placedRecords[heldOut].Ordinal)} (held out): kept on neither side of the split", null));
        }

        if (bound.Count > 0) holdout = _placedRecords[bound[0]].HeldOut;
        var family = bound.Count > 0 ? _placedRecords[bound[0]].Family : ordinal;
        var id = _placed.Add(splitText, split);
        _placedRecords.Add((ordinal, holdout, family));
        if (values.Count > 0) _mistypedNeighbours[id] = values;
        foreach (var m in links.Mistyped)
        {
            if (!_mistypedNeighbours.TryGetValue(m, out var set)) _mistypedNeighbours[m] = set = new HashSet<string>(StringComparer.Ordinal);
            set.Add(links.Numbers);
        }

        _familySizes[family] = (holdout, _familySizes.GetValueOrDefault(family).Size + 1);
        return (holdout, null);
    }

    /// <summary>
    /// Refuses a split that is not the one asked for: a side left empty, or a held-out share further from the
    /// fraction asked than chance allows when whole families are drawn (see <see cref="MinSplitSkew"/>), naming
    /// the largest families. Called before any output is committed, so nothing is written.
    /// </summary>
    public void Check(long written, long heldOut)
    {
        var total = written + heldOut;
        if (total == 0) return;
        var share = (double)heldOut / total;
        var p = options.HoldoutFraction;
        var squaredSizes = _familySizes.Values.Sum(f => (double)f.Size * f.Size);
        var tolerance = Math.Clamp(3 * Math.Sqrt(p * (1 - p) * squaredSizes) / total, MinSplitSkew, MaxSplitSkew);
        if (written > 0 && heldOut > 0 && Math.Abs(share - p) <= tolerance) return;
        var largest = _familySizes.OrderByDescending(f => f.Value.Size).ThenBy(f => f.Key).Take(3)
            .Select(f => $"{f.Value.Size} records like {positions.Where(f.Key)} ({(f.Value.HeldOut ? "held out" : "training")})");
        throw new CleanException(string.Create(CultureInfo.InvariantCulture,
            $"--holdout {options.HoldoutFraction:0.###}: the split kept {written} and held out {heldOut} records ({share:P0} held out), not the fraction asked (within {tolerance:P0} for these family sizes, both sides non-empty), because near-copy families decide each record's side; largest families: {string.Join("; ", largest)}. No output written"));
    }

    private static double SplitThreshold(CleaningPolicy policy) => Math.Min(policy.NearDuplicateThreshold, NearDuplicateIndex.DefaultThreshold);

    private static double Fraction(UInt128 hash, int seed)
    {
        Span<byte> bytes = stackalloc byte[20];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128LittleEndian(bytes, hash);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes[16..], seed);
        return XxHash64.HashToUInt64(bytes) / (double)ulong.MaxValue;
    }
}
