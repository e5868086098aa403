namespace Drydock.Datasets.Similarity;

/// <summary>
/// The loose edit test (4) of <see cref="NearCopy"/>: long texts (the longer's folded form over
/// <see cref="MaxEditLength"/> characters, up to <see cref="MaxLooseLength"/>) whose folded forms are within
/// <see cref="MaxEditFraction"/> of the longer's length in character edits, or whose words are within that fraction
/// of the longer's word count in word edits (Levenshtein distances, computed in a band). A member retyped with one
/// letter in twenty changed, or with one word in ten replaced, keeps a MinHash similarity of only 0.6–0.7, yet is its
/// original. Numbers are not compared as numbers here: in a long text a changed number is one edit among many allowed.
/// </summary>
public static partial class NearCopy
{
    /// <summary>The most edits (characters or words), as a fraction of the longer text's length, of two long texts that are near copies.</summary>
    public const double MaxEditFraction = 0.1;

    /// <summary>Folded texts longer than this are compared by MinHash and containment only (the edit distance costs length × a tenth of it).</summary>
    public const int MaxLooseLength = 4000;

    /// <summary>Whether a folded length can take part in the loose edit test (paired with a longer text over <see cref="MaxEditLength"/>).</summary>
    public static bool LooseLength(int folded) => folded > MaxEditLength * (1 - MaxEditFraction) && folded <= MaxLooseLength;

    /// <summary>
    /// The loose edit test on two texts: the longer folded form over <see cref="MaxEditLength"/> and at most
    /// <see cref="MaxLooseLength"/> characters, and the folded forms within <see cref="MaxEditFraction"/> of the longer's
    /// length in character edits, or the words within that fraction of the longer's word count in word edits.
    /// </summary>
    public static bool WithinLooseEdits(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var (fa, fb) = (Fold(a), Fold(b));
        return WithinLooseEdits(fa, fb, Words(a), Words(b));
    }

    /// <summary>The loose edit test on folded forms (<see cref="Fold"/>) and word hashes (<see cref="Words"/>).</summary>
    public static bool WithinLooseEdits(string foldedA, string foldedB, ulong[] wordsA, ulong[] wordsB)
    {
        ArgumentNullException.ThrowIfNull(foldedA);
        ArgumentNullException.ThrowIfNull(foldedB);
        ArgumentNullException.ThrowIfNull(wordsA);
        ArgumentNullException.ThrowIfNull(wordsB);
        var longer = Math.Max(foldedA.Length, foldedB.Length);
        if (longer <= MaxEditLength || longer > MaxLooseLength) return false;
        var k = (int)(longer * MaxEditFraction);
        // Only the parts the two do not share count (templated records differ in their tails). Each edit moves at most
        // one item out of and one into the counts, so counts that differ by more than the edits allowed rule the
        // distance out in linear time (two texts sharing 70 % of their words never reach the banded distance of
        // length × a fifth of it); a short differing part is compared a machine word at a time.
        var a = foldedA.AsSpan();
        var b = foldedB.AsSpan();
        Trim(ref a, ref b);
        if (CountsDiffer(a, b) <= k && (BitParallelDistance(a, b) ?? Distance(a, b, k)) <= k) return true;
        var words = (int)(Math.Max(wordsA.Length, wordsB.Length) * MaxEditFraction);
        ReadOnlySpan<ulong> wa = wordsA;
        ReadOnlySpan<ulong> wb = wordsB;
        Trim(ref wa, ref wb);
        return words > 0 && (wa.Length + wb.Length <= WordsCountedFrom || CountsDiffer(wa, wb) <= words) && Distance(wa, wb, words) <= words;
    }

    // Below this many differing words in all, the banded distance costs less than counting them first.
    private const int WordsCountedFrom = 32;

    // The two without their common start and end (the edit distance of what is left is theirs).
    private static void Trim<T>(ref ReadOnlySpan<T> a, ref ReadOnlySpan<T> b)
        where T : IEquatable<T>
    {
        var common = a.CommonPrefixLength(b);
        a = a[common..];
        b = b[common..];
        var end = 0;
        while (end < a.Length && end < b.Length && a[^(end + 1)].Equals(b[^(end + 1)])) end++;
        a = a[..^end];
        b = b[..^end];
    }

    // CountsDiffer for letters and digits: ASCII counted in a table on the stack, anything else in a dictionary.
    private static int CountsDiffer(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        Span<int> ascii = stackalloc int[128];
        Dictionary<char, int>? other = null;
        foreach (var c in a)
        {
            if (c < 128) ascii[c]++;
            else (other ??= [])[c] = other.GetValueOrDefault(c) + 1;
        }

        foreach (var c in b)
        {
            if (c < 128) ascii[c]--;
            else (other ??= [])[c] = other.GetValueOrDefault(c) - 1;
        }

        var (more, fewer) = (0, 0);
        foreach (var n in ascii)
        {
            if (n > 0) more += n;
            else fewer -= n;
        }

        foreach (var n in other?.Values ?? (IEnumerable<int>)[])
        {
            if (n > 0) more += n;
            else fewer -= n;
        }

        return Math.Max(more, fewer);
    }

    // A lower bound on the edit distance: the larger of the items in excess on either side (multiset difference).
    private static int CountsDiffer<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b)
        where T : notnull, IEquatable<T>
    {
        var counts = new Dictionary<T, int>();
        foreach (var x in a) counts[x] = counts.GetValueOrDefault(x) + 1;
        foreach (var x in b) counts[x] = counts.GetValueOrDefault(x) - 1;
        var (more, fewer) = (0, 0);
        foreach (var c in counts.Values)
        {
            if (c > 0) more += c;
            else fewer -= c;
        }

        return Math.Max(more, fewer);
    }

    /// <summary>The words of a text (runs of letters and digits, NFKC, lower-cased), each as a 64-bit hash.</summary>
    public static ulong[] Words(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var normal = text.IsNormalized(System.Text.NormalizationForm.FormKC) ? text : text.Normalize(System.Text.NormalizationForm.FormKC);
        var words = new List<ulong>();
        var h = 0xCBF29CE484222325UL;
        var inWord = false;
        foreach (var c in normal)
        {
            if (char.IsLetterOrDigit(c))
            {
                h = (h ^ char.ToLowerInvariant(c)) * 0x100000001B3UL;
                inWord = true;
            }
            else if (inWord)
            {
                words.Add(h);
                (h, inWord) = (0xCBF29CE484222325UL, false);
            }
        }

        if (inWord) words.Add(h);
        return [.. words];
    }

    /// <summary>
    /// The Levenshtein distance of two sequences when it is at most <paramref name="k"/>, else <paramref name="k"/> + 1:
    /// their common start and end set aside, computed in a band of width 2k + 1, stopping once a whole row exceeds k.
    /// </summary>
    public static int Distance<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, int k)
        where T : IEquatable<T> => BandedDistance(a, b, k, swaps: false);
}
