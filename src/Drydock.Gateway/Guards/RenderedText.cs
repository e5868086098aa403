using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Drydock.Detection;

namespace Drydock.Gateway.Guards;

/// <summary>
/// A text as a page or a chat window that renders it shows it: HTML tags and comments removed (a block element such as
/// <c>&lt;br&gt;</c>, <c>&lt;p&gt;</c> or <c>&lt;td&gt;</c> read as a space), a hidden element (<c>&lt;span hidden&gt;…&lt;/span&gt;</c>,
/// <c>style="display:none"</c>) removed with its content, character references decoded (named or numeric, with or without
/// their semicolon, with leading zeros), backslash escapes read (<c>\x41</c>, <c>\x{41}</c>, <c>\u0041</c>,
/// <c>\u{41}</c>, and the markdown escape of a punctuation character: <c>\@</c>, <c>\-</c>, <c>\.</c>), and a markdown link
/// read as its text (<c>[Ign](x)ore</c>, <c>[Ign](x "t")ore</c> and, with a definition <c>[1]: x</c> in the text,
/// <c>[Ign][1]ore</c>, <c>[Ign][]ore</c> or <c>[Ign]ore</c> show <c>Ignore</c>). Each piece is written
/// over its own characters, what it stands for first and zero-width spaces (which matching removes) after it, so offsets
/// stay those of the text. A text is read this way only when it holds <c>&lt;</c>, <c>&amp;</c>, <c>\</c>, <c>](</c> or a reference definition; the guard judges
/// the reading beside the text as written, secrets, personal data, injection and canaries alike, and a finding that
/// starts or ends inside a piece takes the whole piece, so a redaction leaves none of the value. A stream holds the word
/// such a piece may still join whole (<see cref="OpenWord"/>).
/// </summary>
internal sealed partial class RenderedText
{
    private readonly List<(int Start, int End)> _pieces;

    private RenderedText(string text, List<(int Start, int End)> pieces)
    {
        Text = text;
        _pieces = pieces;
    }

    /// <summary>The rendered reading, as long as the text it was read from.</summary>
    public string Text { get; }

    /// <summary>
    /// The rendered reading of <paramref name="text"/>, or null when it holds no markup, reference, escape or link. With
    /// <paramref name="definitionsMayFollow"/> (a stream, whose definitions may arrive after their links), a reference link
    /// shape (<c>[text][label]</c>, <c>[text][]</c>, <c>[text]</c>) with no definition yet is read as its text where it joins
    /// a word (<c>AKIA[Q3EG][r]RL5T…</c>); <c>Dear [Name],</c> and <c>see [1].</c> stay as written until defined.
    /// </summary>
    public static RenderedText? Read(string text, bool definitionsMayFollow = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var labels = text.Contains("]:", StringComparison.Ordinal) ? Labels(text) : null;
        var anyLabel = definitionsMayFollow && text.Contains(']', StringComparison.Ordinal) && ReferenceLink().IsMatch(text);
        if (text.AsSpan().IndexOfAny('<', '&', '\\') < 0 && !text.Contains("](", StringComparison.Ordinal) && labels is null && !anyLabel) return null;
        char[]? chars = null;
        List<(int, int)>? pieces = null;
        foreach (Match m in Piece().Matches(text))
        {
            var shown = Shown(m);
            if (shown is null || shown.Length > m.Length) continue;
            var span = (chars ??= text.ToCharArray()).AsSpan(m.Index, m.Length);
            shown.AsSpan().CopyTo(span);
            span[shown.Length..].Fill('\u200B');
            (pieces ??= []).Add((m.Index, m.Index + m.Length));
        }

        if (labels is not null || anyLabel) ReadReferenceLinks(text, labels, definitionsMayFollow, ref chars, ref pieces);
        return chars is null ? null : new RenderedText(new string(chars), pieces!);
    }

    // A reference link ([text][label], [text][] or [text] with a definition "[label]: target" in the text) read as its
    // text: its brackets and label are pieces that show nothing, unless another piece is written over them already.
    // With definitionsMayFollow, a link with no definition yet is read so where it joins a word (its definition may still arrive).
    private static void ReadReferenceLinks(string text, HashSet<string>? labels, bool definitionsMayFollow, ref char[]? chars, ref List<(int, int)>? pieces)
    {
        bool[]? taken = null;
        foreach (Match m in ReferenceLink().Matches(text))
        {
            var shown = m.Groups["text"];
            var label = m.Groups["label"] is { Success: true, Length: > 0 } written ? written.Value : shown.Value;
            if (labels?.Contains(Label(label)) != true && !(definitionsMayFollow && Joined(text, m.Index, m.Index + m.Length))) continue;
            if (taken is null && pieces is not null)
            {
                taken = new bool[text.Length];
                foreach (var (s, e) in pieces) taken.AsSpan(s, e - s).Fill(true);
            }

            var close = shown.Index + shown.Length;
            if (taken is not null && (taken[m.Index] || taken.AsSpan(close, m.Index + m.Length - close).Contains(true))) continue;
            chars ??= text.ToCharArray();
            chars[m.Index] = '\u200B';
            chars.AsSpan(close, m.Index + m.Length - close).Fill('\u200B');
            (pieces ??= []).Add((m.Index, m.Index + 1));
            pieces.Add((close, m.Index + m.Length));
        }
    }

    // Whether a link with no definition yet joins a word on either side (AKIA[Q3EG][r]RL5T…, [maria.lopez][m]@…,
    // [user][u].name@…): only then can reading it as a link show a value the text as written does not (Dear [Name],
    // stays as written). An opening bracket or quote before it joins nothing, nor do closing punctuation marks after it
    // with white space or the end of the text next.
    private static bool Joined(string text, int start, int end)
    {
        if (start > 0 && !char.IsWhiteSpace(text[start - 1]) && text[start - 1] is not ('(' or '"' or '\'' or '[')) return true;
        while (end < text.Length && text[end] is '.' or ',' or ';' or ':' or '!' or '?' or ')' or '"' or '\'') end++;
        return end < text.Length && !char.IsWhiteSpace(text[end]);
    }

    // The labels of the reference definitions in the text, matched as markdown matches them (case and runs of white
    // space aside), or null when it has none.
    private static HashSet<string>? Labels(string text)
    {
        HashSet<string>? labels = null;
        foreach (Match m in Definition().Matches(text))
        {
            if (Label(m.Groups["label"].Value) is { Length: > 0 } label) (labels ??= new(StringComparer.Ordinal)).Add(label);
        }

        return labels;
    }

    private static string Label(string label) =>
        string.Join(' ', label.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToUpperInvariant();

    /// <summary>The finding with its span widened to whole pieces where it starts or ends inside one.</summary>
    public Finding Widen(Finding finding)
    {
        var start = finding.Start;
        var end = finding.End;
        foreach (var (s, e) in _pieces)
        {
            if (s < start && start < e) start = s;
            if (s < end && end < e) end = e;
        }

        return start == finding.Start && end == finding.End ? finding : finding with { Start = start, End = end };
    }

    /// <summary>
    /// Where the word that the rendered reading may still join starts in the last <paramref name="tail"/> characters of a
    /// text still arriving, or -1: the last word (its characters other than white space, with whole pieces of markup in
    /// it, white space inside them included) when it reaches the end of the text and holds <c>&lt;</c>, <c>&amp;</c>,
    /// <c>\</c>, a link target or a <c>]</c> with more of the word after it (a reference link whose definition may still
    /// arrive: <c>[AKIAQ3EG][r]RL5T…</c>), or ends in markup that may still be closed (<c>AKIA&lt;span class="…</c>,
    /// <c>AKIA&lt;!-- a &gt; b …</c>, a hidden element whose end has not arrived). A stream holds such a word whole, as this
    /// reading reads it whole: markup longer than the window inside a value, or escapes and references with no
    /// credential character between them (<c>\x67\x68…</c>, <c>&amp;#103&amp;#104…</c>, <c>\147\150…</c>, <c>&amp;sh</c>
    /// of a <c>&amp;shy;</c> still arriving), would otherwise let the value's first part leave before the rest arrives.
    /// </summary>
    public static int OpenWord(string text, int tail)
    {
        ArgumentNullException.ThrowIfNull(text);
        var start = -1;
        var rendered = false;
        for (var i = Math.Max(0, text.Length - tail); i < text.Length;)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                start = -1;
                rendered = false;
                i++;
                continue;
            }

            if (start < 0) start = i;
            if (c is '<' or ']')
            {
                if (StartingPiece().Match(text, i) is { Success: true } m)
                {
                    // A hidden element whose end has not arrived yet may hide everything after it so far.
                    if (!m.Groups["hidden"].Success && m.Value.Length > 1 && char.IsAsciiLetter(m.Value[1]) && HiddenTag().IsMatch(m.Value)
                        && !Closes(text, i + m.Length, m.Value[1..(m.Value.AsSpan(1).IndexOfAnyExcept(s_nameChars) + 1)]))
                    {
                        return start;
                    }

                    rendered = true;
                    i += m.Length;
                    continue;
                }

                if (MayBecomeMarkup(text.AsSpan(i))) return start;
            }

            // A link target, or a reference link joined to what follows it ([AKIAQ3EG][r]RL5T…, [AKIAQ3EG]RL5T…): its
            // definition may arrive any time later, and a page then shows the text joined.
            rendered |= c is '<' or '&' or '\\' || (c == ']' && i + 1 < text.Length && text[i + 1] != ':');
            i++;
        }

        return rendered ? start : -1;
    }

    // Whether an end tag of the element named name (</name>, white space allowed before its '>') is written from from on.
    private static bool Closes(string text, int from, string name)
    {
        var end = "</" + name;
        for (var at = text.IndexOf(end, from, StringComparison.OrdinalIgnoreCase); at >= 0; at = text.IndexOf(end, at + 2, StringComparison.OrdinalIgnoreCase))
        {
            var k = at + end.Length;
            while (k < text.Length && char.IsWhiteSpace(text[k])) k++;
            if (k < text.Length && text[k] == '>') return true;
        }

        return false;
    }

    private static readonly System.Buffers.SearchValues<char> s_nameChars =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-");

    // Whether the text from a '<' or ']' that is not markup yet may still become markup as more of it arrives: a comment,
    // a tag or a markdown link target not yet closed, within the length this reading reads.
    private static bool MayBecomeMarkup(ReadOnlySpan<char> rest)
    {
        if (rest.Length > MaxPiece) return false;
        if (rest[0] == ']') return rest.Length == 1 || (rest[1] == '(' && OpenLinkTarget().IsMatch(rest));
        if (rest.Length == 1) return true;
        if (rest[1] == '!') return !rest.Contains("-->", StringComparison.Ordinal) && (rest.Length < 4 || rest.StartsWith("<!--", StringComparison.Ordinal));
        var name = rest[1] == '/' ? 2 : 1;
        return (rest.Length == name || char.IsAsciiLetter(rest[name])) && rest[1..].IndexOfAny('<', '>') < 0;
    }

    // The longest piece read: a comment, a tag's attributes or a hidden element's content (4,096), with its tags.
    private const int MaxPiece = 4_200;

    // What a piece shows: "" for markup, hidden elements and a link's brackets and target, " " for a block element, the character for a reference or
    // an escape; null when it is none (an unknown name, a code point that is not a character).
    private static string? Shown(Match m)
    {
        var v = m.Value;
        if (m.Groups["hidden"].Success || v.StartsWith("<!--", StringComparison.Ordinal)) return "";
        if (v[0] is '[' or ']') return "";
        if (v[0] == '<') return Block().IsMatch(v) ? " " : "";
        if (v[0] == '&')
        {
            if (v[1] != '#')
            {
                var reference = v[^1] == ';' ? v : v + ";";
                if (s_html5.TryGetValue(reference[1..^1], out var named)) return named;
                var decoded = WebUtility.HtmlDecode(reference);
                return decoded == reference || decoded.Length == 0 ? null : decoded;
            }

            var hex = v[2] is 'x' or 'X';
            var digits = v.AsSpan(hex ? 3 : 2).TrimEnd(';');
            return CodePoint(digits, hex);
        }

        // A backslash escape: \xHH, \x{H…}, \uHHHH, \u{H…}, or a punctuation character written after a backslash.
        if (v.Length == 2) return v[1].ToString();
        var body = v.AsSpan(2).Trim("{}");
        return CodePoint(body, hex: true);
    }

    // HTML5 names the platform's decoder (HTML 4) does not know: the invisible ones and the punctuation values are written with.
    private static readonly Dictionary<string, string> s_html5 = new(StringComparer.Ordinal)
    {
        ["ZeroWidthSpace"] = "\u200B", ["NegativeVeryThinSpace"] = "\u200B", ["NegativeThinSpace"] = "\u200B",
        ["NegativeMediumSpace"] = "\u200B", ["NegativeThickSpace"] = "\u200B", ["NoBreak"] = "\u2060",
        ["ApplyFunction"] = "\u2061", ["af"] = "\u2061", ["InvisibleTimes"] = "\u2062", ["it"] = "\u2062",
        ["InvisibleComma"] = "\u2063", ["ic"] = "\u2063", ["NonBreakingSpace"] = "\u00A0", ["Tab"] = "\t", ["NewLine"] = "\n",
        ["commat"] = "@", ["period"] = ".", ["hyphen"] = "-", ["dash"] = "-", ["lowbar"] = "_", ["UnderBar"] = "_",
        ["colon"] = ":", ["sol"] = "/", ["plus"] = "+", ["equals"] = "=", ["num"] = "#", ["excl"] = "!", ["quest"] = "?",
        ["comma"] = ",", ["semi"] = ";", ["lpar"] = "(", ["rpar"] = ")", ["percnt"] = "%", ["dollar"] = "$", ["ast"] = "*",
        ["bsol"] = "\\", ["Hat"] = "^", ["grave"] = "`", ["lcub"] = "{", ["rcub"] = "}", ["verbar"] = "|", ["vert"] = "|",
        ["lsqb"] = "[", ["rsqb"] = "]", ["apos"] = "'",
    };

    private static string? CodePoint(ReadOnlySpan<char> digits, bool hex)
    {
        if (!int.TryParse(digits, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out var cp)) return null;
        return cp is > 0 and <= 0x10FFFF and not (>= 0xD800 and <= 0xDFFF) ? char.ConvertFromUtf32(cp) : null;
    }

    // A hidden element with its content, a comment, a tag (comments, attributes and hidden content up to 4,096 characters:
    // a long title inside a key is markup all the same), a character reference (numeric or named, with or without its
    // semicolon, numeric with leading zeros), a backslash escape (a punctuation character or a space after it), or a
    // markdown link's brackets and target ([text](target) shows its text, whatever its target: with a title in quotes or
    // parentheses, parentheses inside, in angle brackets).
    private const string PiecePattern = """(?<hidden><(?<name>[A-Za-z][A-Za-z0-9-]{0,31})\s[^<>]{0,4096}?(?:\bhidden\b|display\s*:\s*none)[^<>]{0,4096}>[^<]{0,4096}</\k<name>\s*>)|<!--[\s\S]{0,4096}?-->|</?[A-Za-z][A-Za-z0-9-]{0,31}(?:\s[^<>]{0,4096})?/?>|&(?:#0*[0-9]{1,7}|#[xX]0*[0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?|\\(?:[xu]\{0*[0-9A-Fa-f]{1,6}\}|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|[ !-/:-@\[-`{-~])|\[(?=[^\[\]\n]{0,256}\]""" + LinkTarget + """)|(?<=\[[^\[\]\n]{0,256})\]""" + LinkTarget;

    // A link's target, in parentheses: a destination (in angle brackets, or with balanced parentheses inside), then a
    // title in double or single quotes or in parentheses.
    private const string LinkTarget = """\(\s{0,16}(?:<[^<>\n]{0,256}>|(?:[^()\s]|\([^()\s]{0,256}\)){0,256})(?:\s{1,16}(?:"[^"]{0,256}"|'[^']{0,256}'|\([^()]{0,256}\)))?\s{0,16}\)""";

    // The start of a link target still arriving: what LinkTarget matches, cut anywhere.
    [GeneratedRegex("""^\]\(\s{0,16}(?:<[^<>\n]{0,256}>?|(?:[^()\s]|\([^()\s]{0,256}\)?){0,256})(?:\s{1,16}(?:"[^"]{0,256}"?|'[^']{0,256}'?|\([^()]{0,256}\)?)?)?\s{0,16}\z""")]
    private static partial Regex OpenLinkTarget();

    // A reference link: [text][label], [text][] or [text], not an inline link nor a definition.
    [GeneratedRegex(@"\[(?<text>[^\[\]\n]{1,256})\](?:\[(?<label>[^\[\]\n]{0,256})\])?(?![(:])")]
    private static partial Regex ReferenceLink();

    // A reference definition: "[label]: target" at the start of a line.
    [GeneratedRegex(@"^ {0,3}\[(?<label>[^\[\]\n]{1,256})\]:[ \t]*\n?[ \t]*\S", RegexOptions.Multiline)]
    private static partial Regex Definition();

    [GeneratedRegex(PiecePattern)]
    private static partial Regex Piece();

    // A piece starting where the match starts.
    [GeneratedRegex(@"\G(?:" + PiecePattern + ")")]
    private static partial Regex StartingPiece();

    // A tag that hides its element.
    [GeneratedRegex(@"\bhidden\b|display\s*:\s*none")]
    private static partial Regex HiddenTag();

    // A tag of an element a page shows on its own line or in its own cell.
    [GeneratedRegex(@"^</?(?:br|p|div|li|ul|ol|td|th|tr|table|h[1-6]|hr|pre|blockquote|section|article|header|footer|dd|dt|dl)\b", RegexOptions.IgnoreCase)]
    private static partial Regex Block();
}
