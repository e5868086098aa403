using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Drydock.Provenance.Registry;
using Drydock.Provenance.Signing;

namespace Drydock.Training;

/// <summary>What recording a training plan did: the record, whether it was new, and the key that signed it.</summary>
public sealed record PlanRecorded(TrainingPlanRecord Record, bool Created, string KeyId);

/// <summary>
/// Recording a training plan that passed <see cref="PlanChecks"/>, and a finished run of it: the plan as the trainer
/// reads it (the dataset's id, and for a private plan σ, q and C from the accountant) signed and recorded; the model a
/// run made registered as a model version whose signed statement carries the run's record and the privacy it spent.
/// </summary>
public static class PlanRecording
{
    /// <summary>Signs <paramref name="plan"/> with the key at <paramref name="signingKeyPath"/> and records it (the same plan returns its existing record).</summary>
    public static PlanRecorded Record(TrainingPlan plan, ProvenanceRegistry registry, string signingKeyPath, string actor)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(registry);
        var dataset = registry.GetDataset(plan.Dataset);
        var json = plan.ToJson();
        json["dataset"] = dataset.Id;
        if (plan.Privacy is { } privacy)
        {
            // The trainer reads σ, q and C from here; the checks already refused a budget the accountant cannot give.
            var budget = PrivacyBudget.Plan(privacy, dataset.Records, plan.BatchSize, plan.Epochs).ToJson();
            budget["targetEpsilon"] = privacy.Epsilon;
            json["privacy"] = budget;
        }

        var planText = json.ToJsonString();
        var planSha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(planText)));
        using var key = SigningKey.Load(signingKeyPath);
        var statement = Dsse.Statement([new Subject("training-plan", planSha), new Subject("base-model", plan.BaseModelSha256)], Dsse.TrainingPlanPredicate, w => JsonDocument.Parse(planText).WriteTo(w));
        var envelope = Encoding.UTF8.GetString(Dsse.Sign(statement, key));
        var (record, created) = registry.RecordTrainingPlan(dataset.Id, plan.BaseModelSha256, plan.Method, planText, planSha, envelope, actor);
        return new PlanRecorded(record, created, key.KeyId);
    }

    /// <summary>
    /// Registers the model a run of <paramref name="plan"/> wrote to <paramref name="target"/>, trained on
    /// <paramref name="datasetId"/> from the pinned base model; the signed statement carries <paramref name="run"/>
    /// (the run's record) and, when the plan was private, the budget it spent.
    /// </summary>
    public static ModelRegistered RegisterRun(ProvenanceRegistry registry, TrainingPlan plan, string datasetId, string target, string modelName, JsonDocument run, PrivacyBudget? spent, string signingKeyPath, string actor)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(run);
        return ModelRegistration.Register(registry, new ModelRegistrationSettings(target, modelName, $"sha256:{plan.BaseModelSha256}", [datasetId], signingKeyPath, actor)
        {
            Details = w =>
            {
                w.WritePropertyName("run");
                run.WriteTo(w);
                if (spent is null) return;
                w.WritePropertyName("privacy");
                JsonDocument.Parse(spent.ToJson().ToJsonString()).WriteTo(w);
            },
        });
    }
}
