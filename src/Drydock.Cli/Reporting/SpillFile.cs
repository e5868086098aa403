namespace Drydock.Cli.Reporting;

/// <summary>
/// A temporary file that report items stream into, so that a report can list millions of findings in its
/// contract order (summary first) without holding them in memory.
/// </summary>
internal sealed class SpillFile : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"drydock-{Environment.ProcessId}-{Guid.NewGuid():N}.spill");
    private readonly FileStream _stream;

    public SpillFile()
    {
        _stream = new FileStream(_path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
    }

    public Stream Stream => _stream;

    public long Count { get; set; }

    public void CopyTo(Stream output)
    {
        _stream.Flush();
        _stream.Position = 0;
        _stream.CopyTo(output);
    }

    public void Dispose() => _stream.Dispose();
}
