namespace Drydock.Datasets.Similarity;

/// <summary>
/// The character edit distance of the loose test (4) on the part two long texts do not share: after their common
/// start and end are set aside, a part of up to 64 ASCII letters and digits is compared by Myers' bit-parallel
/// algorithm (Hyyrö's form for the global distance), one machine word per column, instead of the banded table.
/// Templated records (one boilerplate, a different tail each) are compared by their tails, many times per lookup.
/// </summary>
public static partial class NearCopy
{
    /// <summary>The longest shorter part <see cref="BitParallelDistance"/> compares (one 64-bit word).</summary>
    public const int MaxBitParallelLength = 64;

    /// <summary>
    /// The Levenshtein distance of two texts whose shorter is at most <see cref="MaxBitParallelLength"/> characters
    /// and all ASCII; null when they are not (use <see cref="Distance{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, int)"/>).
    /// </summary>
    public static int? BitParallelDistance(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        var pattern = a.Length <= b.Length ? a : b;
        var text = a.Length <= b.Length ? b : a;
        if (pattern.Length > MaxBitParallelLength) return null;
        if (pattern.Length == 0) return text.Length;
        Span<ulong> peq = stackalloc ulong[128];
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] >= 128) return null;
            peq[pattern[i]] |= 1UL << i;
        }

        var high = 1UL << (pattern.Length - 1);
        var (pv, mv, score) = (ulong.MaxValue, 0UL, pattern.Length);
        foreach (var c in text)
        {
            var eq = c < 128 ? peq[c] : 0;
            var xv = eq | mv;
            var xh = (((eq & pv) + pv) ^ pv) | eq;
            var ph = mv | ~(xh | pv);
            var mh = pv & xh;
            if ((ph & high) != 0) score++;
            else if ((mh & high) != 0) score--;
            ph = (ph << 1) | 1;
            mh <<= 1;
            pv = mh | ~(xv | ph);
            mv = ph & xv;
        }

        return score;
    }
}
