using System.Security.Cryptography;
using System.Text.Json;
using Drydock.Provenance.Audit;

namespace Drydock.Provenance.Registry;

/// <summary>An evaluation of a model version: its kind (<c>probes</c>, <c>memorization</c>, <c>membership</c>), the target, named metrics.</summary>
public sealed record EvaluationRecord(string Id, string ModelId, string Kind, string Target, IReadOnlyDictionary<string, double> Metrics, string? ReportSha256, string Actor, string At)
{
    /// <summary>What the evaluation measured and how completely (null for evaluations recorded before evidence was kept).</summary>
    public EvaluationEvidence? Evidence { get; init; }
}

/// <summary>
/// The evidence of an evaluation: the fingerprint of what it measured, its status (<c>complete</c> or
/// <c>partial</c>) and the details as JSON (counts, suites, target, input checks), written with the evaluation in one
/// transaction and in the audit log.
/// </summary>
public sealed record EvaluationEvidence(string Fingerprint, string Status, string Json);

/// <summary>A release-gate decision: <c>ship</c> or <c>no-ship</c>, the checks behind it (JSON), and its signature.</summary>
public sealed record GateDecisionRecord(string Id, string ModelId, string Decision, string? BaseModelId, string Checks, string? Envelope, string Actor, string At);

/// <summary>Evaluations and gate decisions, recorded against model versions.</summary>
public sealed partial class ProvenanceRegistry
{
    /// <summary>Records an evaluation's metrics against a model version.</summary>
    public EvaluationRecord RecordEvaluation(string modelId, string kind, string target, IReadOnlyDictionary<string, double> metrics, string? reportSha256, string actor, EvaluationEvidence? evidence = null)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        if (evidence is not null && evidence.Status is not ("complete" or "partial")) throw new RegistryException($"an evaluation is complete or partial, not '{evidence.Status}'");
        var model = GetModel(modelId).Id;
        var id = "ev-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var json = JsonSerializer.Serialize(metrics.OrderBy(m => m.Key, StringComparer.Ordinal).ToDictionary(m => m.Key, m => m.Value), ProvenanceJson.Default.DictionaryStringDouble);
        using var transaction = Database.BeginWrite();
        AuditLog.Append(Database, transaction, "evaluations", id, new Dictionary<string, string?>
        {
            ["model_id"] = model, ["kind"] = kind, ["target"] = target, ["metrics"] = json, ["report_sha256"] = reportSha256, ["actor"] = actor, ["at"] = RegistryDatabase.Now(),
        }, actor, $"evaluation.{kind}");
        if (evidence is not null)
        {
            AuditLog.Append(Database, transaction, "evaluation_evidence", id + ":evidence", new Dictionary<string, string?>
            {
                ["evaluation_id"] = id, ["fingerprint"] = evidence.Fingerprint, ["status"] = evidence.Status, ["evidence"] = evidence.Json,
            }, actor, "evaluation.evidence");
        }

        Database.CommitWrite(transaction);
        return Evaluations(model).Single(e => e.Id == id);
    }

    /// <summary>A model's evaluations, oldest first.</summary>
    public IReadOnlyList<EvaluationRecord> Evaluations(string modelId)
    {
        var model = GetModel(modelId).Id;
        using var command = Database.Command("""
            SELECT e.id, e.model_id, e.kind, e.target, e.metrics, e.report_sha256, e.actor, e.at, v.fingerprint, v.status, v.evidence
            FROM evaluations e LEFT JOIN evaluation_evidence v ON v.evaluation_id = e.id WHERE e.model_id = @m ORDER BY e.audit_seq
            """, null, ("m", model));
        using var r = command.ExecuteReader();
        var list = new List<EvaluationRecord>();
        while (r.Read())
        {
            list.Add(new EvaluationRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3),
                JsonSerializer.Deserialize(r.GetString(4), ProvenanceJson.Default.DictionaryStringDouble) ?? [], r.IsDBNull(5) ? null : r.GetString(5), r.GetString(6), r.GetString(7))
            {
                Evidence = r.IsDBNull(8) ? null : new EvaluationEvidence(r.GetString(8), r.GetString(9), r.GetString(10)),
            });
        }

        return list;
    }

    /// <summary>Records a gate decision.</summary>
    public GateDecisionRecord RecordGateDecision(string modelId, string decision, string? baseModelId, string checksJson, string? envelope, string actor)
    {
        if (decision is not ("ship" or "no-ship")) throw new RegistryException($"a gate decision is ship or no-ship, not '{decision}'");
        var model = GetModel(modelId).Id;
        var id = "gd-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        using var transaction = Database.BeginWrite();
        AuditLog.Append(Database, transaction, "gate_decisions", id, new Dictionary<string, string?>
        {
            ["model_id"] = model, ["decision"] = decision, ["base_model_id"] = baseModelId, ["checks"] = checksJson, ["envelope"] = envelope, ["actor"] = actor, ["at"] = RegistryDatabase.Now(),
        }, actor, $"gate.{decision}");
        Database.CommitWrite(transaction);
        return GateDecisions(model).Single(g => g.Id == id);
    }

    /// <summary>A model's gate decisions, oldest first.</summary>
    public IReadOnlyList<GateDecisionRecord> GateDecisions(string modelId)
    {
        var model = GetModel(modelId).Id;
        using var command = Database.Command("SELECT id, model_id, decision, base_model_id, checks, envelope, actor, at FROM gate_decisions WHERE model_id = @m ORDER BY audit_seq", null, ("m", model));
        using var r = command.ExecuteReader();
        var list = new List<GateDecisionRecord>();
        while (r.Read()) list.Add(new GateDecisionRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5), r.GetString(6), r.GetString(7)));
        return list;
    }
}
