namespace Drydock.Datasets.Similarity;

/// <summary>
/// Typos scattered through a retyped copy (the short edit test (2) of <see cref="NearCopy"/>): a copy retyped with a
/// typo in twenty letters often exceeds the edits <see cref="AllowedEdits"/> gives the shorter text (deletions shorten
/// the copy, and the allowance rounds down). Up to <see cref="ScatteredEdits"/> (a twentieth of the longer text,
/// rounded) are allowed when the edits lie apart as typos do: at most <see cref="MaxCloseEdits"/> pairs of them within
/// <see cref="ScatteredGap"/> characters of each other (a copy of 100 characters retyped at 5 % holds two such pairs
/// about one time in ten), and never three within <see cref="WordSpan"/> characters. Different records of one template
/// differ where a name, a place or a day is filled in, mostly in letters that stand together (<c>Anna</c>/<c>Emma</c>:
/// three edits in three letters), and keep to the allowance.
/// </summary>
public static partial class NearCopy
{
    /// <summary>Two edits closer than this many characters (in the first text) stand together.</summary>
    public const int ScatteredGap = 3;

    /// <summary>The most pairs of edits standing together that scattered edits may hold.</summary>
    public const int MaxCloseEdits = 2;

    /// <summary>Three edits within this many characters (the first to the third, in the first text) are a word changed, never typos.</summary>
    public const int WordSpan = 4;

    /// <summary>
    /// The most edits between two folded texts, the longer of length <paramref name="longer"/>, whose edits are scattered:
    /// from 80 characters a twentieth of the longer's length rounded to the nearest (none below).
    /// </summary>
    public static int ScatteredEdits(int longer) => longer < 80 ? 0 : (longer + (ShortEditDivisor / 2)) / ShortEditDivisor;

    /// <summary>
    /// The most edits a text of this folded length can be allowed with any other (<see cref="AllowedEdits"/> or
    /// <see cref="ScatteredEdits"/>): the pieces <see cref="NearCopyIndex"/> cuts it into.
    /// </summary>
    public static int IndexedEdits(int length) => Math.Max(AllowedEdits(length), ScatteredEdits(Math.Min(MaxEditLength, length + MaxEdits)));

    /// <summary>
    /// Whether two folded texts are within <paramref name="k"/> edits (<see cref="TypoDistance"/>) of which at most
    /// <see cref="MaxCloseEdits"/> pairs stand within <see cref="ScatteredGap"/> characters of each other and no three
    /// within <see cref="WordSpan"/> characters, along one alignment of the fewest edits.
    /// </summary>
    public static bool WithinScatteredEdits(ReadOnlySpan<char> a, ReadOnlySpan<char> b, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        Trim(ref a, ref b);
        if (Math.Abs(a.Length - b.Length) > k) return false;
        var (n, m) = (a.Length, b.Length);
        var d = new int[n + 1, m + 1];
        for (var i = 0; i <= n; i++) d[i, 0] = i;
        for (var j = 0; j <= m; j++) d[0, j] = j;
        for (var i = 1; i <= n; i++)
        {
            for (var j = 1; j <= m; j++)
            {
                var value = Math.Min(d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1), Math.Min(d[i - 1, j], d[i, j - 1]) + 1);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) value = Math.Min(value, d[i - 2, j - 2] + 1);
                d[i, j] = value;
            }
        }

        if (d[n, m] > k) return false;
        // One alignment of the fewest edits, walked back; each edit's place in a (an insertion: before a[i]).
        var (close, last, beforeLast) = (0, int.MaxValue, int.MaxValue);
        for (int i = n, j = m; i > 0 || j > 0;)
        {
            int place;
            if (i > 0 && j > 0 && a[i - 1] == b[j - 1] && d[i, j] == d[i - 1, j - 1])
            {
                (i, j) = (i - 1, j - 1);
                continue;
            }

            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i, j] == d[i - 2, j - 2] + 1) (place, i, j) = (i - 2, i - 2, j - 2);
            else if (i > 0 && j > 0 && d[i, j] == d[i - 1, j - 1] + 1) (place, i, j) = (i - 1, i - 1, j - 1);
            else if (i > 0 && d[i, j] == d[i - 1, j] + 1) (place, i) = (i - 1, i - 1);
            else (place, j) = (i, j - 1);
            if (last - place < ScatteredGap && ++close > MaxCloseEdits) return false;
            if (beforeLast - place < WordSpan) return false;
            (beforeLast, last) = (last, place);
        }

        return true;
    }
}
