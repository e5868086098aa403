using System.Runtime.CompilerServices;

namespace Drydock.Detection.Analyzers;

/// <summary>
/// Turns a text into the sparse feature vector of the injection classifier: hashed word unigrams and bigrams
/// (lower-cased; Chinese, Japanese and Korean characters are words of their own), character trigrams of words,
/// one feature per lexical rule type that fired, a length bucket and two shape features. The same code featurizes at training time and at scan time, so the
/// model file holds only weights.
/// </summary>
public static class InjectionFeatures
{
    /// <summary>Bits of the hashed feature space.</summary>
    public const int Bits = 20;

    /// <summary>Size of the hashed feature space.</summary>
    public const int Dimension = 1 << Bits;

    /// <summary>Characters featurized from the start of a text; longer texts add their last <see cref="TailChars"/>.</summary>
    public const int HeadChars = 12_000;

    /// <summary>Characters featurized from the end of a long text (an injection is often appended).</summary>
    public const int TailChars = 4_000;

    private const uint UnigramSalt = 0x9E3779B1;
    private const uint BigramSalt = 0x85EBCA77;
    private const uint MetaSalt = 0xC2B2AE3D;
    private const uint TrigramSalt = 0x27D4EB2F;

    /// <summary>
    /// Fills <paramref name="indices"/> with the distinct feature indices of <paramref name="text"/> (sorted) and
    /// returns the value every n-gram feature takes (1/√n, so long texts do not outweigh short ones); lexical and
    /// length features take the value 1. <paramref name="spans"/>, when given, receives where each n-gram feature
    /// first occurs, to explain a score.
    /// </summary>
    public static float Extract(string text, IEnumerable<string> lexicalTypes, List<int> indices, List<int> metaIndices, Dictionary<int, (int Start, int Length)>? spans = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(lexicalTypes);
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(metaIndices);
        indices.Clear();
        metaIndices.Clear();
        // The length bucket counts words, not the keys and blobs skipped as noise.
        var length = text.Length;
        if (text.Length <= HeadChars + TailChars)
        {
            length -= AddNgrams(text, 0, text.Length, indices, spans);
        }
        else
        {
            length -= AddNgrams(text, 0, HeadChars, indices, spans);
            length -= AddNgrams(text, text.Length - TailChars, text.Length, indices, spans);
        }

        AddShapes(text, metaIndices);
        indices.Sort();
        var unique = Deduplicate(indices);
        foreach (var type in lexicalTypes)
        {
            metaIndices.Add(Index(Hash(type.AsSpan(), MetaSalt)));
        }

        var bucket = length switch { < 40 => "len:tiny", < 200 => "len:short", < 1000 => "len:medium", < 4000 => "len:long", _ => "len:huge" };
        metaIndices.Add(Index(Hash(bucket.AsSpan(), MetaSalt)));
        metaIndices.Sort();
        Deduplicate(metaIndices);
        return unique == 0 ? 0f : 1f / MathF.Sqrt(unique);
    }

    // Returns how many characters were skipped as noise (see IsNoise).
    private static int AddNgrams(string text, int from, int to, List<int> indices, Dictionary<int, (int Start, int Length)>? spans)
    {
        var skipped = 0;
        var previous = 0u;
        var previousStart = -1;
        var checkedTo = -1;
        var i = from;
        while (i < to)
        {
            var c = text[i];
            if (!char.IsLetterOrDigit(c))
            {
                i++;
                continue;
            }

            // A key, hash or encoded blob is not words: its run is skipped whole (judged on the whole text, so a run cut
            // by the head or tail window is skipped too). A run judged to be words is not judged again word by word.
            if (i >= checkedTo)
            {
                var (runStart, runEnd) = EncodedRun(text, i);
                if (IsNoise(text.AsSpan(runStart, runEnd - runStart)))
                {
                    skipped += Math.Min(runEnd, to) - i;
                    i = runEnd;
                    previousStart = -1;
                    continue;
                }

                checkedTo = runEnd;
            }

            var start = i;
            var hash = 2166136261u;
            if (IsIdeographic(c))
            {
                hash = Step(hash, c);
                i++;
            }
            else
            {
                while (i < to && char.IsLetterOrDigit(text[i]) && !IsIdeographic(text[i]))
                {
                    hash = Step(hash, char.ToLowerInvariant(text[i]));
                    i++;
                }
            }

            AddTrigrams(text, start, i, indices);
            var unigram = Index(Mix(hash, UnigramSalt));
            indices.Add(unigram);
            spans?.TryAdd(unigram, (start, i - start));
            if (previousStart >= 0)
            {
                var bigram = Index(Mix(previous * 31 + hash, BigramSalt));
                indices.Add(bigram);
                spans?.TryAdd(bigram, (previousStart, i - previousStart));
            }

            previous = hash;
            previousStart = start;
        }

        return skipped;
    }

    /// <summary>Runs shorter than this, of base64, base64url or hex characters without white space, are always featurized.</summary>
    internal const int MinNoiseRun = 40;

    private static bool IsEncodedChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=' or '_' or '-';

    private static (int Start, int End) EncodedRun(string text, int at)
    {
        var start = at;
        while (start > 0 && IsEncodedChar(text[start - 1])) start--;
        var end = at;
        while (end < text.Length && IsEncodedChar(text[end])) end++;
        return (start, end);
    }

    /// <summary>
    /// Whether a run of base64, base64url or hex characters without white space is noise (a key body, a hash, an encoded
    /// blob) rather than words: at least <see cref="MinNoiseRun"/> characters, and either hex with a digit, or letters
    /// and digits whose case or kind changes from one character to the next at least 40% of the time (random base64
    /// about 62%), or 25% of the time with a digit in it. Identifiers in camel or snake case and words joined by hyphens
    /// change far less often and stay words.
    /// </summary>
    internal static bool IsNoise(ReadOnlySpan<char> run)
    {
        if (run.Length < MinNoiseRun) return false;
        int alphanumeric = 0, switches = 0, digits = 0, previousKind = -1;
        var hex = true;
        foreach (var c in run)
        {
            var kind = char.IsAsciiDigit(c) ? 0 : char.IsAsciiLetterUpper(c) ? 1 : char.IsAsciiLetterLower(c) ? 2 : -1;
            if (kind < 0)
            {
                hex = false;
                continue;
            }

            hex &= char.IsAsciiHexDigit(c);
            if (kind == 0) digits++;
            if (previousKind >= 0 && kind != previousKind) switches++;
            previousKind = kind;
            alphanumeric++;
        }

        if (alphanumeric < MinNoiseRun) return false;
        if (hex && digits > 0) return true;
        return switches * 10 >= alphanumeric * 4 || (digits > 0 && switches * 4 >= alphanumeric);
    }

    /// <summary>
    /// The text with every noise run (<see cref="IsNoise"/>: a key body, a hash, an encoded blob; here a run may go on
    /// across line breaks, as a PEM body wrapped at 64 characters does, so its short last line goes with it) blanked:
    /// its characters replaced by spaces, line breaks kept, so offsets stay. The text itself when it holds none. The
    /// semantic stage judges this, not the blobs.
    /// </summary>
    internal static string WithoutNoise(string text)
    {
        char[]? chars = null;
        var i = 0;
        while (i < text.Length)
        {
            if (!IsEncodedChar(text[i]))
            {
                i++;
                continue;
            }

            var start = i;
            while (i < text.Length && (IsEncodedChar(text[i]) || (text[i] is '\r' or '\n' && i + 1 < text.Length && IsEncodedChar(text[i + 1]) || text[i] == '\r' && i + 2 < text.Length && text[i + 1] == '\n'))) i++;
            if (IsNoise(text.AsSpan(start, i - start)))
            {
                chars ??= text.ToCharArray();
                for (var k = start; k < i; k++)
                {
                    if (chars[k] is not ('\r' or '\n')) chars[k] = ' ';
                }
            }
        }

        return chars is null ? text : new string(chars);
    }

    // Adversarial suffixes (optimised gibberish) show as runs of mixed brackets and quotes and as words with capitals
    // inside; prose rarely has either.
    private static void AddShapes(string text, List<int> metaIndices)
    {
        var (punctuationRuns, innerCapitals) = CountShapes(text.AsSpan(0, Math.Min(text.Length, HeadChars)));
        if (punctuationRuns >= 1) metaIndices.Add(Index(Hash("shape:punctuation-runs".AsSpan(), MetaSalt)));
        if (innerCapitals >= 1) metaIndices.Add(Index(Hash("shape:inner-capitals".AsSpan(), MetaSalt)));
    }

    /// <summary>
    /// Counts, in the whitespace-separated tokens of <paramref name="span"/> up to 24 characters long (longer ones are
    /// keys, hashes and URLs), runs of three or more brackets, quotes and similar marks, and capitals inside a
    /// lower-case word: the marks of optimised adversarial suffixes.
    /// </summary>
    internal static (int PunctuationRuns, int InnerCapitals) CountShapes(ReadOnlySpan<char> span)
    {
        int punctuationRuns = 0, innerCapitals = 0;
        foreach (var range in span.SplitAny(" \t\r\n"))
        {
            var token = span[range];
            if (token.Length is 0 or > 24) continue;
            var run = 0;
            for (var i = 0; i < token.Length; i++)
            {
                var c = token[i];
                if (c is '(' or ')' or '[' or ']' or '{' or '}' or '"' or '\'' or '`' or '\\' or '!' or '?' or ';' or '=' or '$' or '#' or '|' or '<' or '>')
                {
                    if (++run == 3) punctuationRuns++;
                    continue;
                }

                run = 0;
                if (char.IsUpper(c) && i > 0 && char.IsLower(token[i - 1]) && i + 1 < token.Length && char.IsLower(token[i + 1])) innerCapitals++;
            }
        }

        return (punctuationRuns, innerCapitals);
    }

    // Character trigrams of a word (with its edges), lower-cased: they carry misspellings, leetspeak and the made-up
    // words of optimised adversarial suffixes that whole-word features never saw.
    private static void AddTrigrams(string text, int start, int end, List<int> indices)
    {
        if (end - start > 20) return;
        for (var i = start - 1; i + 2 <= end; i++)
        {
            var a = i < start ? '^' : char.ToLowerInvariant(text[i]);
            var b = char.ToLowerInvariant(text[i + 1]);
            var c = i + 2 < end ? char.ToLowerInvariant(text[i + 2]) : '$';
            indices.Add(Index(Mix(Step(Step(Step(2166136261u, a), b), c), TrigramSalt)));
        }
    }

    private static int Deduplicate(List<int> sorted)
    {
        var write = 0;
        for (var read = 0; read < sorted.Count; read++)
        {
            if (write == 0 || sorted[read] != sorted[write - 1])
            {
                sorted[write++] = sorted[read];
            }
        }

        sorted.RemoveRange(write, sorted.Count - write);
        return write;
    }

    private static bool IsIdeographic(char c) => c is >= '\u3040' and <= '\u30FF' or >= '\u3400' and <= '\u9FFF' or >= '\uAC00' and <= '\uD7AF' or >= '\uF900' and <= '\uFAFF';

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Step(uint hash, char c) => (hash ^ c) * 16777619u;

    private static uint Hash(ReadOnlySpan<char> text, uint salt)
    {
        var hash = 2166136261u;
        foreach (var c in text) hash = Step(hash, c);
        return Mix(hash, salt);
    }

    // A finaliser (murmur3's) so that nearby FNV values spread over the whole table.
    private static uint Mix(uint hash, uint salt)
    {
        hash ^= salt;
        hash ^= hash >> 16;
        hash *= 0x85EBCA6B;
        hash ^= hash >> 13;
        hash *= 0xC2B2AE35;
        hash ^= hash >> 16;
        return hash;
    }

    private static int Index(uint hash) => (int)(hash & (Dimension - 1));
}
