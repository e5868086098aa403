using System.Text.Json.Nodes;
using Drydock.Cli.Infrastructure;
using Drydock.Provenance;
using Drydock.Provenance.Vault;
using Drydock.Training.Runs;

namespace Drydock.Cli.Commands;

/// <summary>One trainer run for train run and train base: isolated, its log (secrets masked) and outputs put in the vault, the model written out.</summary>
internal static class TrainerExecution
{
    // What one run left: the process outcome, the log with secrets masked, the vault artifacts and the trainer's metrics.
    internal sealed record RunResult(ProcessOutcome Outcome, string MaskedLog, int SecretsInLog, string LogArtifact, IReadOnlyList<string> Artifacts, JsonObject? Metrics)
    {
        public System.Text.Json.JsonDocument Record(string planId) => System.Text.Json.JsonDocument.Parse(new JsonObject
        {
            ["plan"] = planId,
            ["exitCode"] = Outcome.ExitCode,
            ["seconds"] = Math.Round(Outcome.Elapsed.TotalSeconds, 1),
            ["networkIsolated"] = Outcome.NetworkIsolated,
            ["environment"] = new JsonArray([.. Outcome.EnvironmentNames.Select(n => (JsonNode)JsonValue.Create(n)!)]),
            ["log"] = LogArtifact,
            ["artifacts"] = new JsonArray([.. Artifacts.Select(a => (JsonNode)JsonValue.Create(a)!)]),
            ["metrics"] = Metrics?.DeepClone(),
        }.ToJsonString());
    }

    // Runs the trainer; the log (secrets masked) and every output file go into the vault; the model files
    // (model.onnx, model.json, model.pt, metrics.json) are written to target, replacing it whole.
    public static async Task<RunResult> RunAsync(TrainerSpec trainer, TrainingInputs inputs, IsolationOptions isolation, string target, string name, Detection.Engine.Detector detector, CancellationToken cancellationToken)
    {
        var vault = new ArtifactVault(ProjectContext.VaultFolder, KeyRing.Open(ProjectContext.KeyRingPath, create: true));
        return await TrainerRun.RunAsync(trainer, inputs, isolation, (outputFolder, outcome) =>
        {
            var secrets = detector.Scan(outcome.Log).Where(f => f.Category is Detection.Categories.Secret or Detection.Categories.Pii).ToList();
            var masked = Gateway.Guards.TextGuard.Redact(outcome.Log, secrets);
            var logFile = Path.Combine(outputFolder, "..", "trainer.log");
            File.WriteAllText(logFile, masked);
            var log = vault.Put(logFile, "log", $"{name}/trainer.log", Actor.Current).Id;
            var artifacts = new List<string>();
            foreach (var file in Directory.EnumerateFiles(outputFolder).Order(StringComparer.Ordinal))
            {
                artifacts.Add(vault.Put(file, "checkpoint", $"{name}/{Path.GetFileName(file)}", Actor.Current).Id);
            }

            JsonObject? metrics = null;
            if (outcome.ExitCode == 0)
            {
                var staging = target.TrimEnd(Path.DirectorySeparatorChar) + ".partial";
                if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
                Directory.CreateDirectory(staging);
                foreach (var file in Directory.EnumerateFiles(outputFolder)) File.Copy(file, Path.Combine(staging, Path.GetFileName(file)));
                if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
                Directory.Move(staging, target);
                var metricsPath = Path.Combine(target, "metrics.json");
                metrics = File.Exists(metricsPath) ? JsonNode.Parse(File.ReadAllText(metricsPath)) as JsonObject : null;
            }

            return new RunResult(outcome, masked, secrets.Count, log, artifacts, metrics);
        }, cancellationToken).ConfigureAwait(false);
    }
}
