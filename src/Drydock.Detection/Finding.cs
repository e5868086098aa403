namespace Drydock.Detection;

/// <summary>How serious a finding is; ordered so that comparisons mean "at least".</summary>
public enum Severity
{
    /// <summary>Worth knowing; rarely blocks.</summary>
    Low = 0,
    /// <summary>Should be reviewed.</summary>
    Medium = 1,
    /// <summary>Should not be trained on or served.</summary>
    High = 2,
    /// <summary>A live credential or a regulated identifier.</summary>
    Critical = 3,
}

/// <summary>The fixed list of finding categories (part of the public contract).</summary>
public static class Categories
{
    /// <summary>Personal data.</summary>
    public const string Pii = "pii";
    /// <summary>Credentials and keys.</summary>
    public const string Secret = "secret";
    /// <summary>Prompt injection and jailbreak text.</summary>
    public const string Injection = "injection";
    /// <summary>Invisible or direction-changing Unicode.</summary>
    public const string HiddenText = "hidden-text";
    /// <summary>Hidden HTML/CSS and markdown tricks.</summary>
    public const string Markup = "markup";
    /// <summary>Internal hosts, private addresses, suspicious links.</summary>
    public const string Url = "url";
    /// <summary>Test signatures, encoded payloads.</summary>
    public const string Malware = "malware";
    /// <summary>Dataset-level poisoning.</summary>
    public const string Poisoning = "poisoning";
    /// <summary>Planted canaries.</summary>
    public const string Canary = "canary";

    /// <summary>Every category, in contract order.</summary>
    public static readonly IReadOnlyList<string> All = [Pii, Secret, Injection, HiddenText, Markup, Url, Malware, Poisoning, Canary];

    /// <summary>True when <paramref name="name"/> is a known category.</summary>
    public static bool IsKnown(string name) => All.Contains(name, StringComparer.Ordinal);
}

/// <summary>
/// What a detector reports on one text field. Offsets are UTF-16 code units into the field text.
/// A finding never carries the raw value: <see cref="Excerpt"/> is masked.
/// </summary>
public sealed record Finding(
    string RuleId,
    string Category,
    string Type,
    Severity Severity,
    int Start,
    int End,
    double Confidence,
    string Excerpt)
{
    /// <summary>
    /// How the value was written when it was found only decoded (<c>base64</c>, <c>hex</c>, <c>spaced</c>: single
    /// characters with a separator between them; nested as <c>base64+hex</c>): the span is then the whole encoded run.
    /// Null for a value written as it is.
    /// </summary>
    public string? Encoding { get; init; }
}

/// <summary>Lower-case names used in reports and options.</summary>
public static class SeverityNames
{
    /// <summary>The report name of a severity.</summary>
    public static string Name(this Severity severity) => severity switch
    {
        Severity.Low => "low",
        Severity.Medium => "medium",
        Severity.High => "high",
        _ => "critical",
    };

    /// <summary>Parses <c>low|medium|high|critical</c> (case-insensitive).</summary>
    public static bool TryParse(string? text, out Severity severity)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "low": severity = Severity.Low; return true;
            case "medium": severity = Severity.Medium; return true;
            case "high": severity = Severity.High; return true;
            case "critical": severity = Severity.Critical; return true;
            default: severity = Severity.Low; return false;
        }
    }
}
