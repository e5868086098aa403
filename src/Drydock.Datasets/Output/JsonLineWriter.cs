using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Drydock.Datasets.Output;

/// <summary>
/// How outputs that list records write their JSON (a scan report's findings and errors, a clean run's quarantine and
/// ledger): compact, with relaxed escaping (text stays as written; these are files, never HTML), one value a line
/// into a buffer that is reused, and a record named by file, line and id the same way everywhere.
/// </summary>
public sealed class JsonLineWriter : IDisposable
{
    /// <summary>Compact JSON with relaxed escaping, as every record-level output is written.</summary>
    public static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ArrayBufferWriter<byte> _line = new();
    private Utf8JsonWriter? _writer;

    /// <summary>Starts a line: write exactly one JSON value with the writer returned, then take it with <see cref="End"/>.</summary>
    public Utf8JsonWriter Start()
    {
        _line.ResetWrittenCount();
        if (_writer is null) _writer = new Utf8JsonWriter(_line, Compact);
        else _writer.Reset(_line);
        return _writer;
    }

    /// <summary>The line written since <see cref="Start"/> (without its line break); valid until the next start.</summary>
    public ReadOnlySpan<byte> End()
    {
        _writer!.Flush();
        return _line.WrittenSpan;
    }

    /// <summary>A string property, or <c>null</c> where there is no value.</summary>
    public static void WriteStringOrNull(Utf8JsonWriter writer, string name, string? value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (value is null) writer.WriteNull(name);
        else writer.WriteString(name, value);
    }

    /// <summary>Where a record stands: <c>file</c>, <c>line</c> and <c>recordId</c> (null when it has none).</summary>
    public static void WriteRecordPlace(Utf8JsonWriter writer, string file, long line, string? recordId)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteString("file", file);
        writer.WriteNumber("line", line);
        WriteStringOrNull(writer, "recordId", recordId);
    }

    public void Dispose() => _writer?.Dispose();
}
