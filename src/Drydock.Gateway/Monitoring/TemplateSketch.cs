using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Drydock.Gateway.Monitoring;

/// <summary>
/// The template cluster of a prompt, from its opening only: the first <see cref="OpeningWords"/> words (lower-cased,
/// digits folded to '#', punctuation dropped), their word pairs MinHashed with <see cref="Hashes"/> keyed functions,
/// and the minima hashed again into a 32-bit id. Prompts sent from one template share their opening and so their id;
/// a new template or integration shows up as ids the baseline never had. The hash functions are keyed with a key only
/// the gateway holds, so an id cannot be tested against guessed openings by whoever reads the signal log.
/// </summary>
internal sealed class TemplateSketch
{
    /// <summary>Words of the opening read.</summary>
    public const int OpeningWords = 8;

    /// <summary>MinHash functions (two: openings differing in one word pair rarely share both minima).</summary>
    public const int Hashes = 2;

    private readonly long[] _seeds;

    public TemplateSketch(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var digest = System.Security.Cryptography.SHA256.HashData(key);
        _seeds = [BinaryPrimitives.ReadInt64LittleEndian(digest), BinaryPrimitives.ReadInt64LittleEndian(digest.AsSpan(8)), BinaryPrimitives.ReadInt64LittleEndian(digest.AsSpan(16))];
    }

    /// <summary>The cluster id (8 hex digits) of <paramref name="prompt"/>, or "empty" for a prompt with no words.</summary>
    public string Cluster(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        Span<int> starts = stackalloc int[OpeningWords + 1];
        Span<char> folded = stackalloc char[256];
        var length = 0;
        var words = 0;
        var inWord = false;
        foreach (var c in prompt.AsSpan(0, Math.Min(prompt.Length, 512)))
        {
            if (char.IsLetterOrDigit(c))
            {
                if (!inWord)
                {
                    if (words == OpeningWords || length >= folded.Length - 1) break;
                    if (words > 0) folded[length++] = ' ';
                    starts[words++] = length;
                    inWord = true;
                }

                if (length >= folded.Length) break;
                folded[length++] = char.IsDigit(c) ? '#' : char.ToLowerInvariant(c);
            }
            else
            {
                inWord = false;
            }
        }

        if (words == 0) return "empty";
        starts[words] = length + 1;
        Span<ulong> minima = stackalloc ulong[Hashes];
        minima.Fill(ulong.MaxValue);
        Span<byte> bytes = stackalloc byte[folded.Length * 3];
        var pairs = Math.Max(1, words - 1);
        for (var i = 0; i < pairs; i++)
        {
            // A word pair (or the one word): from the start of word i to the end of word i + 1.
            var end = Math.Min(words, i + 2);
            var shingle = folded[starts[i]..(starts[end] - 1)];
            var n = Encoding.UTF8.GetBytes(shingle, bytes);
            for (var h = 0; h < Hashes; h++) minima[h] = Math.Min(minima[h], XxHash64.HashToUInt64(bytes[..n], _seeds[h]));
        }

        Span<byte> sketch = stackalloc byte[Hashes * 8];
        for (var h = 0; h < Hashes; h++) BinaryPrimitives.WriteUInt64LittleEndian(sketch[(h * 8)..], minima[h]);
        return ((uint)XxHash64.HashToUInt64(sketch, _seeds[2])).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
    }
}
