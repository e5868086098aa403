using Drydock.Datasets;

namespace Drydock.Curation;

/// <summary>Where <c>drydock clean</c> writes, and how it selects.</summary>
public sealed record CleanOptions
{
    /// <summary>The cleaned dataset.</summary>
    public required string Output { get; init; }

    /// <summary>Every quarantined or malformed record, whole, with its reasons (JSONL).</summary>
    public required string Quarantine { get; init; }

    /// <summary>One JSON line per action taken.</summary>
    public required string Ledger { get; init; }

    /// <summary>The dataset version and its counts (JSON).</summary>
    public required string Manifest { get; init; }

    /// <summary>The held-out file, when <see cref="HoldoutFraction"/> is above zero.</summary>
    public string? Holdout { get; init; }

    /// <summary>Fraction of records (by near-duplicate cluster) written to the held-out file.</summary>
    public double HoldoutFraction { get; init; }

    /// <summary>Keep only this many records, chosen for diversity.</summary>
    public int? Keep { get; init; }

    /// <summary>Seed of the held-out split and the selection.</summary>
    public int Seed { get; init; }

    /// <summary>How to read inputs.</summary>
    public ReaderOptions Reader { get; init; } = new();

    /// <summary>Reviewers' latest decisions by record SHA-256 (see <see cref="Review.ReviewDecisions"/>).</summary>
    public IReadOnlyDictionary<string, Review.ReviewDecision> ReviewDecisions { get; init; } = new Dictionary<string, Review.ReviewDecision>();

    /// <summary>Worker threads (default: all cores).</summary>
    public int? Threads { get; init; }

    /// <summary>Told "file:line: reason" for every malformed record (which is also quarantined).</summary>
    public Action<string>? OnMalformed { get; init; }
}

/// <summary>An input of a clean run that cannot be cleaned (a format it does not rewrite).</summary>
public sealed class CleanException(string message) : Exception(message);
