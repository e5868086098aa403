using System.Globalization;
using Drydock.Curation.Policy;
using Drydock.Datasets.Similarity;

namespace Drydock.Curation.Cleaning;

/// <summary>Exact (content hash) and near (MinHash) de-duplication, in input order: the first record of a family is kept.</summary>
internal sealed class Deduplication(CleaningPolicy policy, RecordPositions positions)
{
    private readonly Dictionary<UInt128, int> _exact = [];
    private readonly NearDuplicateIndex _near = new(policy.NearDuplicateThreshold);
    private readonly List<int> _nearKept = [];

    /// <summary>The ledger entry dropping <paramref name="record"/> as an exact copy of a kept record, or null.</summary>
    public LedgerEntry? ExactCopy(ProcessedRecord record) =>
        policy.ExactDedup && _exact.TryGetValue(record.ExactHash, out var first)
            ? new LedgerEntry(record.Id, record.File, record.Line, null, CleanRules.ExactDuplicate, "dedup", "exact-duplicate", "drop", $"exact duplicate of {positions.Where(first)}", null)
            : null;

    /// <summary>
    /// Adds <paramref name="record"/> (ordinal <paramref name="ordinal"/>, not an exact copy); returns the ledger entry
    /// dropping it as a near copy of a kept record, or null when it is kept.
    /// </summary>
    public LedgerEntry? Add(ProcessedRecord record, int ordinal)
    {
        if (policy.ExactDedup) _exact[record.ExactHash] = ordinal;
        if (record.Signature is not { } signature) return null;
        var cluster = _near.FindOrAdd(signature);
        if (cluster >= 0)
        {
            return new LedgerEntry(record.Id, record.File, record.Line, null, CleanRules.NearDuplicate, "dedup", "near-duplicate", "drop",
                $"near duplicate (Jaccard ≥ {policy.NearDuplicateThreshold.ToString("0.##", CultureInfo.InvariantCulture)}) of {positions.Where(_nearKept[cluster])}", null);
        }

        _nearKept.Add(ordinal);
        return null;
    }
}
