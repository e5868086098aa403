using System.Buffers.Binary;

namespace Drydock.Datasets.Input;

/// <summary>
/// The frame layout of a Zstandard file (RFC 8878), walked by headers only (block contents are skipped, not decoded).
/// A file cut exactly between two frames is a whole stream of fewer frames: nothing in it tells the cut from the end.
/// So Drydock reads a file of one data frame (what <c>zstd</c> writes, multi-threaded too; skippable frames are
/// allowed) and refuses several, as it refuses several gzip members; the decoder checks that the one frame is whole.
/// </summary>
internal static class ZstdFrames
{
    private const uint FrameMagic = 0xFD2FB528;

    /// <summary>Why the file at <paramref name="raw"/> (from its start) is not one whole data frame, or null.</summary>
    public static string? Problem(Stream raw)
    {
        raw.Position = 0;
        var frames = 0;
        Span<byte> word = stackalloc byte[4];
        while (raw.Position < raw.Length)
        {
            Read(raw, word);
            var magic = BinaryPrimitives.ReadUInt32LittleEndian(word);
            if ((magic & 0xFFFFFFF0) == 0x184D2A50)
            {
                Read(raw, word);
                Skip(raw, BinaryPrimitives.ReadUInt32LittleEndian(word));
                continue;
            }

            if (magic != FrameMagic) return $"bytes at offset {raw.Position - 4:N0} are not a zstd frame (data after the stream, or a damaged file)";
            if (++frames > 1)
            {
                return "the file holds several zstd frames; a file cut between two frames cannot be told from a whole one, so Drydock reads files of one frame: recompress it with zstd (zstd -d -c FILE | zstd -o FILE2)";
            }

            var descriptor = ReadByte(raw);
            var singleSegment = (descriptor & 0x20) != 0;
            var fcsSize = (descriptor >> 6) switch { 0 => singleSegment ? 1 : 0, 1 => 2, 2 => 4, _ => 8 };
            var dictionarySize = (descriptor & 3) switch { 0 => 0, 1 => 1, 2 => 2, _ => 4 };
            Skip(raw, (singleSegment ? 0 : 1) + dictionarySize + fcsSize);
            bool last;
            do
            {
                var header = ReadByte(raw) | (ReadByte(raw) << 8) | (ReadByte(raw) << 16);
                last = (header & 1) != 0;
                var type = (header >> 1) & 3;
                if (type == 3) return $"a reserved block type at offset {raw.Position - 3:N0} (a damaged file)";
                Skip(raw, type == 1 ? 1 : header >> 3);
            }
            while (!last);

            if ((descriptor & 0x04) != 0) Skip(raw, 4);
        }

        return frames == 0 ? "the file holds no zstd frame" : null;
    }

    private static void Read(Stream raw, Span<byte> buffer)
    {
        if (raw.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) < buffer.Length) throw Truncated(raw);
    }

    private static int ReadByte(Stream raw) => raw.ReadByte() is var b and >= 0 ? b : throw Truncated(raw);

    private static void Skip(Stream raw, long count)
    {
        if (raw.Position + count > raw.Length) throw Truncated(raw);
        raw.Position += count;
    }

    private static EndOfStreamException Truncated(Stream raw) => new($"the zstd stream is truncated (the file ends at {raw.Length:N0} bytes inside a frame)");
}
