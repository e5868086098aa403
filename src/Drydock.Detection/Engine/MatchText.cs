using System.Globalization;
using System.Text;
using Drydock.Detection.Analyzers;

namespace Drydock.Detection.Engine;

/// <summary>
/// A text as detectors should match it, with every offset mapped back to the original: invisible characters
/// (zero-width, soft hyphen, word joiners), control characters other than tab and line breaks (NUL, BEL, DEL, C1), bidi controls, tag characters and variation selectors are removed, each
/// character with its combining marks is put in NFKC (fullwidth <c>ＡＫＩＡ</c> reads as <c>AKIA</c>, ligatures are
/// split; see <see cref="MarkedLatin"/> for combining marks on Latin letters), and what cannot be text (a lone surrogate, U+FFFD from a failed decoding) is removed and noted in
/// <see cref="InvalidAt"/>. The hidden-text analyzer reports the removed characters on the original; this only keeps
/// them from hiding a value from the other detectors. A span found in <see cref="Text"/> maps back with
/// <see cref="OriginalStart"/> and <see cref="OriginalEnd"/> to the whole original span, the removed characters inside
/// it included, so a redaction removes all of it. JSON escapes (<c>\u00AD</c>, <c>\u002B</c>, <c>\n</c>, <c>\t</c>) and HTML character references (<c>&amp;#65;</c>, <c>&amp;#x41;</c>,
/// <c>&amp;amp;</c>) are read as the characters they stand for, since a tool call's arguments are JSON inside a string. Pure ASCII without escapes is returned as it is (no copy).
/// </summary>
internal sealed class MatchText
{
    private readonly int[]? _starts;
    private readonly int[]? _ends;

    private MatchText(string original, string text, int[]? starts, int[]? ends, IReadOnlyList<int> invalidAt)
    {
        Original = original;
        Text = text;
        _starts = starts;
        _ends = ends;
        InvalidAt = invalidAt;
    }

    /// <summary>The text as it came.</summary>
    public string Original { get; }

    /// <summary>The text to match.</summary>
    public string Text { get; }

    /// <summary>Offsets in the original of characters that cannot be text (lone surrogates, U+FFFD).</summary>
    public IReadOnlyList<int> InvalidAt { get; }

    /// <summary>
    /// True when combining marks are written on Latin letters or digits (<c>A&#x301;KIA…</c>), or stand alone: the text
    /// should then be matched once more as <c>Of(text, stripMarks: true)</c> reads it, since a mark inside a value hides it
    /// from a pattern, while composing them keeps <c>é</c> for the rules that read accented words.
    /// </summary>
    public bool MarkedLatin { get; private init; }

    /// <summary>True when <see cref="Text"/> differs from the original.</summary>
    public bool Changed => _starts is not null;

    /// <summary>
    /// Normalises <paramref name="text"/> for matching; with <paramref name="stripMarks"/> the combining marks written on
    /// Latin letters and digits are dropped too (see <see cref="MarkedLatin"/>).
    /// </summary>
    public static MatchText Of(string text, bool stripMarks = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (IsPlain(text)) return new MatchText(text, text, null, null, []);
        var builder = new StringBuilder(text.Length);
        var starts = new List<int>(text.Length);
        var ends = new List<int>(text.Length);
        List<int>? invalid = null;
        var marked = false;
        var lastOut = -1;
        var lastIn = 0;
        var i = 0;
        while (i < text.Length)
        {
            var (cp, width, escaped) = Next(text, i);
            if (cp < 0 || cp == 0xFFFD)
            {
                (invalid ??= []).Add(i);
                i += width;
                continue;
            }

            if (IsIgnorable(cp))
            {
                i += width;
                continue;
            }

            // One cluster: the character and the combining marks written after it, normalised together.
            var end = i + width;
            if (!escaped) while (end < text.Length && IsCombiningMark(text[end])) end++;
            if (cp < 0x80 && end - i == width)
            {
                lastOut = builder.Length;
                lastIn = i;
                builder.Append((char)cp);
                starts.Add(i);
                ends.Add(end);
            }
            else
            {
                var cluster = escaped ? char.ConvertFromUtf32(cp) : text.Substring(i, end - i);
                var from = i;
                if (lastOut >= 0 && cp < 0x10000 && IsCombiningMark((char)cp))
                {
                    // Marks cut from their character by what was removed (an invisible or invalid character, an escape)
                    // join the cluster before them, as they will when the result is normalised again: normalising is
                    // idempotent.
                    cluster = builder.ToString(lastOut, builder.Length - lastOut) + cluster;
                    builder.Length = lastOut;
                    starts.RemoveRange(lastOut, starts.Count - lastOut);
                    ends.RemoveRange(lastOut, ends.Count - lastOut);
                    from = lastIn;
                }
                else
                {
                    lastOut = builder.Length;
                    lastIn = i;
                }

                var normal = Fold(cluster, stripMarks, ref marked);
                builder.Append(normal);
                for (var k = 0; k < normal.Length; k++)
                {
                    starts.Add(from);
                    ends.Add(end);
                }
            }

            i = end;
        }

        var result = builder.ToString();
        return result == text && invalid is null
            ? new MatchText(text, text, null, null, []) { MarkedLatin = marked }
            : new MatchText(text, result, [.. starts], [.. ends], invalid ?? (IReadOnlyList<int>)[]) { MarkedLatin = marked };
    }

    /// <summary>
    /// The text with JSON's <c>\uXXXX</c> escapes read as the characters they stand for and nothing else changed (what
    /// the hidden-text analyzer should see of a tool call's arguments, which are JSON inside a string).
    /// </summary>
    public static string Unescaped(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Contains("\\u", StringComparison.Ordinal)) return text;
        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length;)
        {
            var (cp, width, escaped) = Next(text, i, html: false);
            if (escaped && cp >= 0) builder.Append(char.ConvertFromUtf32(cp));
            else builder.Append(text, i, width);
            i += width;
        }

        return builder.ToString();
    }

    /// <summary>
    /// The text with every character <see cref="Of"/> removes as invisible (written raw or as an escape) replaced by as
    /// many spaces as it takes, so offsets stay those of the original; null when there is none. Removing an invisible
    /// character joins what it separated ("ghu_…YYek\u200BPRIVATE" reads as one word, and the token's boundary is lost),
    /// so a text that holds one is matched both ways.
    /// </summary>
    public static string? InvisibleAsSpace(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (IsPlain(text)) return null;
        StringBuilder? builder = null;
        for (var i = 0; i < text.Length;)
        {
            var (cp, width, _) = Next(text, i);
            if (cp >= 0 && IsIgnorable(cp) && cp is not ('\t' or '\n' or '\r'))
            {
                builder ??= new StringBuilder(text, 0, i, text.Length);
                builder.Append(' ', width);
            }
            else
            {
                builder?.Append(text, i, width);
            }

            i += width;
        }

        return builder?.ToString();
    }

    // The code point at i (-1 for a lone surrogate), how many characters it takes, and whether it was a JSON escape
    // (\uXXXX, or a pair of them for a surrogate pair): text inside a JSON string inside a string (a tool call's
    // arguments) escapes what it likes, and an escaped soft hyphen or '+' must not hide a value.
    private static (int CodePoint, int Width, bool Escaped) Next(string text, int i, bool html = true)
    {
        var c = text[i];
        if (html && c == '&' && Entity(text, i) is { } entity) return (entity.CodePoint, entity.Width, true);
        if (c == '\\' && Hex(text, i) is { } unit)
        {
            if (char.IsHighSurrogate(unit) && Hex(text, i + 6) is { } low && char.IsLowSurrogate(low)) return (char.ConvertToUtf32(unit, low), 12, true);
            return char.IsSurrogate(unit) ? (-1, 6, true) : (unit, 6, true);
        }

        // JSON's escapes of line breaks and tabs, as in a tool call's arguments: "Best regards,\nTomasz Nowak" reads with its
        // line break. (Quotes and backslashes stay as written: they hide no value.)
        if (c == '\\' && i + 1 < text.Length && text[i + 1] switch { 'n' => '\n', 'r' => '\r', 't' => '\t', _ => '\0' } is var shortEscape and not '\0')
        {
            return (shortEscape, 2, true);
        }

        if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) return (char.ConvertToUtf32(c, text[i + 1]), 2, false);
        return char.IsSurrogate(c) ? (-1, 1, false) : (c, 1, false);
    }

    // An HTML character reference (&#65; &#x41; &amp; &lt; &gt; &quot; &apos; &nbsp;) at i, with its width.
    private static (int CodePoint, int Width)? Entity(string text, int i)
    {
        var semi = text.IndexOf(';', i + 1, Math.Min(12, text.Length - i - 1));
        if (semi < 0) return null;
        var name = text.AsSpan(i + 1, semi - i - 1);
        var width = semi - i + 1;
        if (name.Length > 1 && name[0] == '#')
        {
            var hex = name[1] is 'x' or 'X';
            var digits = name[(hex ? 2 : 1)..];
            if (digits.Length is 0 or > 7) return null;
            if (!int.TryParse(digits, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out var value)) return null;
            return value is > 0 and <= 0x10FFFF and not (>= 0xD800 and <= 0xDFFF) ? (value, width) : null;
        }

        return name switch
        {
            "amp" => ('&', width),
            "lt" => ('<', width),
            "gt" => ('>', width),
            "quot" => ('"', width),
            "apos" => ('\'', width),
            "nbsp" => (0xA0, width),

            // The HTML5 names of the punctuation values are written with (maria&commat;example&period;com).
            "commat" => ('@', width),
            "period" => ('.', width),
            "lowbar" => ('_', width),
            "hyphen" or "dash" => ('-', width),
            "sol" => ('/', width),
            "colon" => (':', width),
            "plus" => ('+', width),
            "equals" => ('=', width),
            "num" => ('#', width),
            "percnt" => ('%', width),
            _ => null,
        };
    }

    private static char? Hex(string text, int i) =>
        i + 5 < text.Length && text[i] == '\\' && text[i + 1] == 'u'
        && ushort.TryParse(text.AsSpan(i + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value) ? (char)value : null;

    // Printable ASCII, tabs and line breaks, without escapes: nothing to normalise.
    private static bool IsPlain(string text)
    {
        var span = text.AsSpan();
        var at = span.IndexOfAnyExceptInRange(' ', '~');
        if (at >= 0) foreach (var c in span[at..]) if (c is (< ' ' and not '\t' and not '\n' and not '\r') or > '~') return false;
        return !text.Contains('\\', StringComparison.Ordinal) && !text.Contains('&', StringComparison.Ordinal);
    }

    private static bool IsControl(int cp) => cp is (< 0x20 and not '\t' and not '\n' and not '\r') or (>= 0x7F and <= 0x9F);

    /// <summary>
    /// True for a code point removed before matching (invisible, bidi control, tag character, variation selector, a
    /// C0 or C1 control character other than tab and line breaks, DEL).
    /// </summary>
    public static bool IsIgnorable(int cp) =>
        IsControl(cp) || (cp < 0x10000 ? HiddenTextAnalyzer.IsInvisible((char)cp) || HiddenTextAnalyzer.IsBidiControl((char)cp) || cp is 0x200E or 0x200F or 0x061C or (>= 0xFE00 and <= 0xFE0F)
        : cp is (>= 0xE0000 and <= 0xE007F) or (>= 0xE0100 and <= 0xE01EF)) || InvisibleFormat(cp);

    // Any other invisible format character (category Cf: the interlinear annotation marks U+FFF9–U+FFFB, the deprecated
    // format characters U+206A–U+206F, shorthand format controls, musical beam and slur marks, Egyptian format controls):
    // none is seen, so none may split a value. The prepended concatenation marks (Arabic number signs U+0600–U+0605,
    // U+06DD, U+070F, U+0890–U+0891, U+08E2, U+110BD, U+110CD) are written visibly and stay.
    private static bool InvisibleFormat(int cp) =>
        cp >= 0x80 && cp is not ((>= 0x0600 and <= 0x0605) or 0x06DD or 0x070F or 0x0890 or 0x0891 or 0x08E2 or 0x110BD or 0x110CD)
        && (cp > 0x10FFFF || (cp is >= 0xD800 and <= 0xDFFF) ? false : CharUnicodeInfo.GetUnicodeCategory(cp) == UnicodeCategory.Format);

    /// <summary>Where a match starting at <paramref name="start"/> of <see cref="Text"/> starts in the original.</summary>
    public int OriginalStart(int start) => _starts is null ? start : start < _starts.Length ? _starts[start] : Original.Length;

    /// <summary>Where a match ending at <paramref name="end"/> (exclusive) of <see cref="Text"/> ends in the original.</summary>
    public int OriginalEnd(int end) => _ends is null ? end : end <= 0 ? OriginalStart(0) : _ends[Math.Min(end, _ends.Length) - 1];

    /// <summary>A finding on <see cref="Text"/> with its span moved to the original.</summary>
    public Finding ToOriginal(Finding finding)
    {
        ArgumentNullException.ThrowIfNull(finding);
        return _starts is null ? finding : finding with { Start = OriginalStart(finding.Start), End = OriginalEnd(finding.End) };
    }

    // One character and the combining marks written after it, in NFKC; with stripMarks, a Latin letter or digit written
    // with marks reads without them ("A\u0301" reads "A") and a mark with no character before it is dropped. A mark on a
    // letter of another script is part of it and stays. marked notes that stripping would change the cluster.
    // The noncharacters U+FFFE and U+FFFF have no compatibility form, and the platform's normalisation throws on them: a
    // cluster holding one is kept as it is (the hidden-text analyzer reports it).
    private static string Fold(string cluster, bool stripMarks, ref bool marked)
    {
        if (cluster.AsSpan().IndexOfAny('\uFFFE', '\uFFFF') >= 0) return cluster;

        // Regional indicator symbols (🇦, drawn as a boxed letter when no flag is formed) read as the capital they stand for;
        // the Unicode hyphens and dashes NFKC keeps (‐ ‑ ‒ – — ― −) read as '-', so a value grouped with mixed dashes is
        // grouped with one separator.
        var first = char.ConvertToUtf32(cluster, 0);
        if (cluster.Length == (first >= 0x10000 ? 2 : 1))
        {
            if (first is >= 0x1F1E6 and <= 0x1F1FF) return ((char)('A' + (first - 0x1F1E6))).ToString();
            if (first is (>= 0x2010 and <= 0x2015) or 0x2212 or 0xFE58 or 0xFE63) return "-";
        }

        var normal = cluster.IsNormalized(NormalizationForm.FormKC) ? cluster : cluster.Normalize(NormalizationForm.FormKC);
        if (!cluster.Any(IsCombiningMark)) return normal;
        var decomposed = cluster.Normalize(NormalizationForm.FormKD);
        if (decomposed.Any(c => c >= 0x80 && !IsCombiningMark(c))) return normal;
        marked = true;
        return stripMarks ? string.Concat(decomposed.Where(c => !IsCombiningMark(c))) : normal;
    }

    private static bool IsCombiningMark(char c) =>
        !char.IsSurrogate(c) && !IsIgnorable(c) && CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;
}
