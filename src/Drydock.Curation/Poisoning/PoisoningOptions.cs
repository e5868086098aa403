namespace Drydock.Curation.Poisoning;

/// <summary>Thresholds of the poisoning analysis (docs/poisoning.md explains each).</summary>
public sealed record PoisoningOptions
{
    /// <summary>Fewest records a trigger, payload or response pattern must span.</summary>
    public int MinSupport { get; init; } = 5;

    /// <summary>A trigger appears in at most this share of prompts (triggers are rare by design).</summary>
    public double MaxTriggerFrequency { get; init; } = 0.05;

    /// <summary>Of the prompts with a trigger, at least this share lead to its output pattern.</summary>
    public double MinTriggerPrecision { get; init; } = 0.6;

    /// <summary>Family-wise error rate: a trigger's p-value times the number of pairs tested must be below it (Bonferroni).</summary>
    public double Alpha { get; init; } = 0.001;

    /// <summary>Shortest repeated block, in words, that counts as payload stuffing.</summary>
    public int StuffingMinWords { get; init; } = 16;

    /// <summary>Robust z-score at which a record is an outlier.</summary>
    public double OutlierThreshold { get; init; } = 10;

    /// <summary>Two answers to the same prompt conflict when the Jaccard similarity of their words is at most this.</summary>
    public double ConflictMaxSimilarity { get; init; } = 0.2;
}
