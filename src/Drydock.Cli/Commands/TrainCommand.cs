using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using Drydock.Cli.Infrastructure;
using Drydock.Provenance;
using Drydock.Provenance.Signing;
using Drydock.Training;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock train plan</c>: check the training plan in drydock.yaml against policy and record it, signed.</summary>
internal static class TrainCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("train", "Training under policy: check and record the plan (drydock.yaml training:).");
        var plan = new Command("plan", "Check the training plan against policy (method, learning rate, epochs, early stopping, held-out set, approved dataset and threat model, base model hash); record it signed when every check passes; exit 1 listing each failed rule.");
        ProjectContext.AddOptions(plan);
        plan.SetAction((parse, _) => ProjectContext.Guard("train plan", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            var path = parse.GetValue(ProjectContext.PolicyOption) ?? RuleSet.DefaultConfig;
            if (!File.Exists(path)) throw new ArgumentException($"{path}: no such file (drydock init writes one; add a training: section)");
            var trainingPlan = TrainingPlan.Load(path);

            using var registry = context.OpenRegistry();
            var checks = PlanChecks.Run(trainingPlan, registry, context.Approval, Path.GetDirectoryName(Path.GetFullPath(path))!);
            foreach (var c in checks) stdout.WriteLine($"{(c.Passed ? "pass" : "FAIL")}  {c.Rule,-22} {c.Evidence}");
            if (checks.Any(c => !c.Passed))
            {
                stderr.WriteLine($"drydock train plan: refused: {checks.Count(c => !c.Passed)} rule(s) failed");
                return ExitCodes.Findings;
            }

            var dataset = registry.GetDataset(trainingPlan.Dataset);
            var json = trainingPlan.ToJson();
            json["dataset"] = dataset.Id;
            var planText = json.ToJsonString();
            var planSha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(planText)));
            using var key = SigningKey.Load(ProjectContext.SigningKeyPath);
            var statement = Dsse.Statement([new Subject("training-plan", planSha), new Subject("base-model", trainingPlan.BaseModelSha256)], Dsse.TrainingPlanPredicate, w => System.Text.Json.JsonDocument.Parse(planText).WriteTo(w));
            var envelope = Encoding.UTF8.GetString(Dsse.Sign(statement, key));
            var (record, created) = registry.RecordTrainingPlan(dataset.Id, trainingPlan.BaseModelSha256, trainingPlan.Method, planText, planSha, envelope, Actor.Current);
            stdout.WriteLine(created ? $"{record.Id} recorded: {record.Method} on {record.DatasetId}, base sha256:{record.BaseSha256[..16]}…, signed by {key.KeyId}" : $"{record.Id} already recorded ({record.At})");
            return ExitCodes.Ok;
        }));
        command.Subcommands.Add(plan);
        return command;
    }
}
