using System.Buffers;
using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace Drydock.Detection.Engine;

/// <summary>
/// Cyrillic and Greek letters that look like Latin ones, which NFKC leaves as they are: <c>АКІА…</c> written with
/// Cyrillic А, К and І, or <c>-----BЕGIN</c> with a Cyrillic Е, reads as Latin to a person and to a model, and hid the
/// value from every pattern. <see cref="Fold(string)"/> reads each such letter as the Latin one it looks like, in every word
/// that also holds an ASCII letter, digit or one of <c>@ - _ / + =</c> (a value written with a few look-alikes), and
/// leaves words of Cyrillic or Greek alone (a Russian or Greek sentence is not rewritten into Latin). One character
/// stands for one character, so every offset stays that of the original and a finding covers the original letters.
/// The detector folds before every pattern rule; the hidden-text analyzer still reports the mixed-script word.
/// </summary>
internal static class LookAlikes
{
    // Each look-alike and the Latin letter it reads as. The entries marked code are read so only where a code alphabet of
    // capitals and digits is read (CanaryAnalyzer: Cyrillic З as 3, Б as 6, н as H, Greek β as B): in words of text they
    // are letters of their own, and folding them would rewrite ordinary Russian or Greek words into values.
    private static readonly FrozenDictionary<char, (char Latin, bool CodeOnly)> s_table = new Dictionary<char, (char, bool)>
    {
        // Cyrillic
        ['А'] = ('A', false), ['а'] = ('a', false), ['В'] = ('B', false), ['в'] = ('b', false), ['С'] = ('C', false), ['с'] = ('c', false),
        ['Е'] = ('E', false), ['е'] = ('e', false), ['Н'] = ('H', false), ['һ'] = ('h', false), ['І'] = ('I', false), ['і'] = ('i', false),
        ['Ј'] = ('J', false), ['ј'] = ('j', false), ['К'] = ('K', false), ['к'] = ('k', false), ['М'] = ('M', false), ['м'] = ('m', false),
        ['О'] = ('O', false), ['о'] = ('o', false), ['Р'] = ('P', false), ['р'] = ('p', false), ['Ԛ'] = ('Q', false), ['ԛ'] = ('q', false),
        ['Ѕ'] = ('S', false), ['ѕ'] = ('s', false), ['Т'] = ('T', false), ['т'] = ('t', false), ['Х'] = ('X', false), ['х'] = ('x', false),
        ['У'] = ('Y', false), ['у'] = ('y', false), ['Ү'] = ('Y', false), ['Ԝ'] = ('W', false), ['ԝ'] = ('w', false), ['ԁ'] = ('d', false),
        ['ӏ'] = ('l', false), ['Ӏ'] = ('I', false), ['Ԍ'] = ('G', false), ['ԍ'] = ('g', false), ['Ѵ'] = ('V', false), ['ѵ'] = ('v', false),
        ['ɡ'] = ('g', false),
        ['н'] = ('H', true), ['З'] = ('3', true), ['Б'] = ('6', true), ['б'] = ('6', true),

        // Cherokee and Lisu capitals that are drawn as Latin capitals (Ꭺ, ꓮ for A): no word of either script is read as Latin,
        // since only a word that also holds an ASCII letter, digit or value punctuation is folded.
        ['Ꭺ'] = ('A', false), ['Ᏼ'] = ('B', false), ['Ꮯ'] = ('C', false), ['Ꭰ'] = ('D', false), ['Ꭼ'] = ('E', false), ['Ꮐ'] = ('G', false),
        ['Ꮋ'] = ('H', false), ['Ꭻ'] = ('J', false), ['Ꮶ'] = ('K', false), ['Ꮮ'] = ('L', false), ['Ꮇ'] = ('M', false), ['Ꮲ'] = ('P', false),
        ['Ꮪ'] = ('S', false), ['Ꮤ'] = ('T', false), ['Ꮩ'] = ('V', false), ['Ꮃ'] = ('W', false), ['Ꮓ'] = ('Z', false),
        ['ꓮ'] = ('A', false), ['ꓐ'] = ('B', false), ['ꓚ'] = ('C', false), ['ꓓ'] = ('D', false), ['ꓰ'] = ('E', false), ['ꓝ'] = ('F', false),
        ['ꓖ'] = ('G', false), ['ꓧ'] = ('H', false), ['ꓲ'] = ('I', false), ['ꓙ'] = ('J', false), ['ꓗ'] = ('K', false), ['ꓡ'] = ('L', false),
        ['ꓟ'] = ('M', false), ['ꓠ'] = ('N', false), ['ꓳ'] = ('O', false), ['ꓑ'] = ('P', false), ['ꓣ'] = ('R', false), ['ꓢ'] = ('S', false),
        ['ꓔ'] = ('T', false), ['ꓴ'] = ('U', false), ['ꓦ'] = ('V', false), ['ꓪ'] = ('W', false), ['ꓫ'] = ('X', false), ['ꓬ'] = ('Y', false),
        ['ꓜ'] = ('Z', false),

        // Greek
        ['Α'] = ('A', false), ['α'] = ('a', false), ['Β'] = ('B', false), ['Ε'] = ('E', false), ['Ζ'] = ('Z', false), ['Η'] = ('H', false),
        ['Ι'] = ('I', false), ['ι'] = ('i', false), ['Κ'] = ('K', false), ['κ'] = ('k', false), ['Μ'] = ('M', false), ['Ν'] = ('N', false),
        ['ν'] = ('v', false), ['Ο'] = ('O', false), ['ο'] = ('o', false), ['Ρ'] = ('P', false), ['ρ'] = ('p', false), ['Τ'] = ('T', false),
        ['Υ'] = ('Y', false), ['υ'] = ('u', false), ['Χ'] = ('X', false), ['χ'] = ('x', false), ['ϲ'] = ('c', false), ['Ϲ'] = ('C', false),
        ['ϳ'] = ('j', false), ['Ϳ'] = ('J', false),
        ['β'] = ('B', true), ['ε'] = ('E', true), ['τ'] = ('T', true),
    }.ToFrozenDictionary();

    // Decimal digits of other scripts in the Basic Multilingual Plane (Arabic-Indic ٣, Devanagari ३, Oriya ୩, fullwidth ３
    // …): each reads as the ASCII digit of its value. (Mathematical digits are surrogate pairs: NFKC reads them as ASCII.)
    private static readonly char[] s_digits = [.. Enumerable.Range(0x80, 0x10000 - 0x80).Select(i => (char)i)
        .Where(c => !char.IsSurrogate(c) && CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.DecimalDigitNumber)];

    // Where the look-alikes live: Greek and Coptic, Cyrillic and its supplement, Cherokee, Lisu, the IPA script g, and the digits that
    // stand in a value of ASCII letters and digits (the code-only digit look-alikes and the decimal digits of other scripts).
    private static readonly SearchValues<char> s_candidates = SearchValues.Create(
        [.. s_table.Where(e => !e.Value.CodeOnly || char.IsAsciiDigit(e.Value.Latin)).Select(e => e.Key), .. s_digits]);

    // Characters that end a word here: white space and the punctuation of sentences.
    private static bool EndsWord(char c) => char.IsWhiteSpace(c) || c is '"' or '\'' or '`' or '(' or ')' or '[' or ']' or '{' or '}' or '<' or '>' or ',' or ';' or '|' or '!' or '?';

    // What marks a word as one a value is written in: ASCII letters and digits, and the punctuation values use.
    private static bool Anchors(char c) => char.IsAsciiLetterOrDigit(c) || c is '@' or '-' or '_' or '/' or '+' or '=';

    /// <summary>The Latin letter <paramref name="c"/> looks like, or <paramref name="c"/> itself.</summary>
    public static char Latin(char c) => Latin(c, code: false);

    /// <summary>
    /// The Latin letter or digit <paramref name="c"/> looks like, or <paramref name="c"/> itself; with
    /// <paramref name="code"/>, also the look-alikes read so only in a code of capitals and digits (<c>З</c> as 3,
    /// <c>Б</c> as 6, <c>н</c> as H), as the canary analyzer reads codes.
    /// </summary>
    public static char Latin(char c, bool code) =>
        c < 0x80 ? c
        : s_table.TryGetValue(c, out var entry) ? (code || !entry.CodeOnly ? entry.Latin : c)
        : code ? Digit(c) ?? c : c;

    /// <summary>
    /// The ASCII digit <paramref name="c"/> stands for when it is a digit look-alike (Cyrillic <c>З</c> as 3, <c>Б</c> and
    /// <c>б</c> as 6) or a decimal digit of another script (Arabic-Indic <c>٣</c>, Oriya <c>୩</c>, fullwidth <c>３</c>: its
    /// numeric value); null for any other character.
    /// </summary>
    public static char? Digit(char c)
    {
        if (c < 0x80) return null;
        if (s_table.TryGetValue(c, out var entry)) return char.IsAsciiDigit(entry.Latin) ? entry.Latin : null;
        return CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.DecimalDigitNumber ? (char)('0' + CharUnicodeInfo.GetDecimalDigitValue(c)) : null;
    }

    /// <summary>True when <paramref name="c"/> is a Cyrillic or Greek letter that looks like a Latin one.</summary>
    public static bool IsLookAlike(char c) => c >= 0x80 && s_table.TryGetValue(c, out var entry) && !entry.CodeOnly;

    /// <summary>
    /// The text with each look-alike letter read as its Latin letter in every word that also holds an ASCII letter,
    /// digit or value punctuation, and each digit look-alike or decimal digit of another script read as its ASCII digit
    /// in every word that is otherwise a value (ASCII letters, digits, value punctuation and look-alikes, with at least one
    /// ASCII letter or digit: <c>AKIAЗ…</c>, <c>AKIA୩…</c>); the same string (no copy) when there is nothing to fold.
    /// Same length as the text. A word of Cyrillic, Arabic or another script keeps its letters and digits.
    /// </summary>
    public static string Fold(string text) => Fold(text, loneWords: false);

    /// <summary>
    /// The text folded as <see cref="Fold(string)"/> folds it; with <paramref name="loneWords"/>, a word made only of
    /// look-alike letters (the article "а" or "о" in Cyrillic) is also read as Latin when a word next to it is Latin (after
    /// the fold), as prose is read for injection: "play а game" would otherwise keep one Cyrillic word. A Russian sentence
    /// has no Latin neighbours and keeps its letters. Same length as the text.
    /// </summary>
    public static string Fold(string text, bool loneWords)
    {
        var folded = FoldWords(text);
        return loneWords ? FoldLoneWords(folded) : folded;
    }

    private static string FoldWords(string text)
    {
        ArgumentNullException.ThrowIfNull(text);

        // ASCII text has nothing to fold: one vectorised pass (the candidate set, with the digits of every script, is large).
        if (!text.AsSpan().ContainsAnyExceptInRange('\0', '\u007F')) return text;
        var first = text.AsSpan().IndexOfAny(s_candidates);
        if (first < 0) return text;
        char[]? folded = null;
        var at = first;
        while (at >= 0 && at < text.Length)
        {
            // The word around the look-alike.
            var start = at;
            while (start > 0 && !EndsWord(text[start - 1])) start--;
            var end = at;
            while (end < text.Length && !EndsWord(text[end])) end++;
            var anchored = false;
            var asciiValue = false;
            var plain = true;
            for (var i = start; i < end; i++)
            {
                var c = text[i];
                anchored |= Anchors(c);
                asciiValue |= char.IsAsciiLetterOrDigit(c);
                plain &= c is > ' ' and <= '~' || IsLookAlike(c) || Digit(c) is not null;
            }

            if (anchored)
            {
                var digits = plain && asciiValue;
                for (var i = start; i < end; i++)
                {
                    if (IsLookAlike(text[i])) (folded ??= text.ToCharArray())[i] = s_table[text[i]].Latin;
                    else if (digits && Digit(text[i]) is { } digit) (folded ??= text.ToCharArray())[i] = digit;
                }
            }

            if (end >= text.Length) break;
            var next = text.AsSpan(end).IndexOfAny(s_candidates);
            at = next < 0 ? -1 : end + next;
        }

        return folded is null ? text : new string(folded);
    }

    // Words here are runs of letters; a run of look-alikes only, next to a run of ASCII letters, is read as Latin.
    private static string FoldLoneWords(string text)
    {
        if (Ascii.IsValid(text)) return text;
        char[]? read = null;
        var words = new List<(int Start, int End)>();
        for (var i = 0; i < text.Length;)
        {
            if (!char.IsLetter(text[i])) { i++; continue; }
            var start = i;
            while (i < text.Length && char.IsLetter(text[i])) i++;
            words.Add((start, i));
        }

        for (var w = 0; w < words.Count; w++)
        {
            var (start, end) = words[w];
            if (!text.AsSpan(start, end - start).ContainsAnyExceptInRange('\0', '\u007F')) continue;
            var only = true;
            for (var i = start; i < end && only; i++) only = IsLookAlike(text[i]);
            if (!only) continue;
            var latinBefore = w > 0 && Ascii.IsValid(text.AsSpan(words[w - 1].Start, words[w - 1].End - words[w - 1].Start));
            var latinAfter = w + 1 < words.Count && Ascii.IsValid(text.AsSpan(words[w + 1].Start, words[w + 1].End - words[w + 1].Start));
            if (!latinBefore && !latinAfter) continue;
            read ??= text.ToCharArray();
            for (var i = start; i < end; i++) read[i] = Latin(text[i]);
        }

        return read is null ? text : new string(read);
    }
}
