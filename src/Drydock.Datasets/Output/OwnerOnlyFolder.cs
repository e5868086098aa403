namespace Drydock.Datasets.Output;

/// <summary>
/// Folders only their owner may use: every folder created on the way is created 0700 (on Unix), and the last one, when
/// it was found open to others (made by an older version, or by hand), is closed to them. Keys, the registry and the
/// request log live in such folders.
/// </summary>
public static class OwnerOnlyFolder
{
    private const UnixFileMode Others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Creates <paramref name="path"/> and the folders above it that are missing, owner-only.</summary>
    public static void Create(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        var missing = new Stack<string>();
        for (var p = Path.GetFullPath(path); !Directory.Exists(p); p = Path.GetDirectoryName(p)!) missing.Push(p);
        while (missing.Count > 0) Directory.CreateDirectory(missing.Pop(), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Close(path);
    }

    /// <summary>Takes from a file or folder what others could do with it (nothing when it is another user's).</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public static void Close(string path)
    {
        var mode = File.GetUnixFileMode(path);
        try
        {
            if ((mode & Others) != 0) File.SetUnixFileMode(path, mode & ~Others);
        }
        catch (UnauthorizedAccessException)
        {
            // Another user's file: not ours to change.
        }
    }
}
