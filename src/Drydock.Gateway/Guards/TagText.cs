using Drydock.Detection;

namespace Drydock.Gateway.Guards;

/// <summary>
/// Text written in Unicode tag characters (U+E0020–U+E007E, "ASCII smuggling"): each one stands for the ASCII character
/// 0xE0000 below it, and a reader that knows so (another model, a script) reads a key, an address or a canary code that
/// no one sees. Matching removes tag characters as invisible, which would take the value away from every rule, so a
/// text that holds them is also read with each one as the character it stands for. The reading keeps every position:
/// a tag character is two UTF-16 units, read as its ASCII character and a zero-width space (removed for matching), so
/// a finding maps back onto the original text, widened to whole surrogate pairs.
/// </summary>
internal static class TagText
{
    private const char High = '\uDB40';

    /// <summary>The text with each tag character read as its ASCII character; null when it holds none.</summary>
    public static string? Decoded(string text)
    {
        if (!text.Contains(High, StringComparison.Ordinal)) return null;
        char[]? chars = null;
        for (var i = 0; i + 1 < text.Length; i++)
        {
            if (text[i] != High || text[i + 1] is < '\uDC20' or > '\uDC7E') continue;
            chars ??= text.ToCharArray();
            chars[i] = (char)(text[i + 1] - 0xDC00);
            chars[i + 1] = '\u200B';
            i++;
        }

        return chars is null ? null : new string(chars);
    }

    /// <summary>The finding on whole characters of <paramref name="text"/>: a span that starts or ends inside a surrogate pair takes all of it.</summary>
    public static Finding WholePairs(string text, Finding finding)
    {
        var start = finding.Start;
        var end = finding.End;
        if (start > 0 && start < text.Length && char.IsLowSurrogate(text[start]) && char.IsHighSurrogate(text[start - 1])) start--;
        if (end > 0 && end < text.Length && char.IsLowSurrogate(text[end]) && char.IsHighSurrogate(text[end - 1])) end++;
        return start == finding.Start && end == finding.End ? finding : finding with { Start = start, End = end };
    }
}
