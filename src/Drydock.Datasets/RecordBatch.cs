using System.Buffers;
using Drydock.Datasets.Formats;

namespace Drydock.Datasets;

/// <summary>
/// A slice of an input handed to a worker. Reading the bytes is sequential; parsing (<see cref="Parse"/>)
/// runs on the worker, so JSON decoding is spread over all cores.
/// </summary>
public abstract class RecordBatch
{
    /// <summary>Bytes of input this batch covers (decoded).</summary>
    public long Bytes { get; protected init; }

    /// <summary>Parses the batch; results keep input order.</summary>
    public abstract IReadOnlyList<ReadResult> Parse();
}

/// <summary>Records already parsed by a sequential reader (CSV, Parquet).</summary>
internal sealed class ParsedBatch : RecordBatch
{
    private readonly List<ReadResult> _results;

    public ParsedBatch(List<ReadResult> results, long bytes)
    {
        _results = results;
        Bytes = bytes;
    }

    public override IReadOnlyList<ReadResult> Parse() => _results;
}

/// <summary>Raw JSON records (lines or array elements) in one pooled buffer.</summary>
internal sealed class JsonBatch : RecordBatch
{
    private byte[]? _buffer;
    private readonly List<Entry> _entries;
    private readonly JsonRecordParser _parser;
    private readonly string _file;

    public JsonBatch(string file, byte[] buffer, List<Entry> entries, JsonRecordParser parser, long bytes)
    {
        _file = file;
        _buffer = buffer;
        _entries = entries;
        _parser = parser;
        Bytes = bytes;
    }

    public override IReadOnlyList<ReadResult> Parse()
    {
        var buffer = _buffer ?? throw new InvalidOperationException("A batch is parsed once.");
        var results = new List<ReadResult>(_entries.Count);
        foreach (var entry in _entries)
        {
            results.Add(entry.Problem is { } problem
                ? new ReadResult(null, new MalformedRecord(_file, entry.Line, problem))
                : _parser.Parse(_file, entry.Line, buffer.AsSpan(entry.Start, entry.Length)));
        }

        _buffer = null;
        ArrayPool<byte>.Shared.Return(buffer);
        return results;
    }

    internal readonly record struct Entry(int Start, int Length, long Line, string? Problem = null);
}
