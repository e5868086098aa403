using System.Text.Json;

namespace Drydock.Cli.Reporting;

/// <summary>
/// JSON items (findings, results, errors) streamed into a temporary file, one per line, so that a report
/// can list millions of them in its contract order (summary first) without holding them in memory.
/// </summary>
internal sealed class SpillFile : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"drydock-{Environment.ProcessId}-{Guid.NewGuid():N}.spill");
    private readonly FileStream _stream;
    private readonly Utf8JsonWriter _writer;
    private readonly byte[] _first;
    private readonly byte[] _next;

    /// <param name="indent">Spaces before each item, to match the document it is copied into.</param>
    public SpillFile(int indent)
    {
        _stream = new FileStream(_path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        _writer = new Utf8JsonWriter(_stream, Datasets.Output.JsonLineWriter.Compact);
        _first = System.Text.Encoding.ASCII.GetBytes("\n" + new string(' ', indent));
        _next = System.Text.Encoding.ASCII.GetBytes(",\n" + new string(' ', indent));
    }

    public long Count { get; private set; }

    /// <summary>Starts the next item; write exactly one JSON value with the writer returned.</summary>
    public Utf8JsonWriter Next()
    {
        _writer.Flush();
        _writer.Reset();
        _stream.Write(Count++ == 0 ? _first : _next);
        return _writer;
    }

    /// <summary>Copies the items, comma-separated, to <paramref name="output"/>.</summary>
    public void CopyTo(Stream output)
    {
        _writer.Flush();
        _stream.Position = 0;
        _stream.CopyTo(output);
    }

    public void Dispose()
    {
        _writer.Dispose();
        _stream.Dispose();
    }
}
