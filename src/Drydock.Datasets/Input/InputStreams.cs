using System.IO.Compression;
using ZstdSharp;

namespace Drydock.Datasets.Input;

/// <summary>Opens an input file, transparently decompressing gzip and Zstandard (by magic bytes, not by name).</summary>
public static class InputStreams
{
    /// <summary>An opened input: the decoded content and the raw file (for progress).</summary>
    public sealed class Opened : IDisposable
    {
        internal Opened(Stream content, FileStream raw, string? compression)
        {
            Content = content;
            Raw = raw;
            Compression = compression;
        }

        /// <summary>The decoded bytes.</summary>
        public Stream Content { get; }

        /// <summary>The file on disk; its position tells how far reading got.</summary>
        public FileStream Raw { get; }

        /// <summary><c>gzip</c>, <c>zstd</c> or null.</summary>
        public string? Compression { get; }

        /// <inheritdoc />
        public void Dispose()
        {
            Content.Dispose();
            Raw.Dispose();
        }
    }

    /// <summary>Opens <paramref name="path"/> for sequential reading.</summary>
    public static Opened Open(string path)
    {
        FileStream raw;
        try
        {
            raw = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException(path, $"cannot open: {e.Message}", e);
        }

        Span<byte> magic = stackalloc byte[4];
        var read = raw.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        raw.Position = 0;
        if (read >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
        {
            return new Opened(new GZipStream(raw, CompressionMode.Decompress, leaveOpen: true), raw, "gzip");
        }

        if (read == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
        {
            return new Opened(new DecompressionStream(raw, leaveOpen: true), raw, "zstd");
        }

        return new Opened(raw, raw, null);
    }
}
