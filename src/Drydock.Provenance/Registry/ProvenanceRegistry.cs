using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Drydock.Provenance.Audit;

namespace Drydock.Provenance.Registry;

/// <summary>
/// Sources, dataset versions, threat models, model versions and approvals, with the gates that guard approval.
/// Every write is one transaction holding the row and its audit entry.
/// </summary>
public sealed partial class ProvenanceRegistry(RegistryDatabase db) : IDisposable
{
    /// <summary>Subject kinds that take approvals.</summary>
    public static readonly IReadOnlyList<string> ApprovableKinds = ["dataset", "model", "threat-model"];

    /// <summary>The database.</summary>
    public RegistryDatabase Database { get; } = db;

    /// <summary>The clock a grant's lifetime and an earlier grant's expiry are decided by (the system's unless given).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Opens the registry at a location (see <see cref="RegistryDatabase.Open"/>).</summary>
    public static ProvenanceRegistry Open(string location) => new(RegistryDatabase.Open(location));

    /// <summary>
    /// Registers a cleaned dataset from its manifest. Parents are the registered datasets whose version is one of
    /// the inputs, plus <paramref name="extraParents"/>. Idempotent: the same version returns the existing record.
    /// </summary>
    public (DatasetRecord Dataset, bool Created) RegisterDataset(DatasetManifest manifest, string manifestJson, string name, IReadOnlyList<string> extraParents, string? envelope, string actor)
    {
        var id = RegistryIds.Dataset(manifest.Version);
        if (Datasets("WHERE id = @id", ("id", id)) is [var existing])
        {
            return existing.Version == manifest.Version ? (existing, false) : throw new RegistryException($"{id} is taken by another version (sha256:{existing.Version}); ids are the first 12 hex digits of the version");
        }

        var parents = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var input in manifest.Inputs)
        {
            foreach (var d in Datasets("WHERE version = @v", ("v", input.Sha256))) parents.Add(d.Id);
        }

        foreach (var p in extraParents) parents.Add(GetDataset(p).Id);

        using var transaction = Database.BeginWrite();
        var sourceIds = new List<string>();
        foreach (var input in manifest.Inputs)
        {
            var sourceId = "src-" + Hex($"{input.Path}\n{input.Classification}\n{input.Trust}\n{input.Owner}")[..12];
            if (!sourceIds.Contains(sourceId)) sourceIds.Add(sourceId);
            if (Database.Scalar("SELECT COUNT(*) FROM sources WHERE id = @id", transaction, ("id", sourceId)) is long and > 0) continue;
            AuditLog.Append(Database, transaction, "sources", sourceId, new Dictionary<string, string?>
            {
                ["path"] = input.Path, ["classification"] = input.Classification, ["trust"] = input.Trust, ["owner"] = input.Owner,
            }, actor, "source.register");
        }

        var now = RegistryDatabase.Now();
        AuditLog.Append(Database, transaction, "datasets", id, new Dictionary<string, string?>
        {
            ["version"] = manifest.Version, ["name"] = name, ["project"] = manifest.Project, ["use_case"] = manifest.UseCase,
            ["classification"] = manifest.Classification, ["max_classification"] = manifest.MaxClassification,
            ["records"] = manifest.Records.ToString(CultureInfo.InvariantCulture), ["manifest_sha256"] = Hex(manifestJson), ["ledger_sha256"] = manifest.LedgerSha256,
            ["parents"] = JsonSerializer.Serialize(parents.ToArray(), ProvenanceJson.Default.StringArray), ["sources"] = JsonSerializer.Serialize(sourceIds.ToArray(), ProvenanceJson.Default.StringArray),
            ["manifest"] = manifestJson, ["envelope"] = envelope, ["registered_by"] = actor, ["registered_at"] = now,
        }, actor, "dataset.register");
        Database.CommitWrite(transaction);
        return (GetDataset(id), true);
    }

    /// <summary>A dataset by id, id prefix or <c>sha256:</c> version; throws when missing or ambiguous.</summary>
    public DatasetRecord GetDataset(string idOrVersion) => FindDataset(idOrVersion) ?? throw new RegistryException($"no dataset '{idOrVersion}' in the registry");

    /// <summary>A dataset by id, id prefix or <c>sha256:</c> version, or null.</summary>
    public DatasetRecord? FindDataset(string idOrVersion)
    {
        if (idOrVersion.StartsWith("sha256:", StringComparison.Ordinal)) return Datasets("WHERE version = @v", ("v", idOrVersion["sha256:".Length..])).FirstOrDefault();
        if (Datasets("WHERE id = @id", ("id", idOrVersion)) is [var exact]) return exact;
        var found = Datasets("WHERE id LIKE @prefix", ("prefix", EscapeLike(idOrVersion) + "%")); // a prefix typed by hand: one scan
        return found.Count switch
        {
            0 => null,
            1 => found[0],
            _ => throw new RegistryException($"'{idOrVersion}' matches {found.Count} datasets; give more of the id"),
        };
    }

    /// <summary>All datasets, oldest first.</summary>
    public IReadOnlyList<DatasetRecord> ListDatasets() => Datasets("");

    /// <summary>Sources by id.</summary>
    public IReadOnlyList<SourceRecord> Sources(IEnumerable<string> ids)
    {
        var result = new List<SourceRecord>();
        foreach (var id in ids)
        {
            using var command = Database.Command("SELECT id, path, classification, trust, owner FROM sources WHERE id = @id", null, ("id", id));
            using var r = command.ExecuteReader();
            if (r.Read()) result.Add(new SourceRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4)));
        }

        return result;
    }

    /// <summary>Registers a threat model (YAML text) for a project; the same text returns the existing record.</summary>
    public ThreatModelRecord RegisterThreatModel(string project, string content, string actor)
    {
        var sha = Hex(content);
        var id = "tm-" + sha[..12];
        if (ThreatModels("WHERE id = @id", ("id", id)).FirstOrDefault() is { } existing) return existing;
        using var transaction = Database.BeginWrite();
        AuditLog.Append(Database, transaction, "threat_models", id, new Dictionary<string, string?>
        {
            ["project"] = project, ["sha256"] = sha, ["content"] = content, ["registered_by"] = actor, ["registered_at"] = RegistryDatabase.Now(),
        }, actor, "threat-model.register");
        Database.CommitWrite(transaction);
        return ThreatModels("WHERE id = @id", ("id", id))[0];
    }

    /// <summary>The latest threat model of a project, or null.</summary>
    public ThreatModelRecord? LatestThreatModel(string project) => ThreatModels("WHERE project = @p", ("p", project)).LastOrDefault();

    /// <summary>A threat model by id or prefix.</summary>
    public ThreatModelRecord GetThreatModel(string id) =>
        ThreatModels("WHERE id = @id", ("id", id)) is [var exact] ? exact : ThreatModels("WHERE id LIKE @prefix", ("prefix", EscapeLike(id) + "%")) switch
        {
            [var one] => one,
            [] => throw new RegistryException($"no threat model '{id}' in the registry"),
            var many => throw new RegistryException($"'{id}' matches {many.Count} threat models"),
        };

    /// <summary>Registers a model version trained on <paramref name="datasetIds"/>; the same digest returns the existing record.</summary>
    public (ModelRecord Model, bool Created) RegisterModel(string name, string digest, string? baseModel, IReadOnlyList<ModelFile> files, IReadOnlyList<string> datasetIds, string? envelope, string actor)
    {
        var id = RegistryIds.Model(digest);
        if (Models("WHERE id = @id", ("id", id)) is [var existing])
        {
            return existing.Digest == digest ? (existing, false) : throw new RegistryException($"{id} is taken by another model (sha256:{existing.Digest})");
        }
        var datasets = datasetIds.Select(d => GetDataset(d).Id).Distinct(StringComparer.Ordinal).ToList();
        using var transaction = Database.BeginWrite();
        var filesJson = JsonSerializer.Serialize(files.ToArray(), ProvenanceJson.Default.ModelFileArray);
        AuditLog.Append(Database, transaction, "models", id, new Dictionary<string, string?>
        {
            ["name"] = name, ["digest"] = digest, ["base_model"] = baseModel, ["files"] = filesJson, ["envelope"] = envelope,
            ["registered_by"] = actor, ["registered_at"] = RegistryDatabase.Now(),
        }, actor, "model.register");
        foreach (var dataset in datasets)
        {
            AuditLog.Append(Database, transaction, "model_datasets", $"{id}:{dataset}", new Dictionary<string, string?> { ["model_id"] = id, ["dataset_id"] = dataset }, actor, "model.link-dataset");
        }

        Database.CommitWrite(transaction);
        return (GetModel(id), true);
    }

    /// <summary>A model by id or prefix; throws when missing.</summary>
    public ModelRecord GetModel(string id) => FindModel(id) ?? throw new RegistryException($"no model '{id}' in the registry");

    /// <summary>A model by id or prefix, or null.</summary>
    public ModelRecord? FindModel(string id)
    {
        if (Models("WHERE id = @id", ("id", id)) is [var exact]) return exact;
        var found = Models("WHERE id LIKE @prefix", ("prefix", EscapeLike(id) + "%"));
        return found.Count switch
        {
            0 => null,
            1 => found[0],
            _ => throw new RegistryException($"'{id}' matches {found.Count} models; give more of the id"),
        };
    }

    /// <summary>Models trained on a dataset.</summary>
    public IReadOnlyList<ModelRecord> ModelsUsing(string datasetId) =>
        Models("WHERE id IN (SELECT model_id FROM model_datasets WHERE dataset_id = @d)", ("d", datasetId));

    /// <summary>All models, oldest first.</summary>
    public IReadOnlyList<ModelRecord> ListModels() => Models("");

    /// <summary>
    /// Records an approval decision. Approving runs the gates first: a dataset needs an approved threat model for its
    /// project and no data classified above its use case; a model needs every dataset it was trained on approved.
    /// A rejection is always recorded.
    /// </summary>
    public ApprovalRecord Approve(string kind, string id, string role, string decision, string? comment, string actor, ApprovalPolicy policy)
    {
        if (decision is not ("approve" or "reject")) throw new RegistryException($"decision must be approve or reject, not '{decision}'");
        var subjectId = kind switch
        {
            "dataset" => GetDataset(id).Id,
            "model" => GetModel(id).Id,
            "threat-model" => GetThreatModel(id).Id,
            _ => throw new RegistryException($"cannot approve a '{kind}'; use one of {string.Join(", ", ApprovableKinds.ToArray())}"),
        };
        if (decision == "approve")
        {
            if (RoleConflict(kind, subjectId, role, actor) is { } conflict) throw new RegistryException(conflict);
            var reasons = GateReasons(kind, subjectId, policy);
            if (reasons.Count > 0) throw new GateException(reasons);
        }

        var approvalId = "ap-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        using var transaction = Database.BeginWrite();
        AuditLog.Append(Database, transaction, "approvals", approvalId, new Dictionary<string, string?>
        {
            ["subject_kind"] = kind, ["subject_id"] = subjectId, ["role"] = role, ["decision"] = decision, ["comment"] = comment, ["actor"] = actor, ["at"] = RegistryDatabase.Now(),
        }, actor, $"{kind}.{decision}");
        Database.CommitWrite(transaction);
        return Approvals(kind, subjectId).Single(a => a.Id == approvalId);
    }

    /// <summary>Records a reviewer's decision on one record (approve releases it from quarantine, reject drops it).</summary>
    public string RecordReview(string recordSha256, string? file, long? line, string? reviewId, string reviewer, string decision, string? note, string actor)
    {
        if (decision is not ("approve" or "reject")) throw new RegistryException($"decision must be approve or reject, not '{decision}'");
        var id = "rv-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        using var transaction = Database.BeginWrite();
        AuditLog.Append(Database, transaction, "review_decisions", id, new Dictionary<string, string?>
        {
            ["record_sha256"] = recordSha256, ["file"] = file, ["line"] = line?.ToString(CultureInfo.InvariantCulture), ["review_id"] = reviewId,
            ["reviewer"] = reviewer, ["decision"] = decision, ["note"] = note, ["actor"] = actor, ["at"] = RegistryDatabase.Now(),
        }, actor, $"review.{decision}");
        Database.CommitWrite(transaction);
        return id;
    }

    /// <summary>Reviewers' decisions on a record, oldest first (reviewer, decision, note, at).</summary>
    public IReadOnlyList<(string Reviewer, string Decision, string? Note, string At)> ReviewsOf(string recordSha256)
    {
        using var command = Database.Command("SELECT reviewer, decision, note, at FROM review_decisions WHERE record_sha256 = @s ORDER BY audit_seq", null, ("s", recordSha256));
        using var r = command.ExecuteReader();
        var list = new List<(string, string, string?, string)>();
        while (r.Read()) list.Add((r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetString(3)));
        return list;
    }

    /// <summary>Decisions on a subject, oldest first.</summary>
    public IReadOnlyList<ApprovalRecord> Approvals(string kind, string subjectId)
    {
        using var command = Database.Command("SELECT id, subject_kind, subject_id, role, decision, comment, actor, at FROM approvals WHERE subject_kind = @k AND subject_id = @s ORDER BY audit_seq", null, ("k", kind), ("s", subjectId));
        using var r = command.ExecuteReader();
        var list = new List<ApprovalRecord>();
        while (r.Read())
        {
            list.Add(new ApprovalRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5), r.GetString(6), r.GetString(7)));
        }

        return list;
    }

    /// <summary>
    /// Where a subject stands. Each approver's latest decision per role counts; any standing rejection rejects; every
    /// required role must have approved, each by a different actor; and the registrant alone cannot approve (separation
    /// of duties).
    /// </summary>
    public ApprovalStatus Status(string kind, string subjectId, IReadOnlyList<string> requiredRoles)
    {
        var latest = Approvals(kind, subjectId).GroupBy(a => (a.Actor, a.Role)).Select(g => g.Last()).ToList();
        var rejections = latest.Where(a => a.Decision == "reject").ToList();
        if (rejections.Count > 0)
        {
            return new ApprovalStatus("rejected", [.. rejections.Select(a => $"rejected by {a.Actor} as {a.Role}" + (a.Comment is { Length: > 0 } c ? $": {c}" : ""))]);
        }

        var approvals = latest.Where(a => a.Decision == "approve").ToList();
        if (kind == "threat-model")
        {
            return approvals.Count > 0 ? new ApprovalStatus("approved", []) : new ApprovalStatus("pending", ["no approval yet"]);
        }

        var reasons = new List<string>();
        if (approvals.Count == 0) reasons.Add("no approval yet");
        foreach (var role in requiredRoles)
        {
            if (!approvals.Any(a => a.Role == role)) reasons.Add($"needs an approval by a {role}");
        }

        // Each required role is another person's sign-off: one actor holding two roles does not give both (also for
        // approvals recorded before this was refused at approve time).
        var roles = requiredRoles.Distinct(StringComparer.Ordinal).ToList();
        var byRole = roles.Select(r => approvals.Where(a => a.Role == r).Select(a => a.Actor).Distinct(StringComparer.Ordinal).ToList()).ToList();
        if (byRole.All(a => a.Count > 0) && !DistinctApprovers(byRole))
        {
            var twice = approvals.Where(a => roles.Contains(a.Role)).GroupBy(a => a.Actor).Where(g => g.Select(a => a.Role).Distinct().Count() > 1)
                .Select(g => $"{g.Key} approved as {string.Join(" and ", g.Select(a => a.Role).Distinct().ToArray())}");
            reasons.Add($"needs a different approver for each of {string.Join(", ", roles.ToArray())} ({string.Join("; ", twice.ToArray())}; separation of duties)");
        }

        var registrant = kind == "dataset" ? GetDataset(subjectId).RegisteredBy : GetModel(subjectId).RegisteredBy;
        if (approvals.Count > 0 && approvals.All(a => a.Actor == registrant))
        {
            reasons.Add($"needs an approver other than {registrant}, who registered it (separation of duties)");
        }

        return reasons.Count == 0 ? new ApprovalStatus("approved", []) : new ApprovalStatus("pending", reasons);
    }

    /// <summary>The gate rules an approval of this subject would fail now.</summary>
    public IReadOnlyList<string> GateReasons(string kind, string subjectId, ApprovalPolicy policy)
    {
        var requiredRoles = policy.RequiredRoles;
        var reasons = new List<string>();
        if (kind == "dataset")
        {
            var dataset = GetDataset(subjectId);
            var threat = LatestThreatModel(dataset.Project);
            if (threat is null)
            {
                reasons.Add($"threat-model: project '{dataset.Project}' has no threat model (drydock threat-model init, then approve)");
            }
            else if (Status("threat-model", threat.Id, requiredRoles).State != "approved")
            {
                reasons.Add($"threat-model: the threat model {threat.Id} of project '{dataset.Project}' is not approved");
            }

            // The stricter of the limit the dataset was cleaned under and the project's limit now.
            var limit = Classifications.Rank(policy.MaxClassification) < Classifications.Rank(dataset.MaxClassification) ? policy.MaxClassification : dataset.MaxClassification;
            if (Classifications.Rank(dataset.Classification) > Classifications.Rank(limit))
            {
                var above = Sources(dataset.Sources).Where(s => Classifications.Rank(s.Classification) > Classifications.Rank(limit)).Select(s => $"{s.Path} ({s.Classification})");
                reasons.Add($"classification: the dataset holds {dataset.Classification} data ({string.Join(", ", above.ToArray())}) and use case '{dataset.UseCase}' may train on {limit} at most");
            }
        }
        else if (kind == "model")
        {
            foreach (var datasetId in GetModel(subjectId).Datasets)
            {
                var status = Status("dataset", datasetId, requiredRoles);
                if (status.State != "approved") reasons.Add($"dataset: {datasetId} is {status.State} ({string.Join("; ", status.Reasons.ToArray())})");
            }
        }

        return reasons;
    }

    /// <inheritdoc />
    public void Dispose() => Database.Dispose();

    internal static string Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static string EscapeLike(string value) => value.Replace("%", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);

    private List<DatasetRecord> Datasets(string where, params (string, object?)[] parameters)
    {
        using var command = Database.Command($"SELECT id, version, name, project, use_case, classification, max_classification, records, manifest_sha256, ledger_sha256, parents, sources, manifest, envelope, registered_by, registered_at FROM datasets {where} ORDER BY audit_seq", null, parameters);
        using var r = command.ExecuteReader();
        var list = new List<DatasetRecord>();
        while (r.Read())
        {
            list.Add(new DatasetRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6),
                long.Parse(r.GetString(7), CultureInfo.InvariantCulture), r.GetString(8), r.GetString(9),
                JsonSerializer.Deserialize(r.GetString(10), ProvenanceJson.Default.StringArray) ?? [], JsonSerializer.Deserialize(r.GetString(11), ProvenanceJson.Default.StringArray) ?? [],
                r.GetString(12), r.IsDBNull(13) ? null : r.GetString(13), r.GetString(14), r.GetString(15)));
        }

        return list;
    }

    private List<ThreatModelRecord> ThreatModels(string where, params (string, object?)[] parameters)
    {
        using var command = Database.Command($"SELECT id, project, sha256, content, registered_by, registered_at FROM threat_models {where} ORDER BY audit_seq", null, parameters);
        using var r = command.ExecuteReader();
        var list = new List<ThreatModelRecord>();
        while (r.Read()) list.Add(new ThreatModelRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5)));
        return list;
    }

    private List<ModelRecord> Models(string where, params (string, object?)[] parameters)
    {
        var list = new List<ModelRecord>();
        using (var command = Database.Command($"SELECT id, name, digest, base_model, files, envelope, registered_by, registered_at FROM models {where} ORDER BY audit_seq", null, parameters))
        using (var r = command.ExecuteReader())
        {
            while (r.Read())
            {
                list.Add(new ModelRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
                    JsonSerializer.Deserialize(r.GetString(4), ProvenanceJson.Default.ModelFileArray) ?? [], [], r.IsDBNull(5) ? null : r.GetString(5), r.GetString(6), r.GetString(7)));
            }
        }

        for (var i = 0; i < list.Count; i++)
        {
            using var command = Database.Command("SELECT dataset_id FROM model_datasets WHERE model_id = @m ORDER BY audit_seq", null, ("m", list[i].Id));
            using var r = command.ExecuteReader();
            var datasets = new List<string>();
            while (r.Read()) datasets.Add(r.GetString(0));
            list[i] = list[i] with { Datasets = datasets };
        }

        return list;
    }
}
