namespace Drydock.Detection.Engine;

/// <summary>
/// The one normaliser of text for matching, public so that every component compares texts as the detectors read
/// them: invisible, control, bidi and tag characters removed, NFKC (fullwidth and compatibility forms folded),
/// combining marks on Latin letters and digits dropped, JSON and HTML escapes read (see the detectors' matching form).
/// </summary>
public static class TextForms
{
    /// <summary>The text as detectors match it.</summary>
    public static string ForMatching(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return MatchText.Of(text, stripMarks: true).Text;
    }

    /// <summary>
    /// The form two records are compared in: <see cref="ForMatching"/>, Cyrillic and Greek look-alike letters read as
    /// the Latin ones they look like, case folded, every run of whitespace one space, trimmed. Records that differ only
    /// in these ways are the same record to a model (and to a reader).
    /// </summary>
    public static string ForComparison(string text)
    {
        var matching = ForMatching(text);
        var b = new System.Text.StringBuilder(matching.Length);
        var space = false;
        foreach (var c in matching)
        {
            if (char.IsWhiteSpace(c))
            {
                space = b.Length > 0;
                continue;
            }

            if (space) b.Append(' ');
            space = false;
            b.Append(char.ToLowerInvariant(LookAlikes.Latin(c)));
        }

        return b.ToString();
    }

    /// <summary>
    /// The letters and digits of <see cref="ForComparison"/> alone: records that differ only in whitespace, case or
    /// punctuation have the same skeleton.
    /// </summary>
    public static string Skeleton(string text)
    {
        var comparison = ForComparison(text);
        var b = new System.Text.StringBuilder(comparison.Length);
        foreach (var c in comparison) if (char.IsLetterOrDigit(c)) b.Append(c);
        return b.ToString();
    }
}
