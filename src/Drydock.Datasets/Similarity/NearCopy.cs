using System.Text;

namespace Drydock.Datasets.Similarity;

/// <summary>
/// The one test of "near copy" that <c>drydock clean --holdout</c> keeps on one side of its split and that the
/// membership evaluation refuses as a non-member. Two texts are near copies when any of these holds:
/// (1) MinHash similarity (<see cref="NearDuplicateIndex.Similarity"/>) at or above the threshold;
/// (2) a few edits: the texts hold the same numbers in the same order, each number equal or, for numbers of
/// <see cref="MinMistypedDigits"/> digits or more, the same value mistyped (one digit changed, or two adjacent digits
/// swapped), and, with the mistyped numbers set right, their folded forms (<see cref="Fold"/>: letters and digits
/// only, NFKC, lower-cased) are within <see cref="AllowedEdits"/> edits (<see cref="TypoDistance"/>: a letter
/// substituted, dropped, inserted, or swapped with its neighbour is one edit) (none below 8 characters, 1 below 16, then a
/// tenth of the length from 2 up to 4, and from 80 characters a twentieth of the length (<see cref="ShortEditDivisor"/>), up to
/// <see cref="MaxEdits"/> at 200; from 80 characters up to a twentieth of the longer's length rounded when the edits are
/// scattered like typos, <see cref="ScatteredEdits"/>). Small numbers that differ are different values, so
/// templated records ("question 1 about order 7", "question 2 about order 14") are never chained into one family,
/// while a ticket retyped with a typo or with its long order number's digits swapped is its original;
/// (3) containment: at least <see cref="MinContainment"/> of the shorter text's sampled shingles appear in the longer
/// one, when the shorter has at least <see cref="MinContainedLength"/> folded characters (so "thanks" never counts)
/// and at most <see cref="MaxContainedRatio"/> of the longer's length (texts of about the same length are compared by
/// (1)), and the shorter's numbers stand in the longer in the same order (<see cref="NumbersIn"/>; so a templated
/// record is not contained in another one that differs in its numbers and says more): a member's user turn on its
/// own is a partial copy of the member;
/// (4) loose edits, for long texts (<see cref="WithinLooseEdits(string, string)"/>): the longer's folded form over
/// <see cref="MaxEditLength"/> characters and the two within a tenth of its length in character edits, or their words
/// within a tenth of its word count in word edits (a member retyped with typos, or with words replaced).
/// </summary>
public static partial class NearCopy
{
    /// <summary>Folded texts shorter than this are near copies by edits only when equal.</summary>
    public const int MinEditLength = 8;

    /// <summary>The most edits ever allowed (texts of <see cref="MaxEditLength"/> folded characters).</summary>
    public const int MaxEdits = MaxEditLength / ShortEditDivisor;

    /// <summary>From 80 folded characters up, the edits allowed are the shorter's length divided by this (5 %; 4 from 40 to 79).</summary>
    public const int ShortEditDivisor = 20;

    /// <summary>Folded texts longer than this are compared by MinHash and containment only (a few edits cost them little similarity).</summary>
    public const int MaxEditLength = 200;

    /// <summary>The fewest digits of a number that differs by a typo and is still the same value (shorter ones are different values).</summary>
    public const int MinMistypedDigits = 4;

    /// <summary>The shorter text's folded length from which containment counts.</summary>
    public const int MinContainedLength = 32;

    /// <summary>The longest the shorter text may be, as a fraction of the longer's folded length, for containment to count.</summary>
    public const double MaxContainedRatio = 0.8;

    /// <summary>The fraction of the shorter text's sampled shingles found in the longer that makes it a partial copy.</summary>
    public const double MinContainment = 0.8;

    /// <summary>The fewest sampled shingles a shorter text needs for containment to count (fewer is too noisy).</summary>
    public const int MinAnchors = 4;

    private const int ShingleChars = 5;

    /// <summary>Edits allowed between two folded texts, the shorter of length <paramref name="length"/>.</summary>
    public static int AllowedEdits(int length) => length < MinEditLength ? 0 : length < 16 ? 1 : length < 40 ? Math.Clamp(length / 10, 2, 4) : Math.Max(4, length / ShortEditDivisor);

    /// <summary>Letters and digits only, compatibility-normalised (full width folded) and lower-cased.</summary>
    public static string Fold(string text) => Tokens(text).Folded;

    /// <summary>
    /// The folded form (<see cref="Fold"/>) and the numbers of a text: each run of digits, in order, as written
    /// (compatibility-normalised, so full-width digits are digits).
    /// </summary>
    public static (string Folded, IReadOnlyList<string> Numbers) Tokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var normal = text.IsNormalized(NormalizationForm.FormKC) ? text : text.Normalize(NormalizationForm.FormKC);
        var folded = new StringBuilder(normal.Length);
        var numbers = new List<string>();
        var number = new StringBuilder();
        foreach (var c in normal)
        {
            if (char.IsAsciiDigit(c))
            {
                number.Append(c);
                folded.Append(c);
                continue;
            }

            if (number.Length > 0)
            {
                numbers.Add(number.ToString());
                number.Clear();
            }

            if (char.IsLetterOrDigit(c)) folded.Append(char.ToLowerInvariant(c));
        }

        if (number.Length > 0) numbers.Add(number.ToString());
        return (folded.ToString(), numbers);
    }

    /// <summary>Whether the two texts are near copies (any of the four tests), at the given MinHash threshold.</summary>
    public static bool Is(string a, string b, double threshold = NearDuplicateIndex.DefaultThreshold)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (NearDuplicateIndex.Similarity(NearDuplicateIndex.Signature(a), NearDuplicateIndex.Signature(b)) >= threshold) return true;
        var ta = Tokens(a);
        var tb = Tokens(b);
        return WithinEdits(ta, tb)
            || (LooseLength(ta.Folded.Length) && LooseLength(tb.Folded.Length) && WithinLooseEdits(ta.Folded, tb.Folded, Words(a), Words(b)))
            || (Contained(Anchors(ta.Folded), Anchors(tb.Folded), ta.Folded.Length, tb.Folded.Length)
                && (ta.Folded.Length <= tb.Folded.Length ? NumbersIn(ta.Numbers, tb.Numbers) : NumbersIn(tb.Numbers, ta.Numbers)));
    }

    /// <summary>
    /// Whether every number of <paramref name="shorter"/> stands in <paramref name="longer"/>, in the same order (the
    /// longer may hold more), each equal or <see cref="Mistyped"/>: a text is contained in another only with its values.
    /// </summary>
    public static bool NumbersIn(IReadOnlyList<string> shorter, IReadOnlyList<string> longer)
    {
        ArgumentNullException.ThrowIfNull(shorter);
        ArgumentNullException.ThrowIfNull(longer);
        var at = 0;
        foreach (var number in shorter)
        {
            while (at < longer.Count && longer[at] != number && !Mistyped(number, longer[at])) at++;
            if (at++ >= longer.Count) return false;
        }

        return true;
    }

    /// <summary>
    /// Whether two long numbers are the same value mistyped: the same length (<see cref="MinMistypedDigits"/> digits
    /// or more) and one digit changed, or two adjacent digits swapped.
    /// </summary>
    public static bool Mistyped(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Length != b.Length || a.Length < MinMistypedDigits || a == b) return false;
        var first = -1;
        var differ = 0;
        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] == b[i]) continue;
            if (++differ > 2) return false;
            if (first < 0) first = i;
        }

        return differ == 1 || (first + 1 < a.Length && a[first] == b[first + 1] && a[first + 1] == b[first] && a[(first + 2)..] == b[(first + 2)..]);
    }

    /// <summary>
    /// The edit test (2): the same count of numbers, each pair equal or <see cref="Mistyped"/>, and the folded texts,
    /// with the second's mistyped numbers set to the first's, within the edits their length allows.
    /// </summary>
    public static bool WithinEdits((string Folded, IReadOnlyList<string> Numbers) a, (string Folded, IReadOnlyList<string> Numbers) b)
    {
        ArgumentNullException.ThrowIfNull(a.Folded);
        ArgumentNullException.ThrowIfNull(b.Folded);
        if (a.Numbers.Count != b.Numbers.Count) return false;
        var mistyped = false;
        for (var i = 0; i < a.Numbers.Count; i++)
        {
            if (a.Numbers[i] == b.Numbers[i]) continue;
            if (!Mistyped(a.Numbers[i], b.Numbers[i])) return false;
            mistyped = true;
        }

        var other = b.Folded;
        if (mistyped)
        {
            // The numbers are in the folded text in order; each of b's is replaced by a's (the same length).
            var set = new StringBuilder(other);
            var at = 0;
            for (var i = 0; i < b.Numbers.Count; i++)
            {
                at = IndexOfRun(other, b.Numbers[i], at);
                if (at < 0) return false;
                set.Remove(at, b.Numbers[i].Length).Insert(at, a.Numbers[i]);
                at += b.Numbers[i].Length;
            }

            other = set.ToString();
        }

        return WithinEdits(a.Folded, other);
    }

    // The next place at or after `from` where the digits of `number` stand as a whole run of digits.
    private static int IndexOfRun(string folded, string number, int from)
    {
        for (var at = folded.IndexOf(number, from, StringComparison.Ordinal); at >= 0; at = folded.IndexOf(number, at + 1, StringComparison.Ordinal))
        {
            var end = at + number.Length;
            if ((at == 0 || !char.IsAsciiDigit(folded[at - 1])) && (end == folded.Length || !char.IsAsciiDigit(folded[end]))) return at;
        }

        // Digits of two runs can meet in the folded text ("12 34" folds to "1234"): fall back to the plain position.
        return folded.IndexOf(number, from, StringComparison.Ordinal);
    }

    /// <summary>
    /// Whether two folded texts are within the edits their length allows (<see cref="TypoDistance"/>: Levenshtein, two
    /// neighbouring letters swapped one edit): <see cref="AllowedEdits"/> of the shorter, or up to
    /// <see cref="ScatteredEdits"/> of the longer when the edits lie apart as typos do (<see cref="WithinScatteredEdits"/>).
    /// </summary>
    public static bool WithinEdits(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var k = AllowedEdits(Math.Min(a.Length, b.Length));
        if (k == 0) return a == b;
        var longer = Math.Max(a.Length, b.Length);
        if (longer > MaxEditLength) return false;
        var scattered = Math.Max(k, ScatteredEdits(longer));
        if (Math.Abs(a.Length - b.Length) > scattered) return false;
        var d = TypoDistance(a.AsSpan(), b.AsSpan(), scattered);
        return d <= k || (d <= scattered && WithinScatteredEdits(a, b, scattered));
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

    /// <summary>
    /// Whether the shorter text's anchors lie in the longer's at <see cref="MinContainment"/> or more, the shorter being
    /// at least <see cref="MinContainedLength"/> and at most <see cref="MaxContainedRatio"/> of the longer's length.
    /// </summary>
    public static bool Contained(HashSet<ulong> a, HashSet<ulong> b, int lengthA, int lengthB)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var (shorter, longer) = lengthA <= lengthB ? (a, b) : (b, a);
        var (low, high) = (Math.Min(lengthA, lengthB), Math.Max(lengthA, lengthB));
        if (low < MinContainedLength || low > MaxContainedRatio * high || shorter.Count < MinAnchors) return false;
        var shared = 0;
        foreach (var h in shorter) if (longer.Contains(h)) shared++;
        return shared >= MinContainment * shorter.Count;
    }
}
