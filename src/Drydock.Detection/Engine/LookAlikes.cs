using System.Buffers;
using System.Collections.Frozen;

namespace Drydock.Detection.Engine;

/// <summary>
/// Cyrillic and Greek letters that look like Latin ones, which NFKC leaves as they are: <c>АКІА…</c> written with
/// Cyrillic А, К and І, or <c>-----BЕGIN</c> with a Cyrillic Е, reads as Latin to a person and to a model, and hid the
/// value from every pattern. <see cref="Fold"/> reads each such letter as the Latin one it looks like, in every word
/// that also holds an ASCII letter, digit or one of <c>@ - _ / + =</c> (a value written with a few look-alikes), and
/// leaves words of Cyrillic or Greek alone (a Russian or Greek sentence is not rewritten into Latin). One character
/// stands for one character, so every offset stays that of the original and a finding covers the original letters.
/// The detector folds before every pattern rule; the hidden-text analyzer still reports the mixed-script word.
/// </summary>
internal static class LookAlikes
{
    private static readonly FrozenDictionary<char, char> s_latin = new Dictionary<char, char>
    {
        // Cyrillic
        ['А'] = 'A', ['а'] = 'a', ['В'] = 'B', ['в'] = 'b', ['С'] = 'C', ['с'] = 'c', ['Е'] = 'E', ['е'] = 'e', ['Н'] = 'H', ['һ'] = 'h',
        ['І'] = 'I', ['і'] = 'i', ['Ј'] = 'J', ['ј'] = 'j', ['К'] = 'K', ['к'] = 'k', ['М'] = 'M', ['м'] = 'm', ['О'] = 'O', ['о'] = 'o',
        ['Р'] = 'P', ['р'] = 'p', ['Ԛ'] = 'Q', ['ԛ'] = 'q', ['Ѕ'] = 'S', ['ѕ'] = 's', ['Т'] = 'T', ['т'] = 't', ['Х'] = 'X', ['х'] = 'x',
        ['У'] = 'Y', ['у'] = 'y', ['Ү'] = 'Y', ['Ԝ'] = 'W', ['ԝ'] = 'w', ['ԁ'] = 'd', ['ӏ'] = 'l', ['Ӏ'] = 'I', ['Ԍ'] = 'G', ['ԍ'] = 'g',
        ['Ѵ'] = 'V', ['ѵ'] = 'v', ['ɡ'] = 'g',

        // Greek
        ['Α'] = 'A', ['α'] = 'a', ['Β'] = 'B', ['Ε'] = 'E', ['Ζ'] = 'Z', ['Η'] = 'H', ['Ι'] = 'I', ['ι'] = 'i', ['Κ'] = 'K', ['κ'] = 'k',
        ['Μ'] = 'M', ['Ν'] = 'N', ['ν'] = 'v', ['Ο'] = 'O', ['ο'] = 'o', ['Ρ'] = 'P', ['ρ'] = 'p', ['Τ'] = 'T', ['Υ'] = 'Y', ['υ'] = 'u',
        ['Χ'] = 'X', ['χ'] = 'x', ['ϲ'] = 'c', ['Ϲ'] = 'C', ['ϳ'] = 'j', ['Ϳ'] = 'J',
    }.ToFrozenDictionary();

    // Where the look-alikes live: Greek and Coptic, Cyrillic and its supplement, and the IPA script g.
    private static readonly SearchValues<char> s_candidates = SearchValues.Create([.. s_latin.Keys]);

    // Characters that end a word here: white space and the punctuation of sentences.
    private static bool EndsWord(char c) => char.IsWhiteSpace(c) || c is '"' or '\'' or '`' or '(' or ')' or '[' or ']' or '{' or '}' or '<' or '>' or ',' or ';' or '|' or '!' or '?';

    // What marks a word as one a value is written in: ASCII letters and digits, and the punctuation values use.
    private static bool Anchors(char c) => char.IsAsciiLetterOrDigit(c) || c is '@' or '-' or '_' or '/' or '+' or '=';

    /// <summary>The Latin letter <paramref name="c"/> looks like, or <paramref name="c"/> itself.</summary>
    public static char Latin(char c) => c >= 0x80 && s_latin.TryGetValue(c, out var latin) ? latin : c;

    /// <summary>True when <paramref name="c"/> is a Cyrillic or Greek letter that looks like a Latin one.</summary>
    public static bool IsLookAlike(char c) => c >= 0x80 && s_latin.ContainsKey(c);

    /// <summary>
    /// The text with each look-alike letter read as its Latin letter in every word that also holds an ASCII letter,
    /// digit or value punctuation; the same string (no copy) when there is nothing to fold. Same length as the text.
    /// </summary>
    public static string Fold(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
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
            for (var i = start; i < end && !anchored; i++) anchored = Anchors(text[i]);
            if (anchored)
            {
                for (var i = start; i < end; i++)
                {
                    if (IsLookAlike(text[i])) (folded ??= text.ToCharArray())[i] = s_latin[text[i]];
                }
            }

            if (end >= text.Length) break;
            var next = text.AsSpan(end).IndexOfAny(s_candidates);
            at = next < 0 ? -1 : end + next;
        }

        return folded is null ? text : new string(folded);
    }
}
