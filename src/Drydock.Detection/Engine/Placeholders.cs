using System.Buffers;

namespace Drydock.Detection.Engine;

/// <summary>
/// Recognises documentation placeholders and template variables that look like secrets. A placeholder word is weighed
/// by where it stands, so that chance cannot write one: a long random value (a JWT's signature, a 16,000-character
/// token or key body) holds four letters such as <c>fake</c> in some case about once in sixty, and it is still a secret.
/// </summary>
public static class Placeholders
{
    // Markers that are no word (template syntax, fillers): never written by chance in a base64 or hex run, or long
    // enough that chance does not write them (one position in about 10^10 for seven letters in any case).
    private static readonly SearchValues<string> s_markers = SearchValues.Create(
        ["${", "{{", "}}", "%s", "****", "....", "xxxxxxxx", "0000000000", "1234567890", "abcdefghij", "a1b2c3d4"],
        StringComparison.OrdinalIgnoreCase);

    // Placeholder words. One of at least LongWord letters counts wherever it is; a shorter one (fake, dummy, xxxxx, your-)
    // only where it stands as a word of its own, or in a short value (see IsPlaceholder).
    private static readonly string[] s_words =
        ["example", "placeholder", "yourkey", "your key", "redacted", "changeme", "change_me", "replace", "insert", "xxxxx", "your_", "your-", "dummy", "fake"];

    private static readonly SearchValues<string> s_wordValues = SearchValues.Create(s_words, StringComparison.OrdinalIgnoreCase);

    // A word this long is not written by chance in any value a rule matches (16,000 random characters hold a given
    // seven letters in any case about once in 2·10^6 values).
    private const int LongWord = 7;

    // A value this short is read whole: a placeholder word anywhere in it counts (AKIAFAKEKEY12345678).
    private const int ShortValue = 24;

    /// <summary>
    /// True when the value is a placeholder such as <c>AKIAIOSFODNN7EXAMPLE</c>, <c>sk-live-EXAMPLE-key</c>,
    /// <c>&lt;token&gt;</c> or <c>xxxxxxxx</c>. A placeholder word counts where it stands as a word of its own (letters
    /// of one case — <c>fake</c>, <c>FAKE</c>, <c>Fake</c> — with no letter just before or after it: a dot, underscore,
    /// dash, digit or the value's edge), anywhere when it is at least seven letters long, or anywhere in a value of at
    /// most 24 characters; not as four letters of mixed case inside a long random run (<c>…x9FaKeQ2…</c>).
    /// </summary>
    public static bool IsPlaceholder(ReadOnlySpan<char> value)
    {
        if (value.ContainsAny(s_markers) || HoldsWord(value))
        {
            return true;
        }

        // "<your-key>", "<token>": a name in angle brackets (a lone '>' is just a character of a random secret).
        var open = value.IndexOf('<');
        if (open >= 0 && value[(open + 1)..].Contains('>'))
        {
            return true;
        }

        // Very few distinct characters ("aaaaaaaa", "abababab") is a filler, not a key.
        Span<bool> seen = stackalloc bool[128];
        var distinct = 0;
        foreach (var c in value)
        {
            if (c < 128 && !seen[c])
            {
                seen[c] = true;
                distinct++;
            }
        }

        return value.Length >= 8 && distinct <= 3;
    }

    // True when a placeholder word stands in the value as one (see IsPlaceholder).
    private static bool HoldsWord(ReadOnlySpan<char> value)
    {
        var from = 0;
        while (from < value.Length)
        {
            var at = value[from..].IndexOfAny(s_wordValues);
            if (at < 0) return false;
            at += from;
            foreach (var word in s_words)
            {
                if (at + word.Length > value.Length || !value.Slice(at, word.Length).Equals(word, StringComparison.OrdinalIgnoreCase)) continue;
                if (word.Length >= LongWord || value.Length <= ShortValue || StandsAlone(value, at, word.Length)) return true;
            }

            from = at + 1;
        }

        return false;
    }

    // The word at [at, at + length) has no letter just before or after it and its letters are of one case.
    private static bool StandsAlone(ReadOnlySpan<char> value, int at, int length)
    {
        if (at > 0 && char.IsLetter(value[at - 1]) && char.IsLetter(value[at])) return false;
        var end = at + length;
        if (end < value.Length && char.IsLetter(value[end]) && char.IsLetter(value[end - 1])) return false;
        var word = value.Slice(at, length);
        var upper = 0;
        var letters = 0;
        foreach (var c in word)
        {
            if (!char.IsLetter(c)) continue;
            letters++;
            if (char.IsUpper(c)) upper++;
        }

        return upper == 0 || upper == letters || (upper == 1 && char.IsUpper(word[0]));
    }
}
