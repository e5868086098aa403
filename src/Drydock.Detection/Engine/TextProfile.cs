namespace Drydock.Detection.Engine;

/// <summary>Cheap facts about a text, computed once per scan so that keyword-less rules can be skipped.</summary>
public readonly record struct TextProfile(string Text, int Digits, bool HasDot)
{
    /// <summary>Profiles <paramref name="text"/> with vectorized searches.</summary>
    public static TextProfile Of(string text)
    {
        var span = text.AsSpan();
        var digits = 0;
        while (true)
        {
            var i = span.IndexOfAnyInRange('0', '9');
            if (i < 0) break;
            span = span[i..];
            var run = span.IndexOfAnyExceptInRange('0', '9');
            if (run < 0)
            {
                digits += span.Length;
                break;
            }

            digits += run;
            span = span[run..];
        }

        return new TextProfile(text, digits, text.Contains('.', StringComparison.Ordinal));
    }
}
