using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using Drydock.Detection.Configuration;
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
            // Before opening: opening a FIFO waits for a writer, and a device never ends.
            if (RegularFiles.Problem(path) is { } problem) throw new DatasetException(path, problem);
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
            return new Opened(new WholeGzip(new GZipStream(raw, CompressionMode.Decompress, leaveOpen: true), raw), raw, "gzip");
        }

        if (read == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
        {
            // checkEndOfStream: a stream cut inside a frame is an error, never a shorter input. A cut between two
            // frames leaves a whole stream of fewer frames, which no decoder can tell from the end: one frame only.
            string? frames;
            try
            {
                frames = ZstdFrames.Problem(raw);
            }
            catch (IOException e)
            {
                raw.Dispose();
                throw new DatasetException(path, $"cannot read (zstd): {e.Message}", e);
            }

            if (frames is not null)
            {
                raw.Dispose();
                throw new DatasetException(path, $"cannot read (zstd): {frames}");
            }

            raw.Position = 0;
            return new Opened(new DecompressionStream(raw, checkEndOfStream: true, leaveOpen: true), raw, "zstd");
        }

        return new Opened(raw, raw, null);
    }

    /// <summary>
    /// A gzip stream that is whole or an error. The decoder stops without a word at the end of the input when the
    /// file was cut (at a flush point the cut even falls between whole records), so at the end of the decoded data
    /// its CRC-32 and length are checked against the gzip trailer, the last 8 bytes of the file.
    /// </summary>
    private sealed class WholeGzip(GZipStream inner, FileStream raw) : Stream
    {
        private readonly Crc32 _crc = new();
        private long _length;
        private bool _checked;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer);
            if (read > 0)
            {
                _crc.Append(buffer[..read]);
                _length += read;
            }
            else if (buffer.Length > 0 && !_checked)
            {
                CheckTrailer();
            }

            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }

        private void CheckTrailer()
        {
            _checked = true;
            Span<byte> trailer = stackalloc byte[8];
            var size = RandomAccess.GetLength(raw.SafeFileHandle);
            if (size < 18 || RandomAccess.Read(raw.SafeFileHandle, trailer, size - 8) != 8
                || BinaryPrimitives.ReadUInt32LittleEndian(trailer) != _crc.GetCurrentHashAsUInt32()
                || BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]) != (uint)_length)
            {
                throw new InvalidDataException(
                    $"the gzip stream is truncated or corrupt: {_length:N0} bytes decoded do not match the CRC-32 and length of its trailer " +
                    "(a file cut short, or several gzip members concatenated, which Drydock does not read: recompress it as one)");
            }
        }
    }
}
