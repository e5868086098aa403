using System.Text;

namespace Drydock.Datasets.Similarity;

/// <summary>
/// The one test of "near copy" that <c>drydock clean --holdout</c> keeps on one side of its split and that the
/// membership evaluation refuses as a non-member. Two texts are near copies when any of these holds:
/// (1) MinHash similarity (<see cref="NearDuplicateIndex.Similarity"/>) at or above the threshold;
/// (2) their folded forms (<see cref="Fold"/>: letters and digits only, NFKC, lower-cased) are within
/// <see cref="AllowedEdits"/> edits of each other (none below 8 characters, 1 below 16, then a tenth of the length
/// from 2 up to <see cref="MaxEdits"/>): short records such as "Cancel order 17 please" and "… 71 …", where two
/// edits already cost a third of the shingles;
/// (3) containment: at least <see cref="MinContainment"/> of the shorter text's sampled shingles appear in the longer
/// one, when the shorter has at least <see cref="MinContainedLength"/> folded characters (so "thanks" never counts):
/// a member's user turn on its own is a partial copy of the member.
/// </summary>
public static class NearCopy
{
    /// <summary>Folded texts shorter than this are near copies by edits only when equal.</summary>
    public const int MinEditLength = 8;

    /// <summary>The most edits ever allowed (texts of 40 or more folded characters).</summary>
    public const int MaxEdits = 4;

    /// <summary>Folded texts longer than this are compared by MinHash and containment only (a few edits cost them little similarity).</summary>
    public const int MaxEditLength = 200;

    /// <summary>The shorter text's folded length from which containment counts.</summary>
    public const int MinContainedLength = 32;

    /// <summary>The fraction of the shorter text's sampled shingles found in the longer that makes it a partial copy.</summary>
    public const double MinContainment = 0.8;

    /// <summary>The fewest sampled shingles a shorter text needs for containment to count (fewer is too noisy).</summary>
    public const int MinAnchors = 4;

    private const int ShingleChars = 5;

    /// <summary>Edits allowed between two folded texts, the shorter of length <paramref name="length"/>.</summary>
    public static int AllowedEdits(int length) => length < MinEditLength ? 0 : length < 16 ? 1 : Math.Clamp(length / 10, 2, MaxEdits);

    /// <summary>Letters and digits only, compatibility-normalised (full width folded) and lower-cased.</summary>
    public static string Fold(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var normal = text.IsNormalized(NormalizationForm.FormKC) ? text : text.Normalize(NormalizationForm.FormKC);
        var folded = new StringBuilder(normal.Length);
        foreach (var c in normal) if (char.IsLetterOrDigit(c)) folded.Append(char.ToLowerInvariant(c));
        return folded.ToString();
    }

    /// <summary>Whether the two texts are near copies (any of the three tests), at the given MinHash threshold.</summary>
    public static bool Is(string a, string b, double threshold = NearDuplicateIndex.DefaultThreshold)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (NearDuplicateIndex.Similarity(NearDuplicateIndex.Signature(a), NearDuplicateIndex.Signature(b)) >= threshold) return true;
        var fa = Fold(a);
        var fb = Fold(b);
        return WithinEdits(fa, fb) || Contained(Anchors(fa), Anchors(fb), fa.Length, fb.Length);
    }

    /// <summary>Whether two folded texts are within the edits their length allows.</summary>
    public static bool WithinEdits(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var k = AllowedEdits(Math.Min(a.Length, b.Length));
        if (k == 0) return a == b;
        if (Math.Max(a.Length, b.Length) > MaxEditLength || Math.Abs(a.Length - b.Length) > k) return false;
        // Levenshtein distance in a band of width 2k + 1, stopping once a whole row exceeds k.
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            var from = Math.Max(1, i - k);
            var to = Math.Min(b.Length, i + k);
            current[0] = i;
            if (from > 1) current[from - 1] = k + 1;
            var best = i <= k ? i : k + 1;
            for (var j = from; j <= to; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                var value = Math.Min(previous[j - 1] + cost, Math.Min(previous[j] + 1, current[j - 1] + 1));
                current[j] = Math.Min(value, k + 1);
                best = Math.Min(best, current[j]);
            }

            if (to < b.Length) current[to + 1] = k + 1;
            if (best > k) return false;
            (previous, current) = (current, previous);
        }

        return previous[b.Length] <= k;
    }

    /// <summary>
    /// The sampled shingles of a folded text (a quarter of its distinct 5-character shingles, chosen by hash, so two
    /// texts sample the same shingles): empty below <see cref="MinContainedLength"/> characters.
    /// </summary>
    public static HashSet<ulong> Anchors(string folded)
    {
        ArgumentNullException.ThrowIfNull(folded);
        var anchors = new HashSet<ulong>();
        if (folded.Length < MinContainedLength) return anchors;
        for (var i = 0; i + ShingleChars <= folded.Length; i++)
        {
            var h = 0xCBF29CE484222325UL;
            for (var j = i; j < i + ShingleChars; j++) h = (h ^ folded[j]) * 0x100000001B3UL;
            h ^= h >> 33;
            h *= 0xFF51AFD7ED558CCDUL;
            h ^= h >> 33;
            if ((h & 3) == 0) anchors.Add(h);
        }

        return anchors;
    }

    /// <summary>Whether the shorter text's anchors lie in the longer's at <see cref="MinContainment"/> or more.</summary>
    public static bool Contained(HashSet<ulong> a, HashSet<ulong> b, int lengthA, int lengthB)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var (shorter, longer) = lengthA <= lengthB ? (a, b) : (b, a);
        if (Math.Min(lengthA, lengthB) < MinContainedLength || shorter.Count < MinAnchors) return false;
        var shared = 0;
        foreach (var h in shorter) if (longer.Contains(h)) shared++;
        return shared >= MinContainment * shorter.Count;
    }
}
