using System.Runtime.CompilerServices;

namespace Drydock.Datasets.Similarity;

/// <summary>
/// Near-duplicate detection: MinHash signatures of character 5-shingles of the text folded to lower-case letters and
/// digits (any run of other characters is one space), computed by one-permutation hashing (each shingle hashed once
/// into one of 96 bins, empty bins filled from their neighbours), with locality-sensitive hashing in 16 bands of 6
/// rows. Two texts whose shingle sets have Jaccard similarity J share a band with probability 1 − (1 − J⁶)¹⁶: 0.99 at
/// J = 0.8, 0.26 at J = 0.5. Candidates (the <see cref="MaxCandidatesPerBand"/> most recent entries of each bucket the
/// text falls in, each compared once per lookup) are confirmed by the signature's estimate of J against the threshold,
/// and the first record of a cluster is kept. A lookup stops at the first record it confirms and compares at most
/// 16 × <see cref="MaxCandidatesPerBand"/> records, so a pass is linear in the number of records even on templated
/// text. Character shingles make an edited word, a reordered sentence or changed case and spacing cost little
/// similarity. Not thread-safe (one sequential pass, so "first" is well defined).
/// </summary>
public sealed class NearDuplicateIndex(double threshold)
{
    /// <summary>
    /// The similarity at or above which two texts are near-duplicates unless a policy says otherwise: what
    /// <c>drydock clean</c> drops and what a privacy evaluation refuses as a non-member.
    /// </summary>
    public const double DefaultThreshold = 0.8;

    /// <summary>
    /// The most recent entries of a bucket a lookup compares, per band (up to 16 × this many comparisons per lookup):
    /// templated records (distinct texts sharing a boilerplate, so sharing bands without being similar) would
    /// otherwise make every lookup walk a bucket holding a fixed fraction of the index, and a whole pass quadratic.
    /// A near-duplicate older than this many templated records in every band it shares with the text is missed.
    /// </summary>
    public const int MaxCandidatesPerBand = 256;

    /// <summary>Bins (hash values) per signature.</summary>
    public const int Hashes = Bands * Rows;
    private const int Bands = 16;
    private const int Rows = 6;
    private const int ShingleChars = 5;

    // Bucket heads per band key, one table per band (a table that grows copies a sixteenth of the index, not all of
    // it), and a linked list through the entries: entry record × Bands + band holds the next entry of its bucket, so
    // every record stays findable in a bucket. Keys are 32-bit: a collision only adds a candidate, which the
    // similarity check then rejects.
    private readonly Dictionary<uint, int>[] _heads = [.. Enumerable.Range(0, Bands).Select(_ => new Dictionary<uint, int>())];

    // Kept signatures and their entries' links side by side in chunks of 4,096 records (recent ones, the likeliest
    // candidates, share cache lines; nothing is copied when the index grows).
    private const int ChunkBits = 12;
    private const int ChunkMask = (1 << ChunkBits) - 1;
    private const int LinkMask = (Bands << ChunkBits) - 1;
    private readonly List<uint[]> _chunks = [];
    private readonly List<int[]> _links = [];
    private int _count;

    // The lookup that last compared each record, so a record found in several bands is compared once.
    private readonly List<int> _checkedBy = [];
    private int _lookups;

    // Similarity ≥ threshold exactly when at most this many bins differ; a comparison stops at the next one.
    private readonly int _allowedMismatches = AllowedMismatches(threshold);

    /// <summary>
    /// Returns the index (in insertion order) of the kept record this signature's text nearly duplicates, or adds it
    /// as a new kept record and returns -1. The most recent <see cref="MaxCandidatesPerBand"/> records of each band it
    /// falls in are candidates.
    /// </summary>
    public int FindOrAdd(uint[] signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var lookup = ++_lookups;
        Span<uint> keys = stackalloc uint[Bands];
        var found = First(signature, lookup, keys);
        if (found >= 0) return found;
        Store(signature, keys, lookup);
        return -1;
    }

    /// <summary>
    /// The index (in insertion order) of a record this signature's text nearly duplicates (the first one confirmed,
    /// most recent first in each band), or -1 when none does; adds nothing. Bounded as <see cref="FindOrAdd"/> is.
    /// </summary>
    public int Find(uint[] signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        Span<uint> keys = stackalloc uint[Bands];
        return First(signature, ++_lookups, keys);
    }

    // The first candidate confirmed, band by band, most recent first; every band's key is written to `keys` up to the
    // band of the match (all of them when there is none).
    private int First(uint[] signature, int lookup, Span<uint> keys)
    {
        for (var band = 0; band < Bands; band++)
        {
            keys[band] = Key(signature, band);
            if (!_heads[band].TryGetValue(keys[band], out var entry)) continue;
            for (var walked = 0; entry >= 0 && walked < MaxCandidatesPerBand; entry = Next(entry), walked++)
            {
                var candidate = entry / Bands;
                if (_checkedBy[candidate] == lookup) continue;
                _checkedBy[candidate] = lookup;
                if (Mismatches(signature, Stored(candidate), _allowedMismatches) <= _allowedMismatches) return candidate;
            }
        }

        return -1;
    }

    /// <summary>Adds a record whatever it resembles; returns its index (in insertion order).</summary>
    public int Add(uint[] signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        Span<uint> keys = stackalloc uint[Bands];
        for (var band = 0; band < Bands; band++) keys[band] = Key(signature, band);
        return Store(signature, keys, ++_lookups);
    }

    /// <summary>
    /// Every record (index in insertion order, ascending) among the <see cref="MaxCandidatesPerBand"/> most recent of
    /// each band it shares with this signature that is similar at or above the threshold. Unlike <see cref="Find"/>,
    /// it does not stop at the first.
    /// </summary>
    public IReadOnlyList<int> FindAll(uint[] signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var lookup = ++_lookups;
        var found = new List<int>();
        for (var band = 0; band < Bands; band++)
        {
            if (!_heads[band].TryGetValue(Key(signature, band), out var entry)) continue;
            for (var walked = 0; entry >= 0 && walked < MaxCandidatesPerBand; entry = Next(entry), walked++)
            {
                var candidate = entry / Bands;
                if (_checkedBy[candidate] == lookup) continue;
                _checkedBy[candidate] = lookup;
                if (Mismatches(signature, Stored(candidate), _allowedMismatches) <= _allowedMismatches) found.Add(candidate);
            }
        }

        found.Sort();
        return found;
    }

    private static uint Key(uint[] signature, int band)
    {
        var key = (ulong)band * 0x9E3779B97F4A7C15;
        for (var r = 0; r < Rows; r++) key = Mix((key ^ signature[(band * Rows) + r]) * 0x100000001B3UL);
        return (uint)(key >> 32);
    }

    private int Next(int entry) => _links[(entry / Bands) >> ChunkBits][entry & LinkMask];

    private int Store(uint[] signature, ReadOnlySpan<uint> keys, int lookup)
    {
        var id = _count++;
        if ((id >> ChunkBits) == _chunks.Count)
        {
            _chunks.Add(new uint[Hashes << ChunkBits]);
            _links.Add(new int[Bands << ChunkBits]);
        }

        signature.AsSpan().CopyTo(_chunks[id >> ChunkBits].AsSpan((id & ChunkMask) * Hashes, Hashes));
        _checkedBy.Add(lookup);
        var links = _links[id >> ChunkBits];
        for (var band = 0; band < Bands; band++)
        {
            var entry = (id * Bands) + band;
            ref var head = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_heads[band], keys[band], out var exists);
            links[entry & LinkMask] = exists ? head : -1;
            head = entry;
        }

        return id;
    }

    /// <summary>The signature of a text (texts shorter than a shingle are one shingle).</summary>
    public static uint[] Signature(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Signature([text]);
    }

    /// <summary>
    /// The signature of several texts read as one, a word break between each (the same as the signature of the texts
    /// joined by any non-alphanumeric separator), without joining them.
    /// </summary>
    public static uint[] Signature(IReadOnlyList<string> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var signature = new uint[Hashes];
        signature.AsSpan().Fill(uint.MaxValue);
        // A rolling polynomial hash of the last five folded characters: each character costs a multiply and a mix.
        Span<char> ring = stackalloc char[ShingleChars];
        var filled = 0;
        var head = 0;
        var rolling = 0UL;
        var pendingSpace = false;
        foreach (var text in parts)
        {
            pendingSpace = filled > 0;
            foreach (var raw in text)
            {
                // ASCII through a table (0: not a letter or digit), the rest through the Unicode character data.
                var c = raw < 128 ? (char)s_fold[raw] : char.IsLetterOrDigit(raw) ? char.ToLowerInvariant(raw) : '\0';
                if (c == '\0')
                {
                    // A run of other characters is one space, and only between words (never leading or trailing).
                    pendingSpace = filled > 0;
                    continue;
                }

                if (pendingSpace)
                {
                    Push(signature, ring, ref filled, ref head, ref rolling, ' ');
                    pendingSpace = false;
                }

                Push(signature, ring, ref filled, ref head, ref rolling, c);
            }
        }

        if (filled is > 0 and < ShingleChars) Add(signature, rolling);
        Densify(signature);
        return signature;
    }

    /// <summary>The fraction of equal bins: an estimate of the Jaccard similarity of the two shingle sets.</summary>
    public static double Similarity(uint[] a, uint[] b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return (double)(a.Length - Mismatches(a, b, int.MaxValue)) / a.Length;
    }

    private ReadOnlySpan<uint> Stored(int id) => _chunks[id >> ChunkBits].AsSpan((id & ChunkMask) * Hashes, Hashes);

    private static int AllowedMismatches(double threshold)
    {
        var allowed = -1;
        while (allowed < Hashes && (double)(Hashes - (allowed + 1)) / Hashes >= threshold) allowed++;
        return allowed;
    }

    // The number of bins that differ, or a number above `stopAbove` as soon as it is passed (reading no further).
    private static int Mismatches(ReadOnlySpan<uint> a, ReadOnlySpan<uint> b, int stopAbove)
    {
        var mismatches = 0;
        var i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var width = System.Numerics.Vector<uint>.Count;
            for (; i + width <= a.Length; i += width)
            {
                var same = System.Numerics.Vector.Equals(new System.Numerics.Vector<uint>(a[i..]), new System.Numerics.Vector<uint>(b[i..]));
                mismatches += width + (int)System.Numerics.Vector.Sum(System.Numerics.Vector.AsVectorInt32(same));
                if (mismatches > stopAbove) return mismatches;
            }
        }

        for (; i < a.Length; i++)
        {
            if (a[i] != b[i] && ++mismatches > stopAbove) return mismatches;
        }

        return mismatches;
    }

    private const ulong Base = 0x100000001B3UL;
    private const ulong BaseToTheFourth = unchecked(Base * Base * Base * Base);

    // ASCII letters and digits lower-cased; every other ASCII character 0.
    private static readonly byte[] s_fold = [.. Enumerable.Range(0, 128).Select(c => char.IsAsciiLetterOrDigit((char)c) ? (byte)char.ToLowerInvariant((char)c) : (byte)0)];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Push(uint[] signature, Span<char> ring, ref int filled, ref int head, ref ulong rolling, char c)
    {
        if (filled == ShingleChars)
        {
            rolling -= ring[head] * BaseToTheFourth;
        }
        else
        {
            filled++;
        }

        rolling = (rolling * Base) + c;
        ring[head] = c;
        head = head == ShingleChars - 1 ? 0 : head + 1;
        if (filled == ShingleChars) Add(signature, rolling);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add(uint[] signature, ulong shingle)
    {
        var h = Mix(shingle);
        var bin = (int)(((h >> 32) * Hashes) >> 32);
        var value = (uint)h;
        if (value < signature[bin]) signature[bin] = value;
    }

    // Empty bins take the value of the next non-empty bin (cyclically), so that two texts' empty bins agree.
    private static void Densify(uint[] signature)
    {
        if (Array.TrueForAll(signature, v => v == uint.MaxValue)) return;
        for (var i = 0; i < signature.Length; i++)
        {
            if (signature[i] != uint.MaxValue) continue;
            var j = (i + 1) % signature.Length;
            while (signature[j] == uint.MaxValue) j = (j + 1) % signature.Length;
            signature[i] = signature[j] ^ (uint)(((i - j + signature.Length) % signature.Length) * 0x9E3779B1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong h)
    {
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDUL;
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53UL;
        return h ^ (h >> 33);
    }
}
