namespace Drydock.Detection.Engine;

/// <summary>
/// What every detection rule has, whether it is a pattern (<see cref="Rule"/>) or a check inside an
/// <see cref="Analyzer"/>: a stable id, what it reports, and the texts that prove it works.
/// </summary>
public class RuleInfo
{
    /// <summary>Stable identifier such as <c>DD-SEC-014</c>; never reused.</summary>
    public required string Id { get; init; }

    /// <summary>One of <see cref="Categories"/>.</summary>
    public required string Category { get; init; }

    /// <summary>Finer, open-ended type such as <c>email</c> or <c>aws-access-key-id</c>.</summary>
    public required string Type { get; init; }

    /// <summary>Severity of every finding of this rule (an analyzer may raise it for one finding).</summary>
    public required Severity Severity { get; init; }

    /// <summary>One line for humans and SARIF.</summary>
    public required string Description { get; init; }

    /// <summary>Texts in which this rule must report at least one finding.</summary>
    public IReadOnlyList<string> Examples { get; init; } = [];

    /// <summary>Texts in which this rule must report nothing.</summary>
    public IReadOnlyList<string> CounterExamples { get; init; } = [];

    /// <inheritdoc />
    public override string ToString() => Id;
}
