using System.Runtime.InteropServices;

namespace Drydock.Detection.Configuration;

/// <summary>
/// Files Drydock reads are regular files. A FIFO blocks the reader until a writer comes (a gateway waiting on its key
/// file answers nobody), and a device such as <c>/dev/zero</c> never ends; both are refused before they are opened,
/// and a file read whole is read up to a cap, so a huge file is an error rather than all the memory.
/// </summary>
public static class RegularFiles
{
    /// <summary>Why <paramref name="path"/> (links followed) is not a regular file, or null when it is or does not exist.</summary>
    public static string? Problem(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var kind = Kind(path);
        return kind switch
        {
            null or "regular file" => null,
            _ => $"not a regular file (a {kind}); Drydock reads only regular files",
        };
    }

    /// <summary>Throws an <see cref="IOException"/> naming the path when it exists and is not a regular file.</summary>
    public static void Check(string path)
    {
        if (Problem(path) is { } problem) throw new IOException($"{path}: {problem}");
    }

    /// <summary>
    /// Reads a regular file whole, refusing one larger than <paramref name="maxBytes"/> (checked again while reading, so
    /// a file growing under the reader is cut off too). Throws <see cref="IOException"/> naming the path.
    /// </summary>
    public static byte[] ReadAllBytes(string path, long maxBytes)
    {
        Check(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length > maxBytes) throw TooLarge(path, maxBytes);
        using var buffer = new MemoryStream((int)stream.Length);
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk)) > 0)
        {
            if (buffer.Length + read > maxBytes) throw TooLarge(path, maxBytes);
            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>As <see cref="ReadAllBytes"/>, decoded as UTF-8 (a byte-order mark is skipped).</summary>
    public static string ReadAllText(string path, long maxBytes)
    {
        var bytes = ReadAllBytes(path, maxBytes);
        var start = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        return System.Text.Encoding.UTF8.GetString(bytes, start, bytes.Length - start);
    }

    private static IOException TooLarge(string path, long maxBytes) =>
        new($"{path}: larger than the {Size(maxBytes)} Drydock reads of such a file; refused");

    private static string Size(long bytes) => bytes % (1 << 20) == 0 ? $"{bytes >> 20} MiB" : bytes % 1024 == 0 ? $"{bytes >> 10} KiB" : $"{bytes} bytes";

    // The file type from statx(2) (Linux; its layout is the same on every architecture). Elsewhere every existing
    // non-folder counts as a regular file: Windows has no FIFOs or devices in its file system.
    private static string? Kind(string path)
    {
        if (!OperatingSystem.IsLinux()) return File.Exists(path) ? "regular file" : null;
        var buffer = new byte[256];
        const int AtFdCwd = -100;
        const uint StatxType = 0x1;
        // The path as the C string statx takes: UTF-8, ended by a zero byte.
        if (path.Contains('\0', StringComparison.Ordinal) || Statx(AtFdCwd, System.Text.Encoding.UTF8.GetBytes(path + "\0"), 0, StatxType, buffer) != 0) return null;
        var mode = BitConverter.ToUInt16(buffer, 28) & 0xF000;
        return mode switch
        {
            0x8000 => "regular file",
            0x4000 => "folder",
            0x1000 => "FIFO (named pipe)",
            0x2000 => "character device",
            0x6000 => "block device",
            0xC000 => "socket",
            _ => "special file",
        };
    }

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Statx(int dirfd, byte[] path, int flags, uint mask, byte[] buffer);
}
