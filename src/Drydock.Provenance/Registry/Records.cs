namespace Drydock.Provenance.Registry;

/// <summary>A registered dataset version.</summary>
public sealed record DatasetRecord(
    string Id, string Version, string Name, string Project, string UseCase, string Classification, string MaxClassification, long Records,
    string ManifestSha256, string LedgerSha256, IReadOnlyList<string> Parents, IReadOnlyList<string> Sources, string Manifest, string? Envelope,
    string RegisteredBy, string RegisteredAt);

/// <summary>A registered source (a path with its classification, trust tier and owner).</summary>
public sealed record SourceRecord(string Id, string Path, string Classification, string Trust, string? Owner);

/// <summary>One file of a model version.</summary>
public sealed record ModelFile(string Path, string Sha256, long Bytes);

/// <summary>A registered model version.</summary>
public sealed record ModelRecord(
    string Id, string Name, string Digest, string? BaseModel, IReadOnlyList<ModelFile> Files, IReadOnlyList<string> Datasets, string? Envelope,
    string RegisteredBy, string RegisteredAt);

/// <summary>A registered threat model.</summary>
public sealed record ThreatModelRecord(string Id, string Project, string Sha256, string Content, string RegisteredBy, string RegisteredAt);

/// <summary>One approval decision.</summary>
public sealed record ApprovalRecord(string Id, string SubjectKind, string SubjectId, string Role, string Decision, string? Comment, string Actor, string At);

/// <summary>Where a subject stands: <c>approved</c>, <c>rejected</c> or <c>pending</c>, with why.</summary>
public sealed record ApprovalStatus(string State, IReadOnlyList<string> Reasons);

/// <summary>A gate refused an approval: each reason names the rule that failed (exit code 1).</summary>
public sealed class GateException(IReadOnlyList<string> reasons) : Exception(string.Join("; ", reasons.ToArray()))
{
    /// <summary>Every failed rule.</summary>
    public IReadOnlyList<string> Reasons { get; } = reasons;
}

/// <summary>What approval requires: the roles that must approve, and the most sensitive data the use case may train on.</summary>
public sealed record ApprovalPolicy(IReadOnlyList<string> RequiredRoles, string MaxClassification);
