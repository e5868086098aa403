using System.Buffers;

namespace Drydock.Detection.Engine;

/// <summary>Recognises documentation placeholders and template variables that look like secrets.</summary>
public static class Placeholders
{
    private static readonly SearchValues<string> s_markers = SearchValues.Create(
        ["example", "xxxxx", "placeholder", "your_", "your-", "yourkey", "your key", "dummy", "redacted", "changeme", "change_me",
         "${", "{{", "}}", "%s", "****", "....", "0000000000", "1234567890", "abcdefghij", "a1b2c3d4", "replace", "insert", "fake"],
        StringComparison.OrdinalIgnoreCase);

    /// <summary>True when the value is a placeholder such as <c>AKIA...EXAMPLE</c>, <c>&lt;token&gt;</c> or <c>xxxxxxxx</c>.</summary>
    public static bool IsPlaceholder(ReadOnlySpan<char> value)
    {
        if (value.ContainsAny(s_markers))
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
}
