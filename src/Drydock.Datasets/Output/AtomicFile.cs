namespace Drydock.Datasets.Output;

/// <summary>
/// Writes a file atomically: content goes to a temporary file in the same directory, which replaces the
/// target only when complete. A failed or interrupted run never leaves a half-written report.
/// </summary>
public sealed class AtomicFile : IDisposable
{
    private readonly string _target;
    private readonly string _temporary;
    private bool _committed;

    /// <summary>Opens a temporary file next to <paramref name="target"/>.</summary>
    public AtomicFile(string target)
    {
        _target = Path.GetFullPath(target);
        var directory = Path.GetDirectoryName(_target)!;
        Directory.CreateDirectory(directory);
        _temporary = Path.Combine(directory, $".{Path.GetFileName(_target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        Stream = new FileStream(_temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
    }

    /// <summary>Where to write.</summary>
    public FileStream Stream { get; }

    /// <summary>Flushes and renames the temporary file onto the target.</summary>
    public void Commit()
    {
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        File.Move(_temporary, _target, overwrite: true);
        _committed = true;
    }

    /// <summary>Deletes the temporary file unless committed.</summary>
    public void Dispose()
    {
        Stream.Dispose();
        if (!_committed && File.Exists(_temporary))
        {
            File.Delete(_temporary);
        }
    }
}
