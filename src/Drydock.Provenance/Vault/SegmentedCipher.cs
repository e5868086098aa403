using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Drydock.Provenance.Vault;

/// <summary>A vault artifact failed authentication: it was modified, truncated, extended or reordered.</summary>
public sealed class VaultIntegrityException(string message) : Exception(message);

/// <summary>
/// Streaming AES-256-GCM in fixed-size authenticated segments (the STREAM construction): a 19-byte header
/// (<c>DDVAULT1</c>, the segment size, a random 7-byte nonce prefix), then each segment's ciphertext and 16-byte tag.
/// Segment <c>i</c> uses the nonce <c>prefix ‖ i (32-bit big-endian) ‖ last-flag</c> and the header as associated data,
/// so a reordered, dropped, appended or truncated segment fails authentication. Memory is two segments whatever
/// the file size.
/// </summary>
public static class SegmentedCipher
{
    /// <summary>Default segment size: 1 MiB.</summary>
    public const int DefaultSegmentSize = 1 << 20;

    /// <summary>Header size in bytes.</summary>
    public const int HeaderSize = 8 + 4 + PrefixSize;

    private const int PrefixSize = 7;
    private const int TagSize = 16;
    private const int MinSegment = 1 << 10;
    private const int MaxSegment = 1 << 26;

    private static ReadOnlySpan<byte> Magic => "DDVAULT1"u8;

    /// <summary>Encrypts <paramref name="input"/> to <paramref name="output"/>, hashing the plaintext into <paramref name="plaintextHash"/>.</summary>
    public static void Encrypt(Stream input, Stream output, ReadOnlySpan<byte> key, IncrementalHash plaintextHash, int segmentSize = DefaultSegmentSize)
    {
        if (segmentSize is < MinSegment or > MaxSegment) throw new ArgumentOutOfRangeException(nameof(segmentSize));
        var header = new byte[HeaderSize];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), segmentSize);
        RandomNumberGenerator.Fill(header.AsSpan(12, PrefixSize));
        output.Write(header);

        using var aes = new AesGcm(key, TagSize);
        var hasher = new BackgroundHasher(plaintextHash, segmentSize);
        var sealedSegment = new byte[segmentSize + TagSize];
        var nonce = new byte[12];
        var (current, length) = hasher.Fill(input);
        for (uint index = 0; ; index = checked(index + 1))
        {
            var (next, nextLength) = length == segmentSize ? hasher.Fill(input) : (current, 0);
            var last = nextLength == 0;
            hasher.Append(current, length);
            Nonce(header, index, last, nonce);
            aes.Encrypt(nonce, current.AsSpan(0, length), sealedSegment.AsSpan(0, length), sealedSegment.AsSpan(length, TagSize), header);
            output.Write(sealedSegment, 0, length + TagSize);
            if (last) break;
            (current, length) = (next, nextLength);
        }

        hasher.Finish();
    }

    /// <summary>
    /// Decrypts <paramref name="input"/> to <paramref name="output"/>, hashing the plaintext when
    /// <paramref name="plaintextHash"/> is given. Throws <see cref="VaultIntegrityException"/> on the first segment that
    /// fails authentication; what was written before it must be discarded by the caller.
    /// </summary>
    public static void Decrypt(Stream input, Stream output, ReadOnlySpan<byte> key, IncrementalHash? plaintextHash)
    {
        var header = new byte[HeaderSize];
        if (ReadFull(input, header) != HeaderSize || !header.AsSpan(0, 8).SequenceEqual(Magic))
        {
            throw new VaultIntegrityException("not a vault artifact (bad or missing header)");
        }

        var segmentSize = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(8));
        if (segmentSize is < MinSegment or > MaxSegment) throw new VaultIntegrityException($"header names an impossible segment size ({segmentSize})");

        using var aes = new AesGcm(key, TagSize);
        var hasher = plaintextHash is null ? null : new BackgroundHasher(plaintextHash, segmentSize);
        var single = hasher is null ? new byte[segmentSize] : null;
        var current = new byte[segmentSize + TagSize];
        var next = new byte[segmentSize + TagSize];
        var nonce = new byte[12];
        var length = ReadFull(input, current);
        for (uint index = 0; ; index = checked(index + 1))
        {
            if (length < TagSize) throw new VaultIntegrityException($"segment {index} is truncated");
            var nextLength = length == current.Length ? ReadFull(input, next) : 0;
            var last = nextLength == 0;
            var plainLength = length - TagSize;
            var plain = hasher?.Take() ?? single!;
            Nonce(header, index, last, nonce);
            try
            {
                aes.Decrypt(nonce, current.AsSpan(0, plainLength), current.AsSpan(plainLength, TagSize), plain.AsSpan(0, plainLength), header);
            }
            catch (AuthenticationTagMismatchException)
            {
                throw new VaultIntegrityException($"segment {index} failed authentication: the artifact was modified, truncated, extended or reordered");
            }

            hasher?.Append(plain, plainLength);
            output.Write(plain, 0, plainLength);
            if (last) break;
            (current, next) = (next, current);
            length = nextLength;
        }

        hasher?.Finish();
    }

    // SHA-256 on the other core, in segment order, while this thread reads, encrypts and writes: a few segment
    // buffers circulate, and one is reused only once its hashing is done.
    private sealed class BackgroundHasher(IncrementalHash hash, int segmentSize)
    {
        private const int Depth = 4;
        private readonly byte[][] _buffers = [.. Enumerable.Range(0, Depth).Select(_ => new byte[segmentSize])];
        private readonly Task[] _done = [.. Enumerable.Range(0, Depth).Select(_ => Task.CompletedTask)];
        private Task _chain = Task.CompletedTask;
        private int _slot = -1;

        public byte[] Take()
        {
            _slot = (_slot + 1) % Depth;
            _done[_slot].GetAwaiter().GetResult();
            return _buffers[_slot];
        }

        public (byte[] Buffer, int Length) Fill(Stream input)
        {
            var buffer = Take();
            return (buffer, ReadFull(input, buffer));
        }

        public void Append(byte[] buffer, int length)
        {
            var slot = Array.IndexOf(_buffers, buffer);
            _chain = _chain.ContinueWith(_ => hash.AppendData(buffer, 0, length), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            _done[slot] = _chain;
        }

        public void Finish() => _chain.GetAwaiter().GetResult();
    }

    private static void Nonce(byte[] header, uint index, bool last, byte[] nonce)
    {
        header.AsSpan(12, PrefixSize).CopyTo(nonce);
        BinaryPrimitives.WriteUInt32BigEndian(nonce.AsSpan(PrefixSize), index);
        nonce[11] = last ? (byte)1 : (byte)0;
    }

    private static int ReadFull(Stream stream, byte[] buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = stream.Read(buffer, total, buffer.Length - total);
            if (n == 0) break;
            total += n;
        }

        return total;
    }
}
