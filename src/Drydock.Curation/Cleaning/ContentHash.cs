using System.IO.Hashing;
using System.Text;

namespace Drydock.Curation.Cleaning;

/// <summary>The exact-duplicate key of a record's content.</summary>
internal static class ContentHash
{
    [ThreadStatic]
    private static XxHash128? t_hash;

    [ThreadStatic]
    private static char[]? t_lower;

    [ThreadStatic]
    private static byte[]? t_utf8;

    // XxHash128 of the lower-cased content's UTF-8 bytes, each field followed by U+001F, through reused per-thread
    // buffers (the fields are never joined or copied per record).
    public static UInt128 Of(List<string> content)
    {
        var hash = t_hash ??= new XxHash128();
        hash.Reset();
        foreach (var part in content)
        {
            if (t_lower is null || t_lower.Length < part.Length) t_lower = new char[Math.Max(part.Length, 4096)];
            var byteCount = Encoding.UTF8.GetMaxByteCount(part.Length);
            if (t_utf8 is null || t_utf8.Length < byteCount) t_utf8 = new byte[Math.Max(byteCount, 12288)];
            var lower = t_lower.AsSpan(0, part.Length);
            part.AsSpan().ToLowerInvariant(lower);
            hash.Append(t_utf8.AsSpan(0, Encoding.UTF8.GetBytes(lower, t_utf8)));
            hash.Append("\u001f"u8);
        }

        return hash.GetCurrentHashAsUInt128();
    }
}
