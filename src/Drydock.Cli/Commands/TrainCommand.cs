using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Cli.Infrastructure;
using Drydock.Datasets.Output;
using Drydock.Provenance;
using Drydock.Provenance.Registry;
using Drydock.Provenance.Signing;
using Drydock.Provenance.Vault;
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

        var dataset = registry.GetDataset(trainingPlan.Dataset);
        var json = trainingPlan.ToJson();
        json["dataset"] = dataset.Id;
        if (trainingPlan.Privacy is { } privacy)
        {
            // The trainer reads σ, q and C from here; the checks above already refused a budget the accountant cannot give.
            var budget = PrivacyBudget.Plan(privacy, dataset.Records, trainingPlan.BatchSize, trainingPlan.Epochs).ToJson();
            budget["targetEpsilon"] = privacy.Epsilon;
            json["privacy"] = budget;
        }

        var planText = json.ToJsonString();
        var planSha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(planText)));
        using var key = SigningKey.Load(ProjectContext.SigningKeyPath);
        var statement = Dsse.Statement([new Subject("training-plan", planSha), new Subject("base-model", trainingPlan.BaseModelSha256)], Dsse.TrainingPlanPredicate, w => System.Text.Json.JsonDocument.Parse(planText).WriteTo(w));
        var envelope = Encoding.UTF8.GetString(Dsse.Sign(statement, key));
        var (record, created) = registry.RecordTrainingPlan(dataset.Id, trainingPlan.BaseModelSha256, trainingPlan.Method, planText, planSha, envelope, Actor.Current);
        stdout.WriteLine(created ? $"{record.Id} recorded: {record.Method} on {record.DatasetId}, base sha256:{record.BaseSha256[..16]}…, signed by {key.KeyId}" : $"{record.Id} already recorded ({record.At})");
        return (trainingPlan, record);
    }

    private static string PlanPath(ProjectContext context) =>
        context.PolicyPath ?? throw new ArgumentException($"{ProjectContext.ProjectFileName}: no such file in the project (drydock init writes one; add a training: section)");

    // The options a trainer run takes, shared by run and base.
    private sealed class RunOptions
    {
        public Option<string> Trainer { get; } = new("--trainer") { Description = "reference (Drydock's byte-level GPT trainer, Python with PyTorch) or command (any trainer's command line).", DefaultValueFactory = _ => "reference" };

        public Option<string?> CommandLine { get; } = new("--command") { Description = "With --trainer command: the trainer's command line; {plan} {train} {held_out} {output} {base} become paths in the private run folder." };

        public Option<string?> Python { get; } = new("--python") { Description = "The Python that runs the reference trainer (default: $DRYDOCK_PYTHON, else /usr/bin/python3 with Debian's python3-torch)." };

        public Option<int> Timeout { get; } = new("--timeout") { Description = "Minutes before the trainer is killed.", DefaultValueFactory = _ => 60 };

        public Option<int> Memory { get; } = new("--memory") { Description = "Address-space limit of the trainer in GiB (0 for none).", DefaultValueFactory = _ => 16 };

        public Option<string[]> AllowEnv { get; } = new("--allow-env") { Description = "An environment variable the trainer may see (repeatable; only PATH, LANG and LC_ALL otherwise).", AllowMultipleArgumentsPerToken = true };

        public Option<bool> AllowNetwork { get; } = new("--allow-network") { Description = "Run the trainer with the network (by default it runs in a new network namespace, and is refused when that is unavailable)." };

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { Trainer, CommandLine, Python, Timeout, Memory, AllowEnv, AllowNetwork }) command.Options.Add(option);
        }

        public TrainerSpec Spec(ParseResult parse)
        {
            var kind = parse.GetValue(Trainer);
            if (kind == "reference") return TrainerSpec.Reference(parse.GetValue(Python));
            if (kind != "command") throw new ArgumentException($"--trainer '{kind}' is not reference or command");
            var line = parse.GetValue(CommandLine) ?? throw new ArgumentException("--command is required with --trainer command");
            return new TrainerSpec("command", SplitCommand(line), "");
        }

        public IsolationOptions Isolation(ParseResult parse)
        {
            if (parse.GetValue(Timeout) < 1) throw new ArgumentException("--timeout must be at least 1 minute");
            if (parse.GetValue(Memory) < 0) throw new ArgumentException("--memory must be at least 0");
            return new IsolationOptions
            {
                AllowedEnvironment = [.. new IsolationOptions().AllowedEnvironment, .. parse.GetValue(AllowEnv) ?? []],
                RequireNoNetwork = !parse.GetValue(AllowNetwork),
                Timeout = TimeSpan.FromMinutes(parse.GetValue(Timeout)),
                MemoryBytes = (long)parse.GetValue(Memory) << 30,
            };
        }
    }

    private static Command Run(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("run", "Check the plan (as train plan), then train: the dataset version (its file checked against the registered SHA-256) and held-out set copied into a private folder, the trainer run without network, with only allow-listed environment variables and time and memory limits; the output and the log (secrets masked) encrypted into the vault, the model written to --output and registered as a model version with the run's record, signed.");
        var options = new RunOptions();
        var data = new Option<string?>("--data") { Description = "The dataset version's file (default: the output named in its manifest); refused unless it hashes to the registered version." };
        var output = new Option<string?>("--output") { Description = "Where the trained model goes (default: models/<name>)." };
        var name = new Option<string?>("--name") { Description = "The model's name (default: <dataset>-<method>)." };
        options.AddTo(command);
        foreach (var option in new Option[] { data, output, name }) command.Options.Add(option);
        ProjectContext.AddOptions(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
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
                var result = await Execute(trainer, new TrainingInputs(record.Plan, trainPath, Path.GetFullPath(plan.HeldOut, baseDirectory), Directory.Exists(basePath) ? basePath : null), isolation, target, modelName, context.Rules().CreateDetector(), cancellationToken).ConfigureAwait(false);
                if (result.Outcome.ExitCode != 0)
                {
                    stderr.WriteLine($"drydock train run: the trainer failed (exit {result.Outcome.ExitCode}{(result.Outcome.TimedOut ? ", time limit" : "")}); its log is in the vault as {result.LogArtifact}:");
                    foreach (var line in result.MaskedLog.Split('\n').TakeLast(15)) stderr.WriteLine("  " + line);
                    return ExitCodes.Findings;
                }

                var spent = TrainerPrivacy.Spent(record.Plan, result.Metrics);
                if (spent is not null) stdout.WriteLine($"  differential privacy: {spent}");
                using var registry = context.OpenRegistry();
                var (model, created, envelopePath, keyId) = ModelCommand.Register(registry, target, modelName, $"sha256:{plan.BaseModelSha256}", [dataset.Id], w =>
                {
                    w.WritePropertyName("run");
                    result.Record(record.Id).WriteTo(w);
                    if (spent is null) return;
                    w.WritePropertyName("privacy");
                    System.Text.Json.JsonDocument.Parse(spent.ToJson().ToJsonString()).WriteTo(w);
                });
                stdout.WriteLine(created
                    ? $"{model.Id} registered: {modelName} from {record.Id} in {result.Outcome.Elapsed.TotalSeconds:0.0} s; held-out loss {result.Metrics?["heldOutLoss"]?.ToString() ?? "n/a"}; model in {target}, signed by {keyId} ({envelopePath})"
                    : $"{model.Id} already registered ({model.Name}): this run produced the same files; model in {target}");
                stdout.WriteLine($"  vault: log {result.LogArtifact}, outputs {string.Join(", ", result.Artifacts.ToArray())}{(result.SecretsInLog > 0 ? $"; {result.SecretsInLog} secret(s) masked in the log" : "")}");
                return ExitCodes.Ok;
            }
            catch (IsolationUnavailableException e)
            {
                await stderr.WriteLineAsync($"drydock train run: refused: {e.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInput;
            }
            catch (Exception e) when (e is ArgumentException or TrainingPlanException or PrivacyAccountingException or RegistryException or KeyRingException or IOException or UnauthorizedAccessException or Datasets.DatasetException or Detection.Configuration.ConfigFileException)
            {
                await stderr.WriteLineAsync($"drydock train run: {e.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInput;
            }
        });
        return command;
    }

    private static Command Base(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("base", "Pre-train the reference trainer's small byte-level base model from a text corpus (any dataset format), isolated like train run; prints the SHA-256 to pin in training.base-model.");
        var options = new RunOptions();
        var corpus = new Option<string>("--corpus") { Description = "The pre-training corpus.", Required = true };
        var heldOut = new Option<string>("--held-out") { Description = "Held-out text to measure loss on.", Required = true };
        var output = new Option<string>("--output") { Description = "The base model's folder.", DefaultValueFactory = _ => Path.Combine("models", "base") };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the corpus.", DefaultValueFactory = _ => 2 };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 42 };
        options.AddTo(command);
        foreach (var option in new Option[] { corpus, heldOut, output, epochs, seed }) command.Options.Add(option);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
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
                var result = await Execute(trainer, new TrainingInputs(plan.ToJsonString(), parse.GetValue(corpus)!, parse.GetValue(heldOut)!, null), options.Isolation(parse), target, "base", ProjectContext.Load(parse).Rules().CreateDetector(), cancellationToken).ConfigureAwait(false);
                if (result.Outcome.ExitCode != 0)
                {
                    foreach (var line in result.MaskedLog.Split('\n').TakeLast(15)) stderr.WriteLine("  " + line);
                    stderr.WriteLine($"drydock train base: the trainer failed (exit {result.Outcome.ExitCode})");
                    return ExitCodes.Findings;
                }

                stdout.WriteLine($"{target}: sha256 {ModelDigest.Of(target).Digest} (held-out loss {result.Metrics?["heldOutLoss"]}, {result.Metrics?["tokensPerSecond"]} tokens/s)");
                return ExitCodes.Ok;
            }
            catch (IsolationUnavailableException e)
            {
                await stderr.WriteLineAsync($"drydock train base: refused: {e.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInput;
            }
            catch (Exception e) when (e is ArgumentException or KeyRingException or IOException or UnauthorizedAccessException or Datasets.DatasetException or Detection.Configuration.ConfigFileException)
            {
                await stderr.WriteLineAsync($"drydock train base: {e.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInput;
            }
        });
        return command;
    }

    // What one run left: the process outcome, the log with secrets masked, the vault artifacts and the trainer's metrics.
    private sealed record RunResult(ProcessOutcome Outcome, string MaskedLog, int SecretsInLog, string LogArtifact, IReadOnlyList<string> Artifacts, JsonObject? Metrics)
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
    private static async Task<RunResult> Execute(TrainerSpec trainer, TrainingInputs inputs, IsolationOptions isolation, string target, string name, Detection.Engine.Detector detector, CancellationToken cancellationToken)
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

    // Splits a command line on spaces, keeping "double" or 'single' quoted parts together.
    internal static List<string> SplitCommand(string line)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        var any = false;
        char quote = '\0';
        foreach (var c in line)
        {
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else current.Append(c);
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                any = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (any || current.Length > 0) parts.Add(current.ToString());
                current.Clear();
                any = false;
            }
            else
            {
                current.Append(c);
            }
        }

        if (quote != '\0') throw new ArgumentException($"--command: unclosed {quote} quote");
        if (any || current.Length > 0) parts.Add(current.ToString());
        return parts.Count > 0 ? parts : throw new ArgumentException("--command is empty");
    }
}
