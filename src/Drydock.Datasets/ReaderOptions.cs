namespace Drydock.Datasets;

/// <summary>How datasets are read.</summary>
public sealed record ReaderOptions
{
    /// <summary>Force a format instead of sniffing it.</summary>
    public DatasetFormat Format { get; init; } = DatasetFormat.Auto;

    /// <summary>Records larger than this are reported as malformed and skipped without being buffered.</summary>
    public int MaxRecordBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>Maximum JSON nesting depth inside one record.</summary>
    public int MaxDepth { get; init; } = 128;

    /// <summary>Bytes of input per batch handed to a worker.</summary>
    public int BatchBytes { get; init; } = 1024 * 1024;

    /// <summary>Maximum records per batch.</summary>
    public int BatchRecords { get; init; } = 4096;

    /// <summary>Keep each JSON record's own text (<see cref="DatasetRecord.Raw"/>), for tools that rewrite records.</summary>
    public bool KeepRawText { get; init; }
}
