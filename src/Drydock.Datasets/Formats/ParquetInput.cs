using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using FileMetaData = Parquet.Meta.FileMetaData;

namespace Drydock.Datasets.Formats;

/// <summary>
/// What Parquet.Net reads from a file, bounded. Its Thrift reader takes <c>ReadByte() == -1</c> at the end of the input
/// as the byte 0xFF and goes on: a footer or page header cut short (a few changed bytes of a valid file) loops for
/// ever in a varint or a field list. Pages are read from the stream given to it, so that stream refuses to read past
/// its end; the footer is copied into a buffer of Parquet.Net's own first, so it is parsed once beforehand, by
/// Parquet.Net's own footer parser, over a buffer that refuses to read past its end: a footer that needs more bytes
/// than it has is refused before Parquet.Net parses it where nothing stops the loop.
/// </summary>
internal static class ParquetInput
{
    // Named by a constant, so a trimmed or native (AOT) build keeps the type, its constructors and the method.
    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)]
    private static readonly Type? s_thriftReader = Type.GetType("Parquet.Meta.Proto.ThriftCompactProtocolReader, Parquet");
    private static readonly MethodInfo? s_readFooter = s_thriftReader is null
        ? null
        : typeof(FileMetaData).GetMethod("Read", BindingFlags.NonPublic | BindingFlags.Static, [s_thriftReader]);

    /// <summary>Opens the file for Parquet.Net after its footer has been checked; refuses a footer that cannot be read.</summary>
    public static Stream Open(string file)
    {
        var stream = File.OpenRead(file);
        try
        {
            CheckFooter(stream, file);
            stream.Position = 0;
            return new EndRefusingStream(stream);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    // The file ends with the footer, its length (4 bytes, little-endian) and "PAR1", as Parquet.Net reads it.
    private static void CheckFooter(FileStream stream, string file)
    {
        if (s_readFooter is null) throw new DatasetException(file, "the Parquet footer cannot be checked with this Parquet.Net version (its Thrift reader was not found)");
        if (stream.Length < 12) throw new DatasetException(file, "not a readable Parquet file: shorter than its header and footer");
        Span<byte> tail = stackalloc byte[8];
        stream.Seek(-8, SeekOrigin.End);
        stream.ReadExactly(tail);
        if (!tail[4..].SequenceEqual("PAR1"u8)) throw new DatasetException(file, "not a readable Parquet file: no PAR1 at its end");
        var length = BitConverter.ToInt32(tail);
        if (length <= 0 || length > stream.Length - 12) throw new DatasetException(file, $"not a readable Parquet file: a footer of {length} bytes in a file of {stream.Length}");
        var footer = new byte[length];
        stream.Seek(-8 - length, SeekOrigin.End);
        stream.ReadExactly(footer);
        try
        {
            using var bounded = new EndRefusingStream(new MemoryStream(footer, writable: false));
            s_readFooter.Invoke(null, [Activator.CreateInstance(s_thriftReader!, bounded)]);
        }
        catch (TargetInvocationException e) when (e.InnerException is { } inner and not OperationCanceledException)
        {
            throw new DatasetException(file, $"not a readable Parquet file: its footer: {inner.Message}", inner);
        }
    }

    /// <summary>A read-only stream whose <see cref="ReadByte"/> throws at the end instead of answering -1.</summary>
    private sealed class EndRefusingStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => inner.Position = value;
        }

        public override int ReadByte()
        {
            var b = inner.ReadByte();
            return b >= 0 ? b : throw new EndOfStreamException("the Parquet data ends inside a structure");
        }

        // Blocks read to a length (pages, the footer) already stop at the end: only the byte reads of the Thrift reader,
        // which take -1 for 0xFF, need to be stopped.
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
