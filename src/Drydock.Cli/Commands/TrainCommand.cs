using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Cli.Infrastructure;
using Drydock.Provenance;
using Drydock.Provenance.Registry;
using Drydock.Training;
using Drydock.Training.Runs;

namespace Drydock.Cli.Commands;

/// <summary>
/// <c>drydock train plan|run|base</c>: check the training plan in drydock.yaml against policy and record it signed;
/// run it with a trainer, isolated, and record the result as a model version; pre-train the reference base model.
/// </summary>
internal static class TrainCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("train", "Training under policy: check and record the plan (drydock.yaml training:), run it isolated, pre-train the reference base model.");
        command.Subcommands.Add(Plan(stdout, stderr));
        command.Subcommands.Add(Run(stdout, stderr));
        command.Subcommands.Add(Base(stdout, stderr));
        return command;
    }

    private static Command Plan(TextWriter stdout, TextWriter stderr)
    {
        var plan = new Command("plan", "Check the training plan against policy (method, learning rate, epochs, early stopping, held-out set, approved dataset and threat model, base model hash); record it signed when every check passes; exit 1 listing each failed rule.");
        ProjectContext.AddOptions(plan);
        plan.SetAction((parse, _) => ProjectContext.Guard("train plan", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            using var registry = context.OpenRegistry();
            var (checkedPlan, _) = CheckAndRecord(parse, context, registry, stdout, stderr, "train plan");
            return checkedPlan is null ? ExitCodes.Findings : ExitCodes.Ok;
        }));
        return plan;
    }

    // Loads the plan, runs every check (printing each), and records the plan signed when all pass.
    private static (TrainingPlan? Plan, TrainingPlanRecord? Record) CheckAndRecord(ParseResult parse, ProjectContext context, ProvenanceRegistry registry, TextWriter stdout, TextWriter stderr, string verb)
    {
        var path = PlanPath(context);
        var trainingPlan = TrainingPlan.From(context.File["training"], path);
        var checks = PlanChecks.Run(trainingPlan, registry, context.Approval, Path.GetDirectoryName(Path.GetFullPath(path))!);
        foreach (var c in checks) stdout.WriteLine($"{(c.Passed ? "pass" : "FAIL")}  {c.Rule,-22} {c.Evidence}");
        if (checks.Any(c => !c.Passed))
        {
            stderr.WriteLine($"drydock {verb}: refused: {checks.Count(c => !c.Passed)} rule(s) failed");
            return (null, null);
        }

        var (record, created, keyId) = PlanRecording.Record(trainingPlan, registry, ProjectContext.SigningKeyPath, Actor.Current);
        stdout.WriteLine(created ? $"{record.Id} recorded: {record.Method} on {record.DatasetId}, base sha256:{record.BaseSha256[..16]}…, signed by {keyId}" : $"{record.Id} already recorded ({record.At})");
        return (trainingPlan, record);
    }

    private static string PlanPath(ProjectContext context) =>
        context.PolicyPath ?? throw new ArgumentException($"{ProjectContext.ProjectFileName}: no such file in the project (drydock init writes one; add a training: section)");

    private static Command Run(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("run", "Check the plan (as train plan), then train: the dataset version (its file checked against the registered SHA-256) and held-out set copied into a private folder, the trainer run without network, with only allow-listed environment variables and time and memory limits; the output and the log (secrets masked) encrypted into the vault, the model written to --output and registered as a model version with the run's record, signed.");
        var options = new TrainerOptions();
        var data = new Option<string?>("--data") { Description = "The dataset version's file (default: the output named in its manifest); refused unless it hashes to the registered version." };
        var output = new Option<string?>("--output") { Description = "Where the trained model goes (default: models/<name>)." };
        var name = new Option<string?>("--name") { Description = "The model's name (default: <dataset>-<method>)." };
        options.AddTo(command);
        foreach (var option in new Option[] { data, output, name }) command.Options.Add(option);
        ProjectContext.AddOptions(command);
        command.SetAction((parse, cancellationToken) => CommandErrors.Run("train run", stderr, async () =>
        {
            var context = ProjectContext.Load(parse);
            var trainer = options.Spec(parse);
            var isolation = options.Isolation(parse);
            TrainingPlan plan;
            TrainingPlanRecord record;
            DatasetRecord dataset;
            using (var planRegistry = context.OpenRegistry())
            {
                var (checkedPlan, recorded) = CheckAndRecord(parse, context, planRegistry, stdout, stderr, "train run");
                if (checkedPlan is null) return ExitCodes.Findings;
                (plan, record) = (checkedPlan, recorded!);
                dataset = planRegistry.GetDataset(plan.Dataset);
            }

            var baseDirectory = Path.GetDirectoryName(Path.GetFullPath(PlanPath(context)))!;
            var trainPath = parse.GetValue(data) ?? Path.GetFullPath(DatasetManifest.Parse(dataset.Id, Encoding.UTF8.GetBytes(dataset.Manifest)).Output, baseDirectory);
            if (!File.Exists(trainPath)) throw new ArgumentException($"{trainPath}: the file of {dataset.Id} is not there (give it with --data)");
            string sha;
            using (var file = File.OpenRead(trainPath)) sha = Convert.ToHexStringLower(SHA256.HashData(file));
            if (sha != dataset.Version) throw new ArgumentException($"{trainPath} hashes to sha256:{sha}, not to {dataset.Id}'s registered sha256:{dataset.Version}: refused");
            var basePath = Path.GetFullPath(plan.BaseModelPath, baseDirectory);
            if (trainer.Kind == "reference" && !File.Exists(Path.Combine(basePath, "model.pt"))) throw new ArgumentException($"{plan.BaseModelPath}: no model.pt (the reference trainer fine-tunes a model from drydock train base)");
            var modelName = parse.GetValue(name) ?? $"{dataset.Name.Split('.')[0]}-{plan.Method}";
            var target = Path.GetFullPath(parse.GetValue(output) ?? Path.Combine("models", modelName));

            stderr.WriteLine($"drydock train run: {record.Id}: {trainer.Kind} trainer, {plan.Method}, {plan.Epochs} epochs at {plan.LearningRate}, {(isolation.RequireNoNetwork ? "no network" : "WITH network")}");
            var result = await TrainerExecution.RunAsync(trainer, new TrainingInputs(record.Plan, trainPath, Path.GetFullPath(plan.HeldOut, baseDirectory), Directory.Exists(basePath) ? basePath : null), isolation, target, modelName, context.Rules().CreateDetector(), cancellationToken).ConfigureAwait(false);
            if (result.Outcome.ExitCode != 0)
            {
                stderr.WriteLine($"drydock train run: the trainer failed (exit {result.Outcome.ExitCode}{(result.Outcome.TimedOut ? ", time limit" : "")}); its log is in the vault as {result.LogArtifact}:");
                foreach (var line in result.MaskedLog.Split('\n').TakeLast(15)) stderr.WriteLine("  " + line);
                return ExitCodes.Findings;
            }

            var spent = TrainerPrivacy.Spent(record.Plan, result.Metrics);
            if (spent is not null) stdout.WriteLine($"  differential privacy: {spent}");
            using var registry = context.OpenRegistry();
            var (model, created, envelopePath, keyId) = PlanRecording.RegisterRun(registry, plan, dataset.Id, target, modelName, result.Record(record.Id), spent, ProjectContext.SigningKeyPath, Actor.Current);
            stdout.WriteLine(created
                ? $"{model.Id} registered: {modelName} from {record.Id} in {result.Outcome.Elapsed.TotalSeconds:0.0} s; held-out loss {result.Metrics?["heldOutLoss"]?.ToString() ?? "n/a"}; model in {target}, signed by {keyId} ({envelopePath})"
                : $"{model.Id} already registered ({model.Name}): this run produced the same files; model in {target}");
            stdout.WriteLine($"  vault: log {result.LogArtifact}, outputs {string.Join(", ", result.Artifacts.ToArray())}{(result.SecretsInLog > 0 ? $"; {result.SecretsInLog} secret(s) masked in the log" : "")}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Base(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("base", "Pre-train the reference trainer's small byte-level base model from a text corpus (any dataset format), isolated like train run; prints the SHA-256 to pin in training.base-model.");
        var options = new TrainerOptions();
        var corpus = new Option<string>("--corpus") { Description = "The pre-training corpus.", Required = true };
        var heldOut = new Option<string>("--held-out") { Description = "Held-out text to measure loss on.", Required = true };
        var output = new Option<string>("--output") { Description = "The base model's folder.", DefaultValueFactory = _ => Path.Combine("models", "base") };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the corpus.", DefaultValueFactory = _ => 2 };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 42 };
        options.AddTo(command);
        foreach (var option in new Option[] { corpus, heldOut, output, epochs, seed }) command.Options.Add(option);
        command.SetAction((parse, cancellationToken) => CommandErrors.Run("train base", stderr, async () =>
        {
            var trainer = options.Spec(parse);
            if (trainer.Kind != "reference") throw new ArgumentException("train base pre-trains the reference model: use --trainer reference");
            if (parse.GetValue(epochs) < 1) throw new ArgumentException("--epochs must be at least 1");
            foreach (var input in new[] { parse.GetValue(corpus)!, parse.GetValue(heldOut)! })
            {
                if (!File.Exists(input)) throw new ArgumentException($"{input}: no such file");
            }

            var plan = new JsonObject { ["method"] = "full", ["learningRate"] = 2e-3, ["epochs"] = parse.GetValue(epochs), ["batchSize"] = 32, ["weightDecay"] = 0.01, ["seed"] = parse.GetValue(seed) };
            var target = Path.GetFullPath(parse.GetValue(output)!);
            var result = await TrainerExecution.RunAsync(trainer, new TrainingInputs(plan.ToJsonString(), parse.GetValue(corpus)!, parse.GetValue(heldOut)!, null), options.Isolation(parse), target, "base", ProjectContext.Load(parse).Rules().CreateDetector(), cancellationToken).ConfigureAwait(false);
            if (result.Outcome.ExitCode != 0)
            {
                foreach (var line in result.MaskedLog.Split('\n').TakeLast(15)) stderr.WriteLine("  " + line);
                stderr.WriteLine($"drydock train base: the trainer failed (exit {result.Outcome.ExitCode})");
                return ExitCodes.Findings;
            }

            stdout.WriteLine($"{target}: sha256 {ModelDigest.Of(target).Digest} (held-out loss {result.Metrics?["heldOutLoss"]}, {result.Metrics?["tokensPerSecond"]} tokens/s)");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
