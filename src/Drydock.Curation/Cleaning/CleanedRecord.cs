using Drydock.Curation.Policy;

namespace Drydock.Curation.Cleaning;

/// <summary>What becomes of a record.</summary>
internal enum Disposition
{
    Keep,
    Quarantine,
    Drop,
    Malformed,
}

/// <summary>
/// A record as <see cref="RecordCleaner"/> leaves it: its disposition, its text (rewritten when kept, as read when it
/// leaves), its reasons and ledger entries, and what de-duplication and the split compare.
/// </summary>
internal sealed record ProcessedRecord(string File, long Line, string? Id, Disposition Disposition, string? Text, List<string> Reasons, List<LedgerEntry> Ledger, string Source)
{
    public UInt128 ExactHash { get; init; }

    public uint[]? Signature { get; init; }

    /// <summary>The signature of the text as training reads it (without ids and roles), when there is a held-out split.</summary>
    public uint[]? SplitSignature { get; init; }

    public string? SplitText { get; init; }

    /// <summary>The header line, for CSV records.</summary>
    public string? CsvHeader { get; init; }
}

/// <summary>One line of the ledger.</summary>
internal sealed record LedgerEntry(string? RecordId, string File, long Line, string? Field, string Rule, string Category, string Type, string Action, string Reason, string? ValueHash);

/// <summary>An input file as the manifest lists it; its hash and record count are filled in as it is read.</summary>
internal sealed class InputEntry(string file, string format, long bytes, SourcePolicy source)
{
    public SourcePolicy Source { get; } = source;
    public string File { get; } = file;
    public string Format { get; } = format;
    public string Sha256 { get; set; } = "";
    public long Bytes { get; } = bytes;
    public long Records { get; set; }
}
