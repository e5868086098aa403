using System.Buffers;
using System.Text;

namespace Drydock.Detection.Engine;

/// <summary>
/// Values written in an encoding the patterns do not read: base64 (standard and URL-safe alphabets, at least
/// <see cref="MinBase64"/> characters), hex (an even number of at least <see cref="MinHexDigits"/> digits, written
/// together, after <c>0x</c>, or as byte pairs separated by single spaces or colons) and single characters separated
/// by one repeated separator (space, hyphen, dot, underscore, comma, semicolon, vertical bar, colon or line break; at least <see cref="MinSpaced"/>
/// characters: <c>A K I A …</c>, <c>j-o-h-n-@-…</c>, one character a line), and the other spellings of
/// <see cref="Spellings"/> (groups of letters and digits, markdown emphasis inside a value, percent-encoding). Each run is decoded, and the decoded text is judged by the secret and
/// personal-data rules (then decoded once more, to <see cref="MaxDepth"/> levels); a finding there is reported on the
/// whole encoded run, with <see cref="Finding.Encoding"/> set, so a redaction removes the encoded value.
/// Precision comes from the decoding: base64 and hex must decode to UTF-8 text without control characters (a digest,
/// a UUID, a git SHA or a random blob decodes to bytes that are not text), and the decoded text must hold a value a
/// rule accepts. Bounded: a run longer than <see cref="MaxRunLength"/> characters is decoded in its first
/// <see cref="MaxRunLength"/> only, decoded text is never longer than its run, and the decoded text of a text is
/// judged at most <see cref="MaxDepth"/> times over, so the work is at most a few scans of the text.
/// </summary>
internal static partial class EncodedText
{
    /// <summary>The fewest base64 characters decoded.</summary>
    public const int MinBase64 = 16;

    /// <summary>The fewest hex digits decoded.</summary>
    public const int MinHexDigits = 16;

    /// <summary>The fewest separated characters read as one value.</summary>
    public const int MinSpaced = 12;

    /// <summary>How many times a decoded text is decoded again (base64 of hex, for one).</summary>
    public const int MaxDepth = 2;

    /// <summary>The most characters of one run that are decoded.</summary>
    public const int MaxRunLength = 8_192;

    // Characters of a base64 run in either alphabet ('=' padding is read after the run).
    private static readonly SearchValues<char> s_base64 = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_");

    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>One encoded run: where it is, its encoding, and what it decodes to.</summary>
    public readonly record struct Run(int Start, int End, string Encoding, string Decoded);

    // The runs of texts decoded so far, by the text's instance: the detector's rules and the canary tripwire read the
    // same text's runs, and it is decoded once (an entry goes when its text is collected).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<string, Decoded> s_decoded = [];

    private sealed record Decoded(List<Run>? Runs);

    /// <summary>
    /// Every run of <paramref name="text"/> that decodes to text, in order (runs of different encodings may overlap).
    /// Decoded once per text instance and shared: callers only read the list.
    /// </summary>
    public static List<Run>? Find(string text)
    {
        // Fast exit: no run can be long enough to decode (the shortest is a base64 run of MinBase64 characters).
        if (text.Length < MinBase64) return null;
        return s_decoded.GetValue(text, static t =>
        {
            List<Run>? runs = null;
            Tokens(t, ref runs);
            Separated(t, ref runs);
            Spellings(t, ref runs);
            return new Decoded(runs);
        }).Runs;
    }

    // Runs of base64 characters at least MinBase64 long: the next MinBase64 characters are looked at in one vectorised
    // call, and most words end within them.
    private static void Tokens(string text, ref List<Run>? runs)
    {
        var span = text.AsSpan();
        var at = 0;
        while (span.Length - at >= MinBase64)
        {
            var cut = span.Slice(at, MinBase64).IndexOfAnyExcept(s_base64);
            if (cut >= 0)
            {
                at += cut + 1;
                continue;
            }

            var length = span[at..].IndexOfAnyExcept(s_base64);
            var end = length < 0 ? span.Length : at + length;
            var padded = end;
            while (padded < span.Length && padded - end < 2 && span[padded] == '=') padded++;
            Token(text, at, end, padded, ref runs);
            Wrapped(text, at, end, ref runs);
            at = end + 1;
        }
    }

    private static void Token(string text, int start, int end, int padded, ref List<Run>? runs)
    {
        var run = text.AsSpan(start, Math.Min(end - start, MaxRunLength));
        var hex = run.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? run[2..] : run;
        if (hex.Length >= MinHexDigits && hex.Length % 2 == 0 && !hex.ContainsAnyExcept(HexDigits) && Hex(hex, separator: null) is { } fromHex)
        {
            (runs ??= []).Add(new Run(start, end, "hex", fromHex));
            return;
        }

        if (Base64(run) is { } fromBase64)
        {
            (runs ??= []).Add(new Run(start, end == start + run.Length ? padded : start + run.Length, "base64", fromBase64));
            return;
        }

        // A run that starts right after a path or a URL ("…/docs/QUtJQ…"): '/' is a base64 character, so the run reads
        // from the path's start and decodes to nothing; it is read again after each of its first slashes.
        var from = 0;
        for (var k = 0; k < MaxSlashes; k++)
        {
            var slash = run[from..].IndexOf('/');
            if (slash < 0 || run.Length - (from + slash + 1) < MinBase64) return;
            from += slash + 1;
            if (Base64(run[from..]) is { } afterSlash)
            {
                (runs ??= []).Add(new Run(start + from, end == start + run.Length ? padded : start + run.Length, "base64", afterSlash));
                return;
            }
        }
    }

    // How many slashes of a run are tried as the start of a base64 value.
    private const int MaxSlashes = 8;

    // Base64 wrapped across lines (MIME writes 76 characters a line): a run whose length is a multiple of four, followed
    // by a line break and more base64 lines no longer than it, is decoded with its lines joined (up to MaxRunLength).
    private static void Wrapped(string text, int start, int end, ref List<Run>? runs)
    {
        var width = end - start;
        if (width < MinBase64 || width % 4 != 0 || width > MaxRunLength) return;
        var joined = new StringBuilder(text, start, width, width * 2);
        var at = end;
        var last = end;
        while (joined.Length < MaxRunLength)
        {
            var next = at < text.Length && text[at] == '\n' ? at + 1 : at + 1 < text.Length && text[at] == '\r' && text[at + 1] == '\n' ? at + 2 : -1;
            if (next < 0) break;
            var length = text.AsSpan(next).IndexOfAnyExcept(s_base64);
            if (length < 0) length = text.Length - next;
            if (length == 0 || length > width) break;
            var padded = next + length;
            while (padded < text.Length && padded - (next + length) < 2 && text[padded] == '=') padded++;
            joined.Append(text, next, length);
            last = padded;
            if (length < width || padded > next + length) break;
            at = next + length;
        }

        if (last == end) return;
        if (Base64(joined.ToString().AsSpan(0, Math.Min(joined.Length, MaxRunLength))) is { } decoded) (runs ??= []).Add(new Run(start, last, "base64", decoded));
    }

    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");

    // Separated runs: single characters (period 2) or hex byte pairs (period 3) with one separator repeated between
    // them. A run of MinSpaced characters is at least 23 characters long, so looking every 8 characters for three
    // separators in a row at the run's period finds every one; each is then widened to its ends.
    private static void Separated(string text, ref List<Run>? runs)
    {
        const int stride = 8;

        // Fast exit: a separated run of MinSpaced characters is 2 * MinSpaced - 1 characters long at least.
        if (text.Length < 2 * MinSpaced - 1) return;
        var done = 0;
        for (var p = 0; p + 8 < text.Length; p += stride)
        {
            if (p < done) continue;
            for (var k = 0; k < 3; k++)
            {
                var s = text[p + k];
                if (IsCharSeparator(s) && text[p + k + 2] == s && text[p + k + 4] == s && text[p + k + 1] != s && text[p + k + 3] != s && !char.IsWhiteSpace(text[p + k + 1]) && !char.IsWhiteSpace(text[p + k + 3]))
                {
                    var end = Spaced(text, p + k + 1, s, done, ref runs);
                    if (end > done) done = end;
                    break;
                }

                if (s is ' ' or ':' && text[p + k + 3] == s && text[p + k + 6] == s && IsPair(text, p + k + 1) && IsPair(text, p + k + 4))
                {
                    var end = HexPairs(text, p + k + 1, s, done, ref runs);
                    if (end > done) done = end;
                    break;
                }
            }
        }
    }

    // Single characters at t, t+2, … with separator s between them: widened both ways (not before floor, where the
    // last run ended); returns where the run ends.
    private static int Spaced(string text, int t, char s, int floor, ref List<Run>? runs)
    {
        bool Single(int i) => i >= 0 && i < text.Length && text[i] != s && !char.IsWhiteSpace(text[i])
                              && (i == 0 || text[i - 1] == s || IsEdge(text[i - 1])) && (i + 1 == text.Length || text[i + 1] == s || IsEdge(text[i + 1]));
        var first = t;
        while (first - 2 >= floor && text[first - 1] == s && Single(first - 2) && t - first < MaxRunLength) first -= 2;
        var last = t;
        while (last + 2 < text.Length && text[last + 1] == s && Single(last + 2) && last - first < MaxRunLength) last += 2;
        var count = (last - first) / 2 + 1;
        if (count < MinSpaced || !Single(first) || !Single(last)) return last + 1;
        var decoded = new StringBuilder(count);
        for (var i = first; i <= last; i += 2) decoded.Append(text[i]);
        (runs ??= []).Add(new Run(first, last + 1, "spaced", decoded.ToString()));
        return last + 1;
    }

    // Hex byte pairs at t, t+3, … with separator s between them; returns where the run ends.
    private static int HexPairs(string text, int t, char s, int floor, ref List<Run>? runs)
    {
        bool Edge(int i) => i < 0 || i >= text.Length || IsEdge(text[i]);
        var first = t;
        while (first - 3 >= floor && text[first - 1] == s && IsPair(text, first - 3) && (first - 4 < 0 || text[first - 4] == s || Edge(first - 4)) && t - first < MaxRunLength) first -= 3;
        var last = t;
        while (last + 5 <= text.Length && text[last + 2] == s && IsPair(text, last + 3) && (last + 5 == text.Length || text[last + 5] == s || Edge(last + 5)) && last - first < MaxRunLength) last += 3;
        var end = last + 2;
        if (!Edge(first - 1) && text[first - 1] != s || !Edge(end) && text[end] != s) return end;
        var pairs = (end - first + 1) / 3;
        if (pairs * 2 < MinHexDigits) return end;
        if (Hex(text.AsSpan(first, end - first), s) is { } decoded) (runs ??= []).Add(new Run(first, end, "hex", decoded));
        return end;
    }

    // What separates single characters of a spaced run (A K I A …, A;K;I;A;…, A|K|I|A|…, A:K:I:A:…).
    private static bool IsCharSeparator(char c) => c is ' ' or '-' or '.' or '_' or ',' or '\n' or ';' or '|' or ':';

    private static bool IsPair(string text, int i) => i >= 0 && i + 1 < text.Length && char.IsAsciiHexDigit(text[i]) && char.IsAsciiHexDigit(text[i + 1]);

    private static bool IsPair(ReadOnlySpan<char> text, int i) => i >= 0 && i + 1 < text.Length && char.IsAsciiHexDigit(text[i]) && char.IsAsciiHexDigit(text[i + 1]);

    // What ends a run: whitespace, quotes, brackets, punctuation other than the run's own.
    private static bool IsEdge(char c) => !char.IsLetterOrDigit(c);

    private static string? Hex(ReadOnlySpan<char> digits, char? separator)
    {
        var step = separator is null ? 2 : 3;
        var bytes = new byte[(digits.Length + (separator is null ? 0 : 1)) / step];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)((HexValue(digits[i * step]) << 4) | HexValue(digits[i * step + 1]));
        }

        return AsText(bytes);
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private static string? Base64(ReadOnlySpan<char> run)
    {
        var urlSafe = run.ContainsAny('-', '_');
        if (urlSafe && run.ContainsAny('+', '/')) return null;
        if (run.Length % 4 == 1) return null;
        var padded = (run.Length + 3) / 4 * 4;
        var chars = ArrayPool<char>.Shared.Rent(padded);
        try
        {
            for (var i = 0; i < run.Length; i++) chars[i] = run[i] switch { '-' => '+', '_' => '/', var c => c };
            for (var i = run.Length; i < padded; i++) chars[i] = '=';
            var bytes = new byte[padded / 4 * 3];
            return Convert.TryFromBase64Chars(chars.AsSpan(0, padded), bytes, out var written) ? AsText(bytes.AsSpan(0, written)) : null;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    // Decoded bytes that are text: valid UTF-8 with no control character other than tab and line breaks.
    private static string? AsText(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 6 || !System.Text.Unicode.Utf8.IsValid(bytes)) return null;
        foreach (var b in bytes)
        {
            if (b is (< 0x20 and not (byte)'\t' and not (byte)'\n' and not (byte)'\r') or 0x7F) return null;
        }

        return s_utf8.GetString(bytes);
    }

    /// <summary>
    /// Where base64 wrapped across lines (what <see cref="Find"/> joins: lines of one width, a multiple of four and at
    /// least <see cref="MinBase64"/>) starts when it may still go on at the end of <paramref name="text"/>: the text ends
    /// with such a line and a line break, or a line break and part of the next line no longer than the width; -1 when
    /// there is none. A stream holds such a run back whole until it ends (at most <paramref name="limit"/> characters
    /// from the end), as it holds a token: a line that left before the next arrived could not be decoded with it.
    /// </summary>
    public static int OpenWrappedRun(string text, int limit)
    {
        var n = text.Length;
        var i = n;
        while (i > 0 && n - i <= MaxRunLength && s_base64.Contains(text[i - 1])) i--;
        var partial = n - i;
        int brk;
        if (i > 0 && text[i - 1] == '\n') brk = i - 1 > 0 && text[i - 2] == '\r' ? i - 2 : i - 1;
        else if (partial == 0 && n > 0 && text[n - 1] == '\r') brk = n - 1;
        else return -1;

        var start = -1;
        var width = -1;
        while (n - brk < limit)
        {
            var k = brk;
            while (k > 0 && brk - k <= MaxRunLength && s_base64.Contains(text[k - 1])) k--;
            var w = brk - k;
            if (width < 0)
            {
                if (w < MinBase64 || w % 4 != 0 || w < partial) return -1;
                width = w;
            }
            else if (w != width)
            {
                break;
            }

            start = k;
            if (k == 0 || text[k - 1] != '\n') break;
            brk = k - 1 > 0 && text[k - 2] == '\r' ? k - 2 : k - 1;
        }

        return start >= 0 && n - start <= limit ? start : -1;
    }

    /// <summary>
    /// Where a run of single characters or hex byte pairs separated by one repeated separator (what <see cref="Find"/>
    /// decodes as <c>spaced</c> or <c>hex</c>) starts when it is still open at the end of <paramref name="text"/>
    /// (at least three characters or pairs, a separator or half a pair may end it); -1 when there is none. A stream holds
    /// such a run back whole, as it holds a token, until it ends.
    /// </summary>
    public static int OpenSeparatedRun(ReadOnlySpan<char> text)
    {
        var n = text.Length;
        var best = -1;
        foreach (var back in new[] { 1, 2 })
        {
            // Single characters: separators at every other position.
            var pos = n - back;
            if (pos >= 1 && IsCharSeparator(text[pos]) && text[pos - 1] != text[pos] && !char.IsWhiteSpace(text[pos - 1]))
            {
                var s = text[pos];
                var count = 1;
                while (pos >= 3 && text[pos - 2] == s && text[pos - 3] != s && !char.IsWhiteSpace(text[pos - 3]) && n - pos < MaxRunLength)
                {
                    pos -= 2;
                    count++;
                }

                var start = pos - 1;
                if (count >= 3 && (start == 0 || IsEdge(text[start - 1]) || text[start - 1] == s) && (best < 0 || start < best)) best = start;
            }
        }

        foreach (var back in new[] { 1, 2, 3 })
        {
            // Hex byte pairs: separators at every third position.
            var pos = n - back;
            if (pos >= 2 && text[pos] is ' ' or ':' && IsPair(text, pos - 2))
            {
                var s = text[pos];
                var count = 1;
                while (pos >= 5 && text[pos - 3] == s && IsPair(text, pos - 5) && n - pos < MaxRunLength)
                {
                    pos -= 3;
                    count++;
                }

                var start = pos - 2;
                if (count >= 3 && (start == 0 || IsEdge(text[start - 1])) && (best < 0 || start < best)) best = start;
            }
        }

        return best;
    }
}
