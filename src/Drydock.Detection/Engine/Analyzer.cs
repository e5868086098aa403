namespace Drydock.Detection.Engine;

/// <summary>
/// A detector that is code rather than one pattern: Unicode analysis, an HTML parser, a scored classifier.
/// It declares its checks as <see cref="RuleInfo"/>s (ids, examples) so they sit in the catalogue beside the
/// pattern rules, and the <see cref="Detector"/> runs it on every field. Implementations are immutable and
/// thread-safe, and cheap on text that cannot hold what they look for. Their findings depend on the text alone:
/// the detector does not scan again a short text that repeats and held nothing.
/// </summary>
public abstract class Analyzer
{
    /// <summary>The category of every finding this analyzer reports.</summary>
    public abstract string Category { get; }

    /// <summary>The checks this analyzer runs, each with its own stable id.</summary>
    public abstract IReadOnlyList<RuleInfo> Rules { get; }

    /// <summary>Adds the findings of one text field to <paramref name="findings"/> (created on first use).</summary>
    public abstract void Analyze(string text, ref List<Finding>? findings);

    /// <summary>Declares one check of this analyzer.</summary>
    protected static RuleInfo Check(string id, string category, string type, Severity severity, string description, string[] examples, string[] counterExamples) => new()
    {
        Id = id,
        Category = category,
        Type = type,
        Severity = severity,
        Description = description,
        Examples = examples,
        CounterExamples = counterExamples,
    };

    /// <summary>Adds a finding of <paramref name="rule"/>.</summary>
    protected static void Report(ref List<Finding>? findings, RuleInfo rule, int start, int end, double confidence, string excerpt, Severity? severity = null) =>
        (findings ??= []).Add(new Finding(rule.Id, rule.Category, rule.Type, severity ?? rule.Severity, start, end, Math.Round(Math.Clamp(confidence, 0, 0.99), 2), excerpt));
}
