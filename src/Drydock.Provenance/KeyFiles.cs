namespace Drydock.Provenance;

/// <summary>Writes and checks files that hold key material: created with mode 0600, replaced atomically.</summary>
public static class KeyFiles
{
    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> readable by the owner only.</summary>
    public static void WriteSecret(string path, ReadOnlySpan<byte> bytes)
    {
        var full = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>Refuses a key file that others can read or write.</summary>
    public static void CheckPrivate(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        var mode = File.GetUnixFileMode(path);
        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        if ((mode & others) != 0) throw new KeyRingException($"{path} is readable or writable by others; run 'chmod 600 {path}'");
    }
}

/// <summary>A key or key-ring problem (missing, unreadable, wrong permissions). Never carries key material.</summary>
public sealed class KeyRingException(string message) : Exception(message);
