namespace Drydock.Provenance;

/// <summary>Writes and checks files that hold key material: created with mode 0600, replaced atomically.</summary>
public static class KeyFiles
{
    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> readable by the owner only (atomically).</summary>
    public static void WriteSecret(string path, ReadOnlySpan<byte> bytes) => Drydock.Datasets.Output.AtomicFile.Write(path, bytes, ownerOnly: true);

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
