using System.Text;
using Drydock.Curation.Policy;
using Drydock.Detection;
using Drydock.Detection.Analyzers;

namespace Drydock.Curation.Normalization;

/// <summary>
/// Normalises one text field as the policy says: removes what the hidden-text analyzer finds invisible (zero-width,
/// bidi, tag, variation-selector and control characters) and what the markup analyzer finds hidden (comments,
/// CSS-hidden elements, active content) — the same analyzers that report them, so what is reported is what is
/// removed — then applies Unicode normalization and tidies whitespace (indentation is kept). Thread-safe.
/// </summary>
public sealed class TextNormalizer(CleaningPolicy policy)
{
    private static readonly HashSet<string> s_invisibleTypes = new(StringComparer.Ordinal)
    {
        "invisible-character", "bidi-control", "tag-characters", "variation-selector-smuggling", "control-character",
    };

    private static readonly HashSet<string> s_hiddenMarkupTypes = new(StringComparer.Ordinal) { "html-comment", "css-hidden-text", "active-content" };

    private readonly HiddenTextAnalyzer _hidden = new();
    private readonly MarkupAnalyzer _markup = new();
    private readonly CleaningPolicy _policy = policy;

    /// <summary>The normalised text, and what was removed (type and count) for the ledger.</summary>
    public string Normalize(string text, List<(string Type, int Start, int End)>? removed = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        List<Finding>? findings = null;
        if (_policy.StripInvisible) _hidden.Analyze(text, ref findings);
        if (_policy.StripHiddenMarkup) _markup.Analyze(text, ref findings);
        var spans = findings?.Where(f => s_invisibleTypes.Contains(f.Type) || s_hiddenMarkupTypes.Contains(f.Type))
            .Select(f => (f.Type, f.Start, f.End)).OrderBy(s => s.Start).ToList();
        if (spans is { Count: > 0 })
        {
            var builder = new StringBuilder(text.Length);
            var at = 0;
            foreach (var (type, start, end) in spans)
            {
                if (end <= at) continue;
                builder.Append(text, at, Math.Max(0, start - at));
                removed?.Add((type, Math.Max(start, at), end));
                at = Math.Max(at, end);
            }

            builder.Append(text, at, text.Length - at);
            text = builder.ToString();
        }

        text = _policy.Unicode switch
        {
            UnicodeForm.Nfkc when !text.IsNormalized(NormalizationForm.FormKC) => text.Normalize(NormalizationForm.FormKC),
            UnicodeForm.Nfc when !text.IsNormalized(NormalizationForm.FormC) => text.Normalize(NormalizationForm.FormC),
            _ => text,
        };
        return _policy.TidyWhitespace ? Tidy(text) : text;
    }

    // Runs of spaces and tabs inside a line become one space; line ends are trimmed; at most one blank line in a row.
    // Leading indentation is kept (code in training data depends on it).
    internal static string Tidy(string text)
    {
        if (!NeedsTidy(text)) return text;
        var builder = new StringBuilder(text.Length);
        var blank = 0;
        foreach (var rawLine in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            var line = rawLine.TrimEnd();
            if (line.Length == 0)
            {
                if (++blank > 1) continue;
            }
            else
            {
                blank = 0;
            }

            if (builder.Length > 0) builder.Append('\n');
            var indent = line.Length - line.TrimStart(' ', '\t').Length;
            builder.Append(line, 0, indent);
            var previousSpace = false;
            for (var i = indent; i < line.Length; i++)
            {
                var c = line[i];
                var space = c is ' ' or '\t';
                if (space && previousSpace) continue;
                builder.Append(space ? ' ' : c);
                previousSpace = space;
            }
        }

        return builder.ToString().Trim('\n');
    }

    private static bool NeedsTidy(string text) =>
        text.Contains("  ", StringComparison.Ordinal) || text.Contains('\t', StringComparison.Ordinal) || text.Contains(" \n", StringComparison.Ordinal)
        || text.Contains("\n\n\n", StringComparison.Ordinal) || text.Contains('\r', StringComparison.Ordinal) || (text.Length > 0 && (char.IsWhiteSpace(text[0]) || char.IsWhiteSpace(text[^1])));
}
