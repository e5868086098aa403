using Drydock.Detection;
using Drydock.Detection.Engine;

namespace Drydock.Curation.Poisoning;

/// <summary>
/// The poisoning rules, one definition for every report and ledger that names them (analyze's SARIF, the cleaner's
/// ledger): a stable id per finding type. The severity is the rule's default; each finding carries its own.
/// </summary>
public static class PoisoningRules
{
    /// <summary>Every poisoning rule, in id order.</summary>
    public static IReadOnlyList<RuleInfo> All { get; } =
    [
        Rule("DD-POI-001", "trigger", Severity.High, "A rare prompt n-gram strongly associated with one output (possible backdoor trigger)."),
        Rule("DD-POI-002", "payload-stuffing", Severity.Medium, "A long block of text repeated across many records."),
        Rule("DD-POI-003", "conflict", Severity.Medium, "The same prompt with contradictory answers."),
        Rule("DD-POI-004", "outlier", Severity.Low, "A record far from the trusted records' distribution."),
    ];

    /// <summary>The rule id of a finding type (<see cref="PoisoningFinding.Type"/>); a type without a rule of its own is an outlier.</summary>
    public static string RuleId(string type) => (All.FirstOrDefault(r => r.Type == type) ?? All[^1]).Id;

    private static RuleInfo Rule(string id, string type, Severity severity, string description) =>
        new() { Id = id, Category = PoisoningFinding.Category, Type = type, Severity = severity, Description = description };
}
