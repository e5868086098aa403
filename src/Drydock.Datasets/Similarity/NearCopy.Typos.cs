namespace Drydock.Datasets.Similarity;

/// <summary>
/// The distance of the short edit test (2) of <see cref="NearCopy"/>: typos, each one edit. A letter substituted,
/// dropped, doubled or inserted is one edit, and so is a pair of neighbouring letters swapped ("teh" for "the"), which
/// Levenshtein counts as two (the optimal string alignment distance). A copy retyped with a typo in twenty letters is
/// then within a twentieth of its length, as <see cref="AllowedEdits"/> allows.
/// </summary>
public static partial class NearCopy
{
    /// <summary>
    /// The optimal string alignment distance (Levenshtein, with two adjacent items swapped counting as one edit) of two
    /// sequences when it is at most <paramref name="k"/>, else <paramref name="k"/> + 1: their common start and end set
    /// aside, computed in a band of width 2k + 1, stopping once a whole row exceeds k.
    /// </summary>
    public static int TypoDistance<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, int k)
        where T : IEquatable<T> => BandedDistance(a, b, k, swaps: true);

    // Levenshtein (with `swaps`, two adjacent items swapped one edit) when at most k, else k + 1: the common start and
    // end set aside (Trim), a band of width 2k + 1, stopping once a whole row exceeds k. One table for both distances.
    private static int BandedDistance<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, int k, bool swaps)
        where T : IEquatable<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (Math.Abs(a.Length - b.Length) > k) return k + 1;
        Trim(ref a, ref b);
        var width = b.Length + 1;
        var before = swaps ? new int[width] : [];
        var previous = new int[width];
        var current = new int[width];
        for (var j = 0; j <= b.Length; j++) previous[j] = Math.Min(j, k + 1);
        Array.Fill(before, k + 1);
        for (var i = 1; i <= a.Length; i++)
        {
            var from = Math.Max(1, i - k);
            var to = Math.Min(b.Length, i + k);
            current[0] = Math.Min(i, k + 1);
            if (from > 1) current[from - 1] = k + 1;
            var best = current[0];
            for (var j = from; j <= to; j++)
            {
                var cost = a[i - 1].Equals(b[j - 1]) ? 0 : 1;
                var value = Math.Min(previous[j - 1] + cost, Math.Min(previous[j] + 1, current[j - 1] + 1));
                if (swaps && i > 1 && j > 1 && a[i - 1].Equals(b[j - 2]) && a[i - 2].Equals(b[j - 1])) value = Math.Min(value, before[j - 2] + 1);
                current[j] = Math.Min(value, k + 1);
                best = Math.Min(best, current[j]);
            }

            if (to < b.Length) current[to + 1] = k + 1;
            if (best > k) return k + 1;
            if (swaps) (before, previous, current) = (previous, current, before);
            else (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
