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

    /// <summary>
    /// Parses the batch lazily, one record at a time in input order, so that a record can be scanned and
    /// dropped before the next is parsed (short-lived objects keep garbage collection cheap).
    /// </summary>
    public abstract IEnumerable<ReadResult> Parse();
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

    public override IEnumerable<ReadResult> Parse() => _results;
}

/// <summary>Raw JSON records (lines or array elements) in one pooled buffer.</summary>
internal sealed class JsonBatch : RecordBatch
{
    private byte[]? _buffer;
    private readonly List<Entry> _entries;
    private readonly JsonRecordParser _parser;
    private readonly string _file;
    private readonly BufferPool _pool;

    private readonly bool _keepRaw;

    public JsonBatch(string file, byte[] buffer, BufferPool pool, List<Entry> entries, JsonRecordParser parser, long bytes, bool keepRaw = false)
    {
        _keepRaw = keepRaw;
        _file = file;
        _buffer = buffer;
        _pool = pool;
        _entries = entries;
        _parser = parser;
        Bytes = bytes;
    }

    public override IEnumerable<ReadResult> Parse()
    {
        var buffer = _buffer ?? throw new InvalidOperationException("A batch is parsed once.");
        _buffer = null;
        try
        {
            foreach (var entry in _entries)
            {
                var result = entry.Problem is { } problem
                    ? new ReadResult(null, new MalformedRecord(_file, entry.Line, problem))
                    : _parser.Parse(_file, entry.Line, buffer.AsSpan(entry.Start, entry.Length));
                if (_keepRaw && entry.Length > 0)
                {
                    var raw = System.Text.Encoding.UTF8.GetString(buffer, entry.Start, entry.Length).TrimEnd('\r');
                    result = new ReadResult(result.Record is null ? null : result.Record with { Raw = new RawJson(raw) }, result.Problem is null ? null : result.Problem with { Raw = raw });
                }

                yield return result;
            }
        }
        finally
        {
            _pool.Return(buffer);
        }
    }

    internal readonly record struct Entry(int Start, int Length, long Line, string? Problem = null);
}
