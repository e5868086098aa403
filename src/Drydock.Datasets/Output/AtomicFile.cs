using System.Collections.Concurrent;

namespace Drydock.Datasets.Output;

/// <summary>
/// Writes a file atomically: content goes to a temporary file in the same directory, which replaces the
/// target only when complete. A failed or interrupted run never leaves a half-written report.
/// </summary>
public sealed class AtomicFile : IDisposable
{
    // The temporary files open in this process. Process-wide on purpose: a run stopped by SIGINT or SIGTERM does not
    // unwind its stack, so the only place left to remove them is the process's exit (ProcessExit, raised on both).
    private static readonly ConcurrentDictionary<string, byte> s_open = Register();

    private readonly string _target;
    private readonly string _temporary;
    private bool _committed;

    /// <summary>
    /// Opens a temporary file next to <paramref name="target"/>; with <paramref name="ownerOnly"/> it is created with
    /// mode 0600 (keys, review sets), so the content is never readable by others, not even before the rename, and the
    /// folders it creates on the way are 0700.
    /// </summary>
    public AtomicFile(string target, bool ownerOnly = false)
    {
        _target = Path.GetFullPath(target);
        var directory = Path.GetDirectoryName(_target)!;
        if (ownerOnly) OwnerOnlyFolder.Create(directory);
        else Directory.CreateDirectory(directory);
        _temporary = Path.Combine(directory, $".{Path.GetFileName(_target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 16 };
        if (ownerOnly && !OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Stream = new FileStream(_temporary, options);
        s_open.TryAdd(_temporary, 0);
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="target"/> atomically.</summary>
    public static void Write(string target, ReadOnlySpan<byte> bytes, bool ownerOnly = false)
    {
        using var file = new AtomicFile(target, ownerOnly);
        file.Stream.Write(bytes);
        file.Commit();
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
        s_open.TryRemove(_temporary, out _);
    }

    /// <summary>Deletes the temporary file unless committed.</summary>
    public void Dispose()
    {
        Stream.Dispose();
        if (!_committed && File.Exists(_temporary))
        {
            File.Delete(_temporary);
        }

        s_open.TryRemove(_temporary, out _);
    }

    /// <summary>
    /// Deletes every temporary file this process still has open (used when a run is stopped by a signal and its own
    /// disposal cannot be awaited). A later <see cref="Commit"/> of one of them fails.
    /// </summary>
    public static void RemoveTemporaries()
    {
        foreach (var path in s_open.Keys)
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process is ending: nothing better can be done than to try every file.
            }

            s_open.TryRemove(path, out _);
        }
    }

    private static ConcurrentDictionary<string, byte> Register()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => RemoveTemporaries();
        return new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
    }
}
