using Drydock.Detection;

namespace Drydock.Curation.Poisoning;

/// <summary>Where a record sits.</summary>
public sealed record RecordRef(string File, long Line, string? Id, string Source);

/// <summary>
/// A dataset-level finding of category <c>poisoning</c>: its type (<c>trigger</c>, <c>payload-stuffing</c>,
/// <c>conflict</c>, <c>outlier</c>), how suspicious it is, the evidence (the trigger or repeated text itself: not a
/// secret) and the records involved.
/// </summary>
public sealed record PoisoningFinding(string Type, Severity Severity, double Score, string Summary, IReadOnlyList<KeyValuePair<string, string>> Evidence, IReadOnlyList<RecordRef> Records)
{
    /// <summary>The category of every poisoning finding.</summary>
    public const string Category = "poisoning";
}

/// <summary>How one source compares with the trusted baseline.</summary>
/// <param name="Source">The source (its path or glob in drydock.yaml, or "(undeclared)").</param>
/// <param name="Trusted">Its trust tier.</param>
/// <param name="Records">Records from it.</param>
/// <param name="MedianChars">Median record length in characters.</param>
/// <param name="MeanCrossEntropy">Mean bits per character under the character trigram model of trusted data.</param>
/// <param name="CrossEntropyShift">How far that mean is from the trusted records', in trusted standard deviations.</param>
/// <param name="OutlierShare">Share of its records that are outliers.</param>
/// <param name="FlaggedShare">Share of its records in any finding.</param>
public sealed record SourceProfile(string Source, bool Trusted, int Records, double MedianChars, double MeanCrossEntropy, double CrossEntropyShift, double OutlierShare, double FlaggedShare);

/// <summary>Everything <c>drydock analyze</c> found: findings most suspicious first, and per-source profiles.</summary>
public sealed record PoisoningReport(int Records, IReadOnlyList<PoisoningFinding> Findings, IReadOnlyList<SourceProfile> Sources, IReadOnlyList<TriggerProbe> Triggers);

/// <summary>A trigger candidate exported for the evaluation harness: prompts with the trigger and the output it leads to.</summary>
public sealed record TriggerProbe(string Id, string Trigger, string PatternKind, string Pattern, IReadOnlyList<string> ExamplePrompts, int Support);
