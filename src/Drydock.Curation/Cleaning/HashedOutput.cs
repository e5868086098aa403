using System.Security.Cryptography;
using System.Text;

namespace Drydock.Curation.Cleaning;

/// <summary>A stream and the SHA-256 of everything written to it, so that no output is read back to be hashed.</summary>
internal sealed class HashedOutput(Stream stream) : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    private byte[] _encoded = new byte[64 * 1024];

    // Encoded into one reused buffer: no copy of the record per write.
    public void Write(string text)
    {
        var most = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (_encoded.Length < most) _encoded = new byte[Math.Max(most, _encoded.Length * 2)];
        Write(_encoded.AsSpan(0, Encoding.UTF8.GetBytes(text, _encoded)));
    }

    public void WriteLine(string text)
    {
        Write(text);
        Write("\n"u8);
    }

    public void WriteLine(ReadOnlySpan<byte> bytes)
    {
        Write(bytes);
        Write("\n"u8);
    }

    public string Sha256() => Convert.ToHexStringLower(_hash.GetHashAndReset());

    public void Dispose() => _hash.Dispose();

    private void Write(ReadOnlySpan<byte> bytes)
    {
        stream.Write(bytes);
        _hash.AppendData(bytes);
    }
}
