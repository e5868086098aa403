namespace Drydock.Datasets;

/// <summary>One text piece of a record, addressed by a JSON path (or a column name for tables).</summary>
public sealed record TextField(string Path, string Text);

/// <summary>
/// One training example: where it sits (file and 1-based line or row) and its text fields.
/// </summary>
public sealed record DatasetRecord(string File, long Line, string? Id, IReadOnlyList<TextField> Fields)
{
    /// <summary>The record as read (a JSON record's text, a CSV row's cells), kept only when <see cref="ReaderOptions.KeepRawText"/> is set.</summary>
    public RawRecord? Raw { get; init; }
}

/// <summary>A record that could not be read, with the reason; never silently dropped.</summary>
public sealed record MalformedRecord(string File, long Line, string Reason)
{
    /// <summary>The unreadable text itself (JSON formats), kept only when <see cref="ReaderOptions.KeepRawText"/> is set.</summary>
    public string? Raw { get; init; }
}

/// <summary>What a reader yields for one record: the record, a problem with it, or both (read with repairs).</summary>
public readonly record struct ReadResult(DatasetRecord? Record, MalformedRecord? Problem);
