using Drydock.Provenance.Audit;

namespace Drydock.Provenance.Registry;

/// <summary>A recorded training plan: the dataset version, the base model hash, the method, the plan (JSON) and its signature.</summary>
public sealed record TrainingPlanRecord(string Id, string DatasetId, string BaseSha256, string Method, string Plan, string PlanSha256, string? Envelope, string Actor, string At);

/// <summary>Training plans, recorded once their policy checks pass.</summary>
public sealed partial class ProvenanceRegistry
{
    /// <summary>Records a checked plan; the id is derived from the plan's SHA-256, so the same plan is recorded once.</summary>
    public (TrainingPlanRecord Plan, bool Created) RecordTrainingPlan(string datasetId, string baseSha256, string method, string planJson, string planSha256, string? envelope, string actor)
    {
        var id = "tp-" + planSha256[..12];
        if (TrainingPlans("WHERE id = @id", ("id", id)) is [var existing]) return (existing, false);
        var dataset = GetDataset(datasetId).Id;
        using var transaction = Database.BeginWrite();
        AuditLog.Append(Database, transaction, "training_plans", id, new Dictionary<string, string?>
        {
            ["dataset_id"] = dataset, ["base_sha256"] = baseSha256, ["method"] = method, ["plan"] = planJson, ["plan_sha256"] = planSha256, ["envelope"] = envelope, ["actor"] = actor, ["at"] = RegistryDatabase.Now(),
        }, actor, "training.plan");
        Database.CommitWrite(transaction);
        return (TrainingPlans("WHERE id = @id", ("id", id)).Single(), true);
    }

    /// <summary>A recorded plan by id, or null.</summary>
    public TrainingPlanRecord? FindTrainingPlan(string id) => TrainingPlans("WHERE id = @id", ("id", id)).SingleOrDefault();

    private List<TrainingPlanRecord> TrainingPlans(string where, params (string, object?)[] parameters)
    {
        using var command = Database.Command($"SELECT id, dataset_id, base_sha256, method, plan, plan_sha256, envelope, actor, at FROM training_plans {where} ORDER BY audit_seq", null, parameters);
        using var r = command.ExecuteReader();
        var list = new List<TrainingPlanRecord>();
        while (r.Read()) list.Add(new TrainingPlanRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.IsDBNull(6) ? null : r.GetString(6), r.GetString(7), r.GetString(8)));
        return list;
    }
}
