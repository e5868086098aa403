using System.Globalization;
using Drydock.Provenance.Registry;

namespace Drydock.Training;

/// <summary>One rule a plan must satisfy: its name, whether it holds, and why.</summary>
public sealed record PlanCheck(string Rule, bool Passed, string Evidence);

/// <summary>
/// The policy checks of a training plan: the method is allowed, the learning rate and epochs are under the
/// policy's ceilings, early stopping is on, the held-out set exists and is not empty, the dataset version is
/// approved, the threat model of its project is approved, the ε of DP-SGD is within the policy's cap for the data's
/// classification, and the base model's files hash to the pinned SHA-256.
/// </summary>
public static class PlanChecks
{
    /// <summary>Runs every check (all of them, so every failure is listed at once).</summary>
    public static IReadOnlyList<PlanCheck> Run(TrainingPlan plan, ProvenanceRegistry registry, ApprovalPolicy approvals, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(approvals);
        var p = plan.Policy;
        string F(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
        var checks = new List<PlanCheck>
        {
            new("method-allowed", p.Methods.Contains(plan.Method), $"method {plan.Method}; the policy allows {string.Join(", ", p.Methods.ToArray())}"),
            new("learning-rate", plan.LearningRate <= p.MaxLearningRate, $"learning rate {F(plan.LearningRate)}; at most {F(p.MaxLearningRate)}"),
            new("epochs", plan.Epochs <= p.MaxEpochs, $"{plan.Epochs} epochs; at most {p.MaxEpochs}"),
            new("early-stopping", !p.RequireEarlyStopping || (plan.EarlyStoppingMetric is not null && plan.EarlyStoppingPatience >= 1),
                plan.EarlyStoppingMetric is null ? "no early-stopping section" : $"on {plan.EarlyStoppingMetric}, patience {plan.EarlyStoppingPatience}"),
        };

        var heldOut = plan.HeldOut.Length == 0 ? null : Path.GetFullPath(plan.HeldOut, baseDirectory);
        checks.Add(new PlanCheck("held-out-set", heldOut is not null && File.Exists(heldOut) && new FileInfo(heldOut).Length > 0,
            heldOut is null ? "no held-out set named (training.held-out)" : File.Exists(heldOut) ? $"{plan.HeldOut}, {new FileInfo(heldOut).Length} bytes" : $"{plan.HeldOut} does not exist"));

        var dataset = registry.FindDataset(plan.Dataset);
        if (dataset is null)
        {
            checks.Add(new PlanCheck("dataset-approved", false, $"no dataset '{plan.Dataset}' in the registry"));
            checks.Add(new PlanCheck("threat-model-approved", false, "unknown: the dataset is not registered"));
        }
        else
        {
            var status = registry.Status("dataset", dataset.Id, approvals.RequiredRoles);
            checks.Add(new PlanCheck("dataset-approved", status.State == "approved", $"{dataset.Id} is {status.State}{(status.Reasons.Count > 0 ? " (" + string.Join("; ", status.Reasons.ToArray()) + ")" : "")}"));
            var threat = registry.LatestThreatModel(dataset.Project);
            var threatState = threat is null ? null : registry.Status("threat-model", threat.Id, approvals.RequiredRoles).State;
            checks.Add(new PlanCheck("threat-model-approved", threatState == "approved",
                threat is null ? $"project '{dataset.Project}' has no threat model" : $"{threat.Id} of project '{dataset.Project}' is {threatState}"));
        }

        if (PrivacyCheck.Run(plan, dataset) is { } privacy) checks.Add(privacy);

        var basePath = Path.GetFullPath(plan.BaseModelPath, baseDirectory);
        if (!File.Exists(basePath) && !Directory.Exists(basePath))
        {
            checks.Add(new PlanCheck("base-model-hash", false, $"{plan.BaseModelPath} does not exist"));
        }
        else
        {
            var digest = ModelDigest.Of(basePath).Digest;
            checks.Add(new PlanCheck("base-model-hash", digest == plan.BaseModelSha256, digest == plan.BaseModelSha256 ? $"sha256:{digest[..16]}… as pinned" : $"{plan.BaseModelPath} hashes to sha256:{digest}, the plan pins sha256:{plan.BaseModelSha256}"));
        }

        return checks;
    }
}
