using System.Text.RegularExpressions;

namespace Drydock.Detection.Engine;

/// <summary>
/// Decides whether a candidate match is real and how confident the engine is.
/// Returns a confidence in (0, 1], or 0 (or less) to reject the candidate.
/// </summary>
/// <param name="value">The matched value.</param>
/// <param name="text">The whole field text.</param>
/// <param name="start">Where the value starts in <paramref name="text"/>.</param>
public delegate double CandidateValidator(string value, string text, int start);

/// <summary>
/// A detection rule as data: a stable id, literal keywords for the one-pass prefilter, an anchored
/// pattern run only near keyword hits, and the checks that turn a match into a finding.
/// </summary>
public sealed class Rule : RuleInfo
{
    /// <summary>The pattern. Its whole match is the value unless the group named <c>v</c> exists.</summary>
    public required Regex Pattern { get; init; }

    /// <summary>
    /// Literals of which at least one must occur near every match. Empty means the rule runs over the
    /// whole text when <see cref="Gate"/> lets it.
    /// </summary>
    public IReadOnlyList<string> Keywords { get; init; } = [];

    /// <summary>
    /// When true, only keyword hits inside a run of at least <see cref="Detector.LongTokenLength"/> non-delimiter
    /// characters count (provider tokens never contain spaces or quotes). Prose has few such runs, so most
    /// text skips these rules' keyword search entirely.
    /// </summary>
    public bool KeywordsInLongToken { get; init; }

    /// <summary>
    /// Optional check at each keyword hit (text, position of the hit): a hit that fails it opens no window.
    /// Cheaper than running the pattern where a keyword is common, such as ':' for IPv6.
    /// </summary>
    public Func<string, int, bool>? KeywordHitFilter { get; init; }

    /// <summary>Whether <see cref="Keywords"/> match case-sensitively.</summary>
    public bool CaseSensitiveKeywords { get; init; }

    /// <summary>Characters before a keyword hit that a match may start at.</summary>
    public int WindowBefore { get; init; } = 8;

    /// <summary>Characters after a keyword hit that a match may end at.</summary>
    public int WindowAfter { get; init; } = 256;

    /// <summary>Cheap test on the whole text for keyword-less rules (for example "contains a digit").</summary>
    public Func<TextProfile, bool>? Gate { get; init; }

    /// <summary>
    /// When true, a keyword hit runs the pattern over the whole text rather than a window (for rules whose
    /// keyword can sit anywhere in a long match, such as a street suffix after the house number).
    /// </summary>
    public bool KeywordsEnableWholeText { get; init; }

    /// <summary>Base confidence of a match that passes every check.</summary>
    public double Confidence { get; init; } = 0.9;

    /// <summary>Optional validator (checksum, registry lookup, shape).</summary>
    public CandidateValidator? Validator { get; init; }

    /// <summary>Words that, near the match, raise confidence by <see cref="ContextBoost"/>.</summary>
    public IReadOnlyList<string> ContextWords { get; init; } = [];

    /// <summary>
    /// Words that lower confidence by twice <see cref="ContextBoost"/> when one stands before the match as a whole word with no
    /// other number between them ("invoice number: 2024 1033 0045"; not "ticket 7: call (212) 555-0187").
    /// </summary>
    public IReadOnlyList<string> NegativeContextWords { get; init; } = [];

    /// <summary>How much a context word moves confidence.</summary>
    public double ContextBoost { get; init; } = 0.15;

    /// <summary>When true, a match with no context word nearby is dropped.</summary>
    public bool RequiresContext { get; init; }

    /// <summary>How many characters before the match are searched for context words.</summary>
    public int ContextWindow { get; init; } = 48;

    /// <summary>Minimum Shannon entropy (bits per character) of the value, if any.</summary>
    public double? MinEntropy { get; init; }

    /// <summary>Reject values that look like documentation placeholders.</summary>
    public bool RejectPlaceholders { get; init; }

    /// <summary>How many leading characters of the value are a public type marker shown in excerpts.</summary>
    public int RevealPrefix { get; init; }

    /// <summary>
    /// When true the excerpt shows the matched text itself (an injection phrase, an internal host, a shell
    /// one-liner), with any personal value or secret inside it still masked. Never set on pii or secret rules.
    /// </summary>
    public bool ShowValue { get; init; }

    /// <summary>Higher wins when two findings of one category overlap.</summary>
    public int Priority { get; init; } = 10;

    /// <summary>Findings below this confidence are dropped.</summary>
    public double MinConfidence { get; init; } = 0.3;

    /// <summary>
    /// Where a match that passed every check really ends, given the text, the match's start and its end: a value that
    /// may run past the rule's window (the base64 body of a key block whose END line never came) is covered to its end.
    /// </summary>
    internal Func<string, int, int, int>? ExtendEnd { get; init; }

}
