using System.Text;

namespace Drydock.Detection.Engine;

/// <summary>
/// Other spellings of a value that the patterns do not read, each decoded to the value itself:
/// <list type="bullet">
/// <item><c>grouped</c>: groups of letters and digits of one length (two to eight; the last may be shorter) separated by
/// a run of up to <see cref="MaxGroupGap"/> separator characters (anything but a letter or a digit: white space,
/// punctuation, quotes, but not <c>% * ~ `</c>, which the percent and markdown readings read; at most one line break; the same run or not: <c>AKIA-Q3EG</c>, <c>AKIA -- Q3EG</c>,
/// <c>"AKIA", "Q3EG"</c>, <c>AKIA | Q3EG</c>, a tab), at least three groups and <see cref="MinSpaced"/> characters, each
/// group with an upper-case letter or a digit, the whole with both a letter and a digit: <c>AKIA GNSU V3QB WQSD XU6S</c>.
/// A prefix joined to the first group by an underscore (<c>ghp_u8jz - Pde0 - …</c>) is read with it.</item>
/// <item><c>grouped</c> in groups of mixed length: consecutive groups of two to <see cref="MaxMixedGroup"/> letters and
/// digits separated by such runs (starting with white space or <c>, . ; :</c>), each holding a digit or written in capitals (<c>AKIA Q3EGRL 5TFZ6XW7NB</c>,
/// <c>AKIA - Q3 - EG - …</c>): every
/// stretch of at least two groups with at most <see cref="MaxMixedLength"/> characters, both a letter and a digit and
/// at least <see cref="MinSpaced"/> characters is read joined, and reported where the joined text holds a value a rule
/// finds (the rules' own edges tell which stretch is the value).</item>
/// <item><c>tags</c>: Unicode tag characters (U+E0020–U+E007E), each read as the ASCII character it stands for, with
/// the plain characters of a value written beside or between them (<c>AKIA</c> plain, the rest in tags: one value).</item>
/// <item><c>markup</c>: words joined by HTML tags or comments written inside them (<c>AKIA&lt;span&gt;&lt;/span&gt;Q3EG…</c>,
/// <c>AKIA&lt;!-- x --&gt;Q3EG…</c>), read with the markup removed, as a page that renders them shows the value.</item>
/// <item><c>markdown</c>: a word of letters and digits with emphasis markers inside it (<c>*</c>, <c>~</c>, <c>`</c>,
/// <c>__</c>): <c>AKIA**GNSU**V3QB…</c>, read with the markers removed.</item>
/// <item><c>escapes</c>: a word with escapes a program or a page reads as characters (<c>\x41</c>, octal <c>\101</c>,
/// numeric HTML references with or without their semicolon, a backslash between two letters or digits), read decoded.</item>
/// <item><c>spelled</c>: an e-mail address with <c>@</c> or dots spelled out (<c>(at)</c>, <c>[dot]</c>, a bare <c>at</c>
/// with a plausible domain; see <c>EncodedText.SpelledAddresses.cs</c>).</item>
/// <item><c>percent</c>: a word with at least three percent escapes (<c>%41%4B%49%41…</c>), or an escaped <c>@</c> (<c>%40</c>), read unescaped when the
/// result is UTF-8 text.</item>
/// </list>
/// Bounded as the other runs: one pass over the text, a run decoded in its first <see cref="MaxRunLength"/> characters.
/// </summary>
internal static partial class EncodedText
{
    // The fewest percent escapes in a word read as percent-encoded.
    private const int MinEscapes = 3;

    private static void Spellings(string text, ref List<Run>? runs)
    {
        Grouped(text, ref runs);
        MixedGroups(text, ref runs);
        Words(text, ref runs);
        Tags(text, ref runs);
        Markup(text, ref runs);
        SpelledAddresses(text, ref runs);
    }

    // HTML tags and comments inside a word (AKIA<span></span>Q3EG…, AKIA<!-- x -->Q3EG…), and a markdown link's target
    // ([AKIAQ3EG](x)RL5T…): a page or a chat window that
    // renders the answer shows the value whole. A stretch of words joined by such markup (an ASCII letter or digit on each
    // side of it) is read with the markup removed. Markup is looked for only at a '<' or ']' written right after a letter
    // or digit (the only places it can join two words), not searched for through the whole text.
    private static void Markup(string text, ref List<Run>? runs)
    {
        var at = NextMarkup(text, 0);
        while (at >= 0)
        {
            // Markup written back to back (<span></span>) is one piece.
            var after = at + MarkupLength(text, at);
            if (after == at || after >= text.Length || !char.IsAsciiLetterOrDigit(text[after]))
            {
                at = NextMarkup(text, at + 1);
                continue;
            }

            var start = at;
            while (start > 0 && !char.IsWhiteSpace(text[start - 1]) && at - start < MaxRunLength) start--;
            var decoded = new StringBuilder(text, start, at - start, MaxRunLength);
            var end = after;
            while (end < text.Length && !char.IsWhiteSpace(text[end]) && decoded.Length < MaxRunLength)
            {
                if (text[end] is '<' or ']' && MarkupLength(text, end) is > 0 and var length)
                {
                    end += length;
                    continue;
                }

                decoded.Append(text[end++]);
            }

            if (decoded.Length >= MinSpaced) (runs ??= []).Add(new Run(start, end, "markup", decoded.ToString()));
            at = NextMarkup(text, end);
        }
    }

    // The next '<' or ']' at or after from with an ASCII letter or digit right before it (where markup may join two
    // words), or -1.
    private static int NextMarkup(string text, int from)
    {
        while (from < text.Length)
        {
            var k = text.AsSpan(from).IndexOfAny('<', ']');
            if (k < 0) return -1;
            var i = from + k;
            if (i > 0 && char.IsAsciiLetterOrDigit(text[i - 1])) return i;
            from = i + 1;
        }

        return -1;
    }

    // How many characters of markup written back to back start at at (tags, comments, markdown link targets); 0 when none.
    private static int MarkupLength(string text, int at)
    {
        var end = at;
        while (end < text.Length && text[end] is '<' or ']' && MarkupPattern().Match(text, end) is { Success: true } m) end += m.Length;
        return end - at;
    }

    // One piece of markup starting where the match starts (\G): a comment, a tag, or a markdown link's target.
    [System.Text.RegularExpressions.GeneratedRegex(@"\G(?:<!--[\s\S]{0,256}?-->|</?[A-Za-z][A-Za-z0-9-]{0,31}(?:\s[^<>]{0,256})?/?>|\]\([^()\s]{0,256}\))")]
    private static partial System.Text.RegularExpressions.Regex MarkupPattern();

    // Unicode tag characters (U+E0020–U+E007E, two UTF-16 units each) stand for the ASCII character 0xE0000 below them
    // ("ASCII smuggling"). A run of them is read as that ASCII text, together with the plain characters of a value written
    // next to them or between them (AKIA written plainly, the rest in tag characters): one value. A run of at least six
    // characters that holds a tag character is a run.
    private static void Tags(string text, ref List<Run>? runs)
    {
        if (!text.Contains(TagHigh, StringComparison.Ordinal)) return;
        var i = 0;
        while (i < text.Length)
        {
            if (Tag(text, i) is null)
            {
                i++;
                continue;
            }

            var start = i;
            while (start > 0 && IsPlainValueChar(text[start - 1]) && i - start < MaxRunLength) start--;
            var decoded = new StringBuilder(text, start, i - start, 64);
            while (i < text.Length && i - start < MaxRunLength)
            {
                if (Tag(text, i) is { } c)
                {
                    decoded.Append(c);
                    i += 2;
                }
                else if (IsPlainValueChar(text[i]))
                {
                    decoded.Append(text[i++]);
                }
                else
                {
                    break;
                }
            }

            if (decoded.Length >= 6) (runs ??= []).Add(new Run(start, i, "tags", decoded.ToString()));
        }
    }

    private const char TagHigh = '\uDB40';

    // The ASCII character the tag character at i stands for, or null.
    private static char? Tag(string text, int i) =>
        i + 1 < text.Length && text[i] == TagHigh && text[i + 1] is >= '\uDC20' and <= '\uDC7E' ? (char)(text[i + 1] - 0xDC00) : null;

    // A character of a value written plainly beside tag characters: ASCII letters, digits and the punctuation values use.
    private static bool IsPlainValueChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '+' or '/' or '=' or '@';

    /// <summary>
    /// The text with each tag character read as the ASCII character it stands for, its second UTF-16 unit as a zero-width
    /// space (removed for matching), so every offset stays that of the original; null when it holds none. The gateway
    /// matches this reading beside the text as written: a value in tag characters, alone or mixed with plain characters,
    /// is the value to whoever decodes them.
    /// </summary>
    public static string? TagsRead(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Contains(TagHigh, StringComparison.Ordinal)) return null;
        char[]? chars = null;
        for (var i = 0; i + 1 < text.Length; i++)
        {
            if (Tag(text, i) is not { } c) continue;
            chars ??= text.ToCharArray();
            chars[i] = c;
            chars[i + 1] = '\u200B';
            i++;
        }

        return chars is null ? null : new string(chars);
    }

    /// <summary>The most characters between two groups of a grouped value (<c>"AKIA", "Q3EG"</c>, <c>AKIA  -  Q3EG</c>).</summary>
    public const int MaxGroupGap = 5;

    // How many characters separate two groups at at: a run of up to MaxGroupGap characters that are neither letters nor
    // digits (AKIA - Q3EG, AKIA -- Q3EG, "AKIA", "Q3EG", AKIA | Q3EG, AKIA\tQ3EG, AKIA * Q3EG), with at most one line
    // break and none of the markers the percent and markdown readings read (% * ~ `: those readings report such a
    // value), except a * with white space on both sides (AKIA * Q3EG), which markdown never reads as emphasis and the
    // markdown reading (one word at a time) never sees; 0 when none, or when the run is longer or is not followed by a
    // letter or a digit.
    private static int GroupSeparatorLength(string text, int at)
    {
        var k = at;
        var breaks = 0;
        while (k < text.Length && k - at <= MaxGroupGap && !char.IsLetterOrDigit(text[k]) && (text[k] is not ('%' or '*' or '~' or '`') || SpacedStar(text, k)))
        {
            if (text[k] == '\n' && ++breaks > 1) return 0;
            k++;
        }

        return k - at is > 0 and <= MaxGroupGap && k < text.Length && char.IsAsciiLetterOrDigit(text[k]) ? k - at : 0;
    }

    // A * with a space or a tab on each side: a separator (2 * 3, AKIA * Q3EG), never markdown emphasis.
    private static bool SpacedStar(string text, int k) =>
        text[k] == '*' && k > 0 && k + 1 < text.Length && text[k - 1] is ' ' or '\t' && text[k + 1] is ' ' or '\t';

    /// <summary>
    /// Where a value in groups (what <see cref="Find"/> reads as <c>grouped</c>: groups of letters and digits joined by
    /// runs of up to <see cref="MaxGroupGap"/> separators) starts when it may still go on at the end of
    /// <paramref name="text"/>: at least two groups, the last one or a separator run ending the text, at most
    /// <paramref name="limit"/> characters from the end; -1 when there is none. A stream holds such a run back whole,
    /// as it holds a token, until it ends: a group that left before the next arrived could not be redacted with it.
    /// </summary>
    public static int OpenGroupedRun(ReadOnlySpan<char> text, int limit)
    {
        var n = text.Length;
        var k = n;
        var gap = 0;
        while (k > 0 && gap <= MaxGroupGap && !char.IsLetterOrDigit(text[k - 1]))
        {
            k--;
            gap++;
        }

        if (gap > MaxGroupGap) return -1;
        var start = -1;
        var groups = 0;
        while (k > 0 && n - k <= limit)
        {
            var end = k;
            while (k > 0 && char.IsAsciiLetterOrDigit(text[k - 1]) && end - k <= MaxMixedGroup) k--;
            var length = end - k;
            var open = end == n;
            if (length < (open ? 1 : 2) || length > MaxMixedGroup || (k > 0 && char.IsLetterOrDigit(text[k - 1]))) break;
            if (!open && !text.Slice(k, length).ContainsAny(s_grouping)) break;
            groups++;
            start = k;
            var g = 0;
            while (k > 0 && g <= MaxGroupGap && !char.IsLetterOrDigit(text[k - 1]))
            {
                k--;
                g++;
            }

            if (g == 0 || g > MaxGroupGap || (text.Slice(k, g).Count('\n') > 1)) break;
        }

        return groups >= 2 && n - start <= limit ? GroupPrefix(text, start) : -1;
    }

    /// <summary>
    /// The run of groups (what <see cref="OpenGroupedRun"/> holds in a stream and <see cref="Find"/> reads as
    /// <c>grouped</c>) that holds the point <paramref name="at"/> of <paramref name="text"/>, from its first group to its
    /// last, at most <paramref name="limit"/> characters on each side of the point; null when no run of at least two
    /// groups holds it. A text judged in windows around a point (where one text of a join gives way to the next) is
    /// widened to this run, as a stream holds it whole: a value in groups split there far from its start or end is whole
    /// in the window.
    /// </summary>
    public static (int Start, int End)? GroupedRunAround(string text, int at, int limit)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (at <= 0 || at >= text.Length) return null;
        var floor = Math.Max(0, at - limit);
        var start = OpenGroupedRun(text.AsSpan(floor, at - floor), limit);
        if (start < 0) return null;
        start += floor;

        // On to the end of the group the point is in, then group by group while a separator run joins the next one.
        var ceiling = Math.Min(text.Length, at + limit);
        var end = at;
        while (end < ceiling && char.IsAsciiLetterOrDigit(text[end])) end++;
        while (end < ceiling && GroupSeparatorLength(text, end) is > 0 and var gap && AlphanumericLength(text, end + gap) is > 0 and <= MaxMixedGroup and var next)
        {
            end = Math.Min(ceiling, end + gap + next);
        }

        return (start, end);
    }

    private static readonly System.Buffers.SearchValues<char> s_grouping = System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");

    // A prefix joined to a grouped value's first group by an underscore (the ghp_ of ghp_u8jz - Pde0 - …): letters and
    // digits (and underscores) right before it, from a word's start, at most 12 characters; where it starts, or start.
    private static int GroupPrefix(ReadOnlySpan<char> text, int start)
    {
        if (start < 2 || text[start - 1] != '_') return start;
        var k = start - 1;
        while (k > 0 && start - k <= 12 && (char.IsAsciiLetterOrDigit(text[k - 1]) || text[k - 1] == '_')) k--;
        return k < start - 1 && start - k <= 12 && (k == 0 || !char.IsLetterOrDigit(text[k - 1])) && char.IsAsciiLetterOrDigit(text[k]) ? k : start;
    }

    private static int AlphanumericLength(string text, int at)
    {
        var k = at;
        while (k < text.Length && char.IsAsciiLetterOrDigit(text[k])) k++;
        return k - at;
    }

    // A group holds an upper-case letter or a digit: a word of lower-case letters (the "with" of "pay with 4539 …") is text.
    private static bool Grouping(string text, int at, int length)
    {
        foreach (var c in text.AsSpan(at, length)) if (char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c)) return true;
        return false;
    }

    // A group of letters alone with a lower-case letter (Card, Visa, Iban): a word of the text.
    private static bool IsWord(string text, int at, int length)
    {
        var lower = false;
        foreach (var c in text.AsSpan(at, length))
        {
            if (!char.IsAsciiLetter(c)) return false;
            lower |= char.IsAsciiLetterLower(c);
        }

        return lower;
    }

    // Groups of two to eight letters and digits, one length, one separator character between two groups (the same one
    // or not: AKIA-Q3EG_RL5T.FZ6X W7NB): joined.
    private static void Grouped(string text, ref List<Run>? runs)
    {
        var i = 0;
        while (i < text.Length)
        {
            var length = AlphanumericLength(text, i);
            if (length == 0)
            {
                i++;
                continue;
            }

            var start = i;
            i += length;
            if (length is < 2 or > 8 || !Grouping(text, start, length)) continue;
            if (GroupSeparatorLength(text, i) == 0) continue;
            var end = i;
            var groups = 1;
            var last = length;
            var decoded = new StringBuilder(text, start, length, 32);
            var second = -1;
            while (GroupSeparatorLength(text, end) is > 0 and var gap && last == length && end - start < MaxRunLength)
            {
                var next = AlphanumericLength(text, end + gap);
                if (next == 0 || next > length || !Grouping(text, end + gap, next)) break;
                if (second < 0) second = end + gap;
                decoded.Append(text, end + gap, next);
                end += gap + next;
                last = next;
                groups++;
            }

            // Fewer than three groups: the next group may start a run of its own (a word before the value). Three or more:
            // the run was read whole, and no run starting inside it can hold more.
            if (groups < 3) continue;
            i = end;

            // A capitalised word before the value ("Card" of "Card 4539 1488 0343 6467") is text, not a group of it: the
            // run starts at the first group that holds a digit or is written in capitals (AKIA of AKIA GNSU V3QB …).
            while (groups > 3 && IsWord(text, start, length))
            {
                decoded.Remove(0, length);
                start = second;
                second = start + length + GroupSeparatorLength(text, start + length);
                groups--;
            }

            var prefix = GroupPrefix(text, start);
            if (prefix < start)
            {
                decoded.Insert(0, text.AsSpan(prefix, start - prefix));
                start = prefix;
            }

            var value = decoded.ToString();
            // A span another reading already decodes (hex byte pairs with spaces) is not read again.
            if (runs?.Exists(r => r.Start <= start && r.End >= end) == true) continue;
            if (value.Length >= MinSpaced && value.Any(char.IsAsciiLetter) && value.Any(char.IsAsciiDigit)) (runs ??= []).Add(new Run(start, end, "grouped", value));
        }
    }

    // The longest group of a mixed-length grouped run, and the most characters (groups joined) of one stretch read.
    private const int MaxMixedGroup = 12;
    private const int MaxMixedLength = 64;

    // The most groups of one stretch, and the most stretches read in one text (a bound on the work for a text made of
    // such groups; a value is rarely written in more than six groups of mixed lengths).
    private const int MaxMixedGroups = 10;
    private const int MaxMixedRuns = 2_048;

    // A group of a mixed-length run: a digit, or capitals and digits only (AKIA, Q3EGRL); Card, with and Q3egrl's
    // lower-case-only neighbours are words of the text.
    private static bool MixedGroup(string text, int at, int length)
    {
        var digit = false;
        var lower = false;
        foreach (var c in text.AsSpan(at, length))
        {
            digit |= char.IsAsciiDigit(c);
            lower |= char.IsAsciiLetterLower(c);
        }

        return length is >= 2 and <= MaxMixedGroup && (digit || !lower);
    }

    // Groups of mixed lengths separated by runs of separators (AKIA Q3EGRL …, AKIA - Q3 - EG - …): each sequence of such groups is read in every stretch of two groups or
    // more up to MaxMixedLength characters (a few dozen stretches at most per sequence, each a short text for the rules).
    // A stretch the equal-length reading (Grouped) or another reading already decodes is not read twice.
    private static void MixedGroups(string text, ref List<Run>? runs)
    {
        var groups = new List<(int Start, int Length)>();
        var prior = runs?.Count ?? 0;
        var i = 0;
        var next = -1;
        while (i <= text.Length)
        {
            var length = i < text.Length ? AlphanumericLength(text, i) : 0;
            var edge = i == 0 || !char.IsAsciiLetterOrDigit(text[i - 1]);
            if (length > 0 && edge && MixedGroup(text, i, length) && (i + length == text.Length || !IsJoined(text[i + length])))
            {
                if (groups.Count > 0 && next != i) Stretches(text, groups, prior, ref runs);
                groups.Add((i, length));
                i += length;
                var gap = GroupSeparatorLength(text, i);
                i += gap;
                next = gap > 0 ? i : -1;
                continue;
            }

            Stretches(text, groups, prior, ref runs);
            i += Math.Max(length, 1);
        }
    }

    // Characters that join a group to a longer token (a path, an email, a decimal): such a group is not one of a spaced value.
    private static bool IsJoined(char c) => c is not (' ' or '\n' or '\r' or '\t' or ',' or '.' or ';' or ':' or ')' or '"' or '\'');

    private static void Stretches(string text, List<(int Start, int Length)> groups, int prior, ref List<Run>? runs)
    {
        for (var a = 0; a + 1 < groups.Count; a++)
        {
            var joined = new StringBuilder(groups[a].Length, MaxMixedLength);
            joined.Append(text, groups[a].Start, groups[a].Length);
            for (var b = a + 1; b < groups.Count && b - a < MaxMixedGroups && joined.Length + groups[b].Length <= MaxMixedLength; b++)
            {
                joined.Append(text, groups[b].Start, groups[b].Length);
                if (joined.Length < MinSpaced) continue;
                var start = groups[a].Start;
                var end = groups[b].Start + groups[b].Length;
                var value = joined.ToString();
                if (!value.Any(char.IsAsciiLetter) || !value.Any(char.IsAsciiDigit)) continue;
                if (runs is not null && runs.FindIndex(0, prior, r => r.Start <= start && r.End >= end) >= 0) continue;
                if (runs is not null && runs.Count - prior >= MaxMixedRuns) break;
                (runs ??= []).Add(new Run(start, end, "grouped", value));
            }
        }

        groups.Clear();
    }

    // Words (runs without white space) holding emphasis markers between letters or digits, or percent escapes.
    private static void Words(string text, ref List<Run>? runs)
    {
        var i = 0;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                i++;
                continue;
            }

            var start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i]) && i - start < MaxRunLength) i++;
            var word = text.AsSpan(start, i - start);
            if (word.Length < MinSpaced) continue;
            if (word.ContainsAny('*', '~', '`') || word.Contains("__", StringComparison.Ordinal)) Marked(text, start, i, ref runs);
            if (word.Contains('%')) Percent(text, start, i, ref runs);
            if (word.Contains('\\') || word.Contains("&#", StringComparison.Ordinal)) Escapes(text, start, i, ref runs);
        }
    }

    // The word read with the escapes a program or a page turns into characters: \x41, octal \101, numeric HTML references
    // with or without their semicolon (&#65&#75…, &#x41), and a backslash between two letters or digits (AKIA\Q3EG…, read
    // as the letter it escapes). A run when the word holds at least one escape and MinSpaced characters decoded.
    private static void Escapes(string text, int start, int end, ref List<Run>? runs)
    {
        var decoded = new StringBuilder(end - start);
        var escapes = 0;
        for (var k = start; k < end;)
        {
            if (EscapeAt(text, k, end, start) is { } escape)
            {
                decoded.Append(escape.Char);
                k += escape.Length;
                escapes++;
            }
            else
            {
                decoded.Append(text[k++]);
            }
        }

        if (escapes > 0 && decoded.Length >= MinSpaced) (runs ??= []).Add(new Run(start, end, "escapes", decoded.ToString()));
    }

    // The character an escape at k stands for and how long the escape is, or null.
    private static (char Char, int Length)? EscapeAt(string text, int k, int end, int start)
    {
        if (text[k] == '\\' && k + 1 < end)
        {
            var next = text[k + 1];
            if (next is 'x' or 'X' && k + 3 < end && char.IsAsciiHexDigit(text[k + 2]) && char.IsAsciiHexDigit(text[k + 3]))
            {
                return ((char)((HexValue(text[k + 2]) << 4) | HexValue(text[k + 3])), 4);
            }

            if (next is >= '0' and <= '7')
            {
                var value = 0;
                var n = 1;
                while (n <= 3 && k + n < end && text[k + n] is >= '0' and <= '7') value = (value * 8) + (text[k + n++] - '0');
                return value is > 0 and < 0x80 ? ((char)value, n) : null;
            }

            return k > start && char.IsAsciiLetterOrDigit(text[k - 1]) && char.IsAsciiLetterOrDigit(next) ? (next, 2) : null;
        }

        if (text[k] != '&' || k + 2 >= end || text[k + 1] != '#') return null;
        var hex = text[k + 2] is 'x' or 'X';
        var at = hex ? k + 3 : k + 2;
        var code = 0;
        var digits = 0;
        while (at < end && digits < 7 && (hex ? char.IsAsciiHexDigit(text[at]) : char.IsAsciiDigit(text[at])))
        {
            code = (code * (hex ? 16 : 10)) + HexValue(text[at++]);
            digits++;
        }

        if (digits == 0 || code is <= 0 or >= 0x80) return null;
        if (at < end && text[at] == ';') at++;
        return ((char)code, at - k);
    }

    // The word's letters and digits with the markers between them removed (markers around the whole word stay outside the run).
    private static void Marked(string text, int start, int end, ref List<Run>? runs)
    {
        static bool IsMarker(char c) => c is '*' or '~' or '`' or '_';
        var from = start;
        while (from < end && !char.IsAsciiLetterOrDigit(text[from])) from++;
        var to = end;
        while (to > from && !char.IsAsciiLetterOrDigit(text[to - 1])) to--;
        var decoded = new StringBuilder(to - from);
        var removed = false;
        for (var k = from; k < to; k++)
        {
            if (IsMarker(text[k])) removed = true;
            else decoded.Append(text[k]);
        }

        if (removed && decoded.Length >= MinSpaced) (runs ??= []).Add(new Run(from, to, "markdown", decoded.ToString()));
    }

    // The word unescaped, from its first escape to its last, when it holds enough escapes and decodes to text.
    private static void Percent(string text, int start, int end, ref List<Run>? runs)
    {
        var escapes = 0;
        var first = -1;
        var last = -1;
        for (var k = start; k + 2 < end; k++)
        {
            if (text[k] != '%' || !char.IsAsciiHexDigit(text[k + 1]) || !char.IsAsciiHexDigit(text[k + 2])) continue;
            escapes++;
            if (first < 0) first = k;
            last = k + 3;
        }

        // One escaped @ is enough: maria%40fastmail.com is an address to whoever decodes it.
        if (escapes < MinEscapes && !text.AsSpan(start, end - start).Contains("%40", StringComparison.Ordinal)) return;

        // The run reaches the letters and digits joined to its first and last escapes (AKIA%47NSU…).
        while (first > start && char.IsAsciiLetterOrDigit(text[first - 1])) first--;
        while (last < end && (char.IsAsciiLetterOrDigit(text[last]) || text[last] is '.' or '-' or '_' or '+' or '@' or '%')) last++;
        var bytes = new List<byte>(last - first);
        for (var k = first; k < last; k++)
        {
            if (text[k] == '%' && k + 2 < last && char.IsAsciiHexDigit(text[k + 1]) && char.IsAsciiHexDigit(text[k + 2]))
            {
                bytes.Add((byte)((HexValue(text[k + 1]) << 4) | HexValue(text[k + 2])));
                k += 2;
            }
            else if (text[k] < 0x80)
            {
                bytes.Add((byte)text[k]);
            }
            else
            {
                return;
            }
        }

        if (AsText(bytes.ToArray()) is { } decoded) (runs ??= []).Add(new Run(first, last, "percent", decoded));
    }
}
