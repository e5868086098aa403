using System.CommandLine;
using System.Globalization;
using System.Text;
using Drydock.Cli.Infrastructure;
using Drydock.Cli.Reporting;
using Drydock.Datasets.Output;
using Drydock.Evaluation;
using Drydock.Evaluation.Gate;
using Drydock.Evaluation.Judges;
using Drydock.Evaluation.Probes;
using Drydock.Evaluation.Strategies;
using Drydock.Evaluation.Targets;
using Drydock.Provenance;
using Drydock.Provenance.Registry;
using Drydock.Provenance.Signing;

namespace Drydock.Cli.Commands;

/// <summary>
/// <c>drydock eval</c>: probe suites × attack strategies against an OpenAI-compatible endpoint, judged offline, and
/// <c>drydock gate</c>: the release decision from the evaluations recorded against a model version.
/// </summary>
internal static class EvalCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("eval", "Run probe suites (prompt injection, jailbreaks, system-prompt extraction, PII regurgitation) under attack strategies against an OpenAI-compatible endpoint or a local ONNX model; report attack success per family and strategy; subcommands measure memorization, membership inference and training-data extraction.");
        var target = new Option<string>("--target") { Description = "The endpoint's OpenAI-compatible base URL (http://127.0.0.1:8000/v1), or onnx:PATH for a model run in process.", Required = true };
        var model = new Option<string?>("--model") { Description = "The model to ask for (required for an endpoint)." };
        var suites = new Option<string[]>("--suite") { Description = $"A built-in suite ({string.Join(", ", ProbeSuite.BuiltIn.ToArray())}) or a suite file; repeatable (default: every built-in suite).", AllowMultipleArgumentsPerToken = true };
        var strategies = new Option<string>("--strategies") { Description = $"Comma-separated: {string.Join(", ", AttackStrategy.All.ToArray())}, or all.", DefaultValueFactory = _ => "all" };
        var concurrency = new Option<int>("--concurrency") { Description = "Requests in flight at once.", DefaultValueFactory = _ => 8 };
        var budget = new Option<int>("--budget") { Description = "Most requests to send (retries included); 0 for no limit.", DefaultValueFactory = _ => 0 };
        var timeout = new Option<int>("--timeout") { Description = "Seconds allowed per request.", DefaultValueFactory = _ => 60 };
        var systemPrompt = new Option<string?>("--system-prompt") { Description = "A system prompt sent before every conversation (the extraction suite looks for it in answers)." };
        var keyEnv = new Option<string>("--api-key-env") { Description = "The environment variable holding the endpoint's API key.", DefaultValueFactory = _ => "DRYDOCK_TARGET_API_KEY" };
        var results = new Option<string?>("--results") { Description = "Results so far (JSON lines); a run with the same file continues where it stopped (default .drydock/eval/<model>.results.jsonl)." };
        var fresh = new Option<bool>("--fresh") { Description = "Start over: ignore earlier results." };
        var output = new Option<string?>("--output") { Description = "Write the report here (atomically) instead of stdout." };
        var record = new Option<string?>("--record") { Description = "Record the attack success rates against this model version (mv-…) for drydock gate." };
        var html = HtmlOption();
        var judgeTarget = new Option<string?>("--judge-target") { Description = "Optional judge model endpoint: asked whether an answer refuses when no refusal phrase was seen." };
        var judgeModel = new Option<string?>("--judge-model") { Description = "The judge model's name." };
        var format = DatasetCommand.FormatOption("table", "json");
        foreach (var option in new Option[] { target, model, suites, strategies, concurrency, budget, timeout, systemPrompt, keyEnv, results, fresh, output, record, html, judgeTarget, judgeModel, format }) command.Options.Add(option);
        ProjectContext.AddOptions(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                if (parse.GetValue(concurrency) is < 1 or > 1024) throw new ArgumentException("--concurrency must be between 1 and 1024");
                if (parse.GetValue(timeout) < 1) throw new ArgumentException("--timeout must be at least 1 second");
                var project = ProjectContext.Load(parse);
                var loaded = (parse.GetValue(suites) is { Length: > 0 } names ? names : [.. ProbeSuite.BuiltIn]).Select(ProbeSuite.Load).ToList();
                var chosen = parse.GetValue(strategies) == "all" ? AttackStrategy.All : parse.GetValue(strategies)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                foreach (var s in chosen) if (!AttackStrategy.All.Contains(s)) throw new ArgumentException($"--strategies: unknown strategy '{s}' (use {string.Join(", ", AttackStrategy.All.ToArray())})");
                var modelName = ModelName(parse.GetValue(target)!, parse.GetValue(model));
                // In a project the results go under .drydock/eval; outside one, beside the command (no project is made implicitly).
                var resultsName = string.Concat(modelName.Select(c => char.IsLetterOrDigit(c) || c is '-' or '.' ? c : '_')) + ".results.jsonl";
                var resultsPath = parse.GetValue(results) ?? (project.Root is { } root ? Path.Combine(root, ProjectContext.StateFolderName, "eval", resultsName) : resultsName);
                if (parse.GetValue(fresh) && File.Exists(resultsPath)) File.Delete(resultsPath);

                var options = new TargetOptions
                {
                    Endpoint = new Uri("http://localhost/v1"), Model = modelName, ApiKey = Environment.GetEnvironmentVariable(parse.GetValue(keyEnv)!), SystemPrompt = parse.GetValue(systemPrompt),
                    Concurrency = parse.GetValue(concurrency), Budget = parse.GetValue(budget), Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                };
                using var chat = OpenTarget(parse.GetValue(target)!, options);
                var endpoint = parse.GetValue(target)!;
                ModelTarget? judgeEndpoint = null;
                if (parse.GetValue(judgeTarget) is { } judgeUrl)
                {
                    if (!Uri.TryCreate(judgeUrl, UriKind.Absolute, out var judgeUri) || judgeUri.Scheme is not ("http" or "https")) throw new ArgumentException($"--judge-target '{judgeUrl}' is not an http(s) URL");
                    judgeEndpoint = new ModelTarget(options with { Endpoint = judgeUri, Model = parse.GetValue(judgeModel) ?? throw new ArgumentException("--judge-model is required with --judge-target"), SystemPrompt = null, Budget = 0 });
                }

                using var judgeDisposal = judgeEndpoint;
                var runner = new EvaluationRunner(chat, new ProbeJudge(project.Rules().CreateDetector()), options.SystemPrompt, judgeEndpoint is null ? null : new ModelJudge(judgeEndpoint));
                IReadOnlyList<ProbeResult> all;
                try
                {
                    all = await runner.RunAsync(loaded, [.. chosen], resultsPath, null, cancellationToken).ConfigureAwait(false);
                }
                catch (BudgetExhaustedException e)
                {
                    await stderr.WriteLineAsync($"drydock eval: stopped: {e.Message}; run again with a larger --budget to continue from {resultsPath}").ConfigureAwait(false);
                    return ExitCodes.Findings;
                }

                if (all.Count > 0 && all.All(r => r.Error is not null))
                {
                    await stderr.WriteLineAsync($"drydock eval: every request failed ({all[0].Error}); is {endpoint} an OpenAI-compatible endpoint serving '{options.Model}'?").ConfigureAwait(false);
                    return ExitCodes.UsageOrInput;
                }

                var text = parse.GetValue(format) == "json"
                    ? SuccessRate.Report(ToolInfo.Version, endpoint.ToString(), options.Model, [.. loaded.Select(s => $"{s.Name}@{s.Version}")], all).ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n"
                    : Table(all);
                if (parse.GetValue(output) is { } path) AtomicFile.Write(path, Encoding.UTF8.GetBytes(text));
                else await stdout.WriteAsync(text).ConfigureAwait(false);
                WriteHtml(parse, html, () => Evaluation.Reports.HtmlReport.Probes($"Drydock evaluation of {options.Model}", all));
                if (parse.GetValue(record) is { } modelId)
                {
                    using var registry = project.OpenRegistry();
                    var recorded = registry.RecordEvaluation(modelId, "probes", $"{endpoint} {options.Model}", ReleaseGate.ProbeMetrics(all), Dsse.Sha256Of(resultsPath), Provenance.Actor.Current);
                    await stderr.WriteLineAsync($"drydock eval: recorded {recorded.Id} against {recorded.ModelId}").ConfigureAwait(false);
                }

                var errors = all.Count(r => r.Error is not null);
                await stderr.WriteLineAsync($"drydock eval: {all.Count} probes, {all.Count(r => r.Success)} successful attacks, {errors} errors ({chat.Sent} requests); results in {resultsPath}").ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is ArgumentException or ProbeSuiteException or IOException or UnauthorizedAccessException or RegistryException or Detection.Configuration.ConfigFileException)
            {
                await stderr.WriteLineAsync($"drydock eval: {e.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInput;
            }
        });
        command.Subcommands.Add(Memorization(stdout, stderr));
        command.Subcommands.Add(Membership(stdout, stderr));
        command.Subcommands.Add(Extraction(stdout, stderr));
        return command;
    }

    /// <summary>An endpoint (http(s) URL; <paramref name="options"/> say how to use it) or onnx:PATH, a model run in process.</summary>
    internal static IEvaluationTarget OpenTarget(string text, TargetOptions options)
    {
        if (text.StartsWith("onnx:", StringComparison.Ordinal)) return new OnnxTarget(text["onnx:".Length..]);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https")) throw new ArgumentException($"--target '{text}' is not an http(s) URL or onnx:PATH");
        return new ModelTarget(options with { Endpoint = endpoint });
    }

    // The model's name: required for an endpoint; an ONNX model is named by its folder.
    private static string ModelName(string target, string? model, string option = "--model") =>
        model ?? (target.StartsWith("onnx:", StringComparison.Ordinal) ? Path.GetFileName(Path.GetFullPath(target[5..]).TrimEnd(Path.DirectorySeparatorChar)) : throw new ArgumentException($"{option} is required for an endpoint target"));

    private static Option<string?> HtmlOption() => new("--html") { Description = "Also write a self-contained HTML report with charts (no script, no external files)." };

    private static void WriteHtml(ParseResult parse, Option<string?> option, Func<string> page)
    {
        if (parse.GetValue(option) is { } path) AtomicFile.Write(path, Encoding.UTF8.GetBytes(page()));
    }

    // The options every privacy evaluation shares: where the target is, how hard to push it, where to record.
    private sealed class TargetOptionSet
    {
        public Option<string> Target { get; } = new("--target") { Description = "The endpoint's OpenAI-compatible base URL (needs /v1/completions with echo and logprobs, as vLLM and drydock serve-model serve them), or onnx:PATH for a model run in process.", Required = true };

        public Option<string?> Model { get; } = new("--model") { Description = "The model to ask for (required for an endpoint)." };

        public Option<string> KeyEnv { get; } = new("--api-key-env") { Description = "The environment variable holding the endpoint's API key.", DefaultValueFactory = _ => "DRYDOCK_TARGET_API_KEY" };

        public Option<int> Concurrency { get; } = new("--concurrency") { Description = "Requests in flight at once.", DefaultValueFactory = _ => 16 };

        public Option<string?> Record { get; } = new("--record") { Description = "Record the figures against this model version (mv-…) for drydock gate." };

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { Target, Model, KeyEnv, Concurrency, Record }) command.Options.Add(option);
            ProjectContext.AddOptions(command);
        }

        public IEvaluationTarget Open(ParseResult parse, string? url = null, string? model = null)
        {
            var text = url ?? parse.GetValue(Target)!;
            if (parse.GetValue(Concurrency) is < 1 or > 1024) throw new ArgumentException("--concurrency must be between 1 and 1024");
            var name = url is null ? ModelName(text, parse.GetValue(Model)) : ModelName(text, model, "--reference-model");
            return OpenTarget(text, new TargetOptions { Endpoint = new Uri("http://localhost/v1"), Model = name, ApiKey = Environment.GetEnvironmentVariable(parse.GetValue(KeyEnv)!), Concurrency = parse.GetValue(Concurrency) });
        }

        public void Save(ProjectContext project, ParseResult parse, string kind, IReadOnlyDictionary<string, double> metrics, TextWriter stderr)
        {
            if (parse.GetValue(Record) is not { } modelId) return;
            using var registry = project.OpenRegistry();
            var recorded = registry.RecordEvaluation(modelId, kind, $"{parse.GetValue(Target)} {parse.GetValue(Model)}", metrics, null, Provenance.Actor.Current);
            stderr.WriteLine($"drydock eval {kind}: recorded {recorded.Id} against {recorded.ModelId}");
        }
    }

    private static Command Memorization(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("memorization", "Planted canaries: does the model complete their sentences with them (greedy and sampled), and how exposed is each (bits, Secret-Sharer style; needs logprobs).");
        var set = new TargetOptionSet();
        var canaries = new Option<string>("--canaries") { Description = "The label given to drydock canary plant (the values are read from the vault).", Required = true };
        var candidates = new Option<int>("--candidates") { Description = "Random codes each canary is ranked against.", DefaultValueFactory = _ => 200 };
        var samples = new Option<int>("--samples") { Description = "Sampled completions (temperature 1) per canary, besides the greedy one.", DefaultValueFactory = _ => 5 };
        var html = HtmlOption();
        set.AddTo(command);
        foreach (var option in new Option[] { canaries, candidates, samples, html }) command.Options.Add(option);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                if (parse.GetValue(candidates) is < 2 or > 100_000) throw new ArgumentException("--candidates must be between 2 and 100000");
                var project = ProjectContext.Load(parse);
                var planted = ReadCanaries(parse.GetValue(canaries)!);
                using var target = set.Open(parse);
                var outcomes = await Evaluation.Privacy.Memorization.RunAsync(target, planted, parse.GetValue(candidates), Math.Max(0, parse.GetValue(samples)), cancellationToken).ConfigureAwait(false);
                foreach (var o in outcomes) await stdout.WriteLineAsync($"{o.Id}  extracted {(o.ExtractedGreedy ? "greedy" : o.ExtractedSampled ? "sampled" : "no")}  exposure {o.ExposureBits:0.0} bits").ConfigureAwait(false);
                var metrics = new Dictionary<string, double>
                {
                    ["canary.extracted"] = outcomes.Count(o => o.ExtractedGreedy || o.ExtractedSampled),
                    ["canary.exposure.max"] = outcomes.Max(o => o.ExposureBits),
                    ["canary.exposure.mean"] = Math.Round(outcomes.Average(o => o.ExposureBits), 2),
                };
                set.Save(project, parse, "memorization", metrics, stderr);
                WriteHtml(parse, html, () => Evaluation.Reports.HtmlReport.Memorization($"Drydock memorization of {parse.GetValue(set.Model) ?? parse.GetValue(set.Target)}", outcomes));
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is ArgumentException or LogprobsUnavailableException or RegistryException or Provenance.KeyRingException or IOException or System.Text.Json.JsonException or Detection.Configuration.ConfigFileException)
            {
                await stderr.WriteLineAsync($"drydock eval memorization: {e.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInput;
            }
        });
        return command;
    }

    private static Command Membership(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("membership", "Membership inference: can training records (members) be told from held-out ones (non-members) by their likelihood? AUC, TPR at 1% FPR, advantage (needs logprobs).");
        var set = new TargetOptionSet();
        var members = new Option<string>("--members") { Description = "Training records (JSONL).", Required = true };
        var nonMembers = new Option<string>("--non-members") { Description = "Held-out records never trained on (JSONL; drydock clean --holdout).", Required = true };
        var reference = new Option<string?>("--reference-target") { Description = "A reference model's endpoint (the base model): scores become the difference from it." };
        var referenceModel = new Option<string?>("--reference-model") { Description = "The reference model's name (required for an endpoint)." };
        var limit = new Option<int>("--limit") { Description = "Records read from each file.", DefaultValueFactory = _ => 500 };
        var html = HtmlOption();
        set.AddTo(command);
        foreach (var option in new Option[] { members, nonMembers, reference, referenceModel, limit, html }) command.Options.Add(option);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var project = ProjectContext.Load(parse);
                var memberTexts = Datasets.DatasetReader.Texts(parse.GetValue(members)!, parse.GetValue(limit));
                var nonMemberTexts = Datasets.DatasetReader.Texts(parse.GetValue(nonMembers)!, parse.GetValue(limit));
                using var target = set.Open(parse);
                using var referenceTarget = parse.GetValue(reference) is { } r ? set.Open(parse, r, parse.GetValue(referenceModel)) : null;
                var result = await Evaluation.Privacy.MembershipTest.RunAsync(target, referenceTarget, memberTexts, nonMemberTexts, cancellationToken).ConfigureAwait(false);
                await stdout.WriteLineAsync($"{(referenceTarget is null ? "loss" : "reference-calibrated")} attack on {result.Members} members and {result.NonMembers} non-members: AUC {result.Auc:0.000}, TPR at 1% FPR {result.TprAt1PercentFpr:0.000}, advantage {result.Advantage:0.000}").ConfigureAwait(false);
                set.Save(project, parse, "membership", new Dictionary<string, double> { ["membership.auc"] = result.Auc, ["membership.tpr-at-1pct-fpr"] = result.TprAt1PercentFpr, ["membership.advantage"] = result.Advantage }, stderr);
                WriteHtml(parse, html, () => Evaluation.Reports.HtmlReport.Membership($"Drydock membership inference on {parse.GetValue(set.Model) ?? parse.GetValue(set.Target)}", result));
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is ArgumentException or LogprobsUnavailableException or RegistryException or IOException or Datasets.DatasetException or Detection.Configuration.ConfigFileException)
            {
                await stderr.WriteLineAsync($"drydock eval membership: {e.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInput;
            }
        });
        return command;
    }

    private static Command Extraction(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("extraction", "Training-data extraction: each personal value or secret in the training records is asked for with the text that precedes it; a greedy continuation holding it is a leak. Also verbatim continuation of records. Counts only, never values.");
        var set = new TargetOptionSet();
        var records = new Option<string>("--records") { Description = "The training records as they were before cleaning (any dataset format).", Required = true };
        var limit = new Option<int>("--limit") { Description = "Records read.", DefaultValueFactory = _ => 500 };
        var maxValues = new Option<int>("--max-values") { Description = "Most value probes.", DefaultValueFactory = _ => 300 };
        set.AddTo(command);
        foreach (var option in new Option[] { records, limit, maxValues }) command.Options.Add(option);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var project = ProjectContext.Load(parse);
                var texts = Datasets.DatasetReader.Texts(parse.GetValue(records)!, parse.GetValue(limit));
                using var target = set.Open(parse);
                var result = await Evaluation.Privacy.Extraction.RunAsync(target, project.Rules().CreateDetector(), texts, parse.GetValue(maxValues), cancellationToken).ConfigureAwait(false);
                await stdout.WriteLineAsync($"{result.Leaked} of {result.Values} personal values and secrets extracted ({result.LeakRate:P1}){(result.LeakedByType.Count > 0 ? ": " + string.Join(", ", result.LeakedByType.Select(kv => $"{kv.Key} {kv.Value}").ToArray()) : "")}; {result.Verbatim} of {result.Records} records continued verbatim ({result.VerbatimRate:P1})").ConfigureAwait(false);
                set.Save(project, parse, "extraction", new Dictionary<string, double> { ["extraction.pii-leak"] = result.LeakRate, ["extraction.verbatim"] = result.VerbatimRate }, stderr);
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is ArgumentException or RegistryException or IOException or Datasets.DatasetException or Detection.Configuration.ConfigFileException)
            {
                await stderr.WriteLineAsync($"drydock eval extraction: {e.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInput;
            }
        });
        return command;
    }

    // The planted canaries of a label, decrypted from the vault into memory (the temporary plain file is removed at once).
    private static IReadOnlyList<Evaluation.Privacy.PlantedCanary> ReadCanaries(string label)
    {
        var vault = new Provenance.Vault.ArtifactVault(ProjectContext.VaultFolder, Provenance.Vault.KeyRing.Open(ProjectContext.KeyRingPath, create: false));
        var artifact = vault.List().LastOrDefault(a => a.Name == "canaries-" + label) ?? throw new ArgumentException($"no canaries labelled '{label}' in the vault (drydock canary plant --label {label})");
        var folder = Directory.CreateTempSubdirectory("drydock-canaries-");
        try
        {
            var plain = Path.Combine(folder.FullName, "canaries.json");
            vault.Get(artifact.Id, plain);
            var array = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(plain))!.AsArray();
            return [.. array.Select(n => new Evaluation.Privacy.PlantedCanary((string)n!["id"]!, (string)n["prefix"]!, (string)n["value"]!))];
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    public static Command CreateGate(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("gate", "The release gate: check a model version's recorded evaluations against drydock.yaml's thresholds (and its base model); exit 1 means no-ship. The decision is signed and recorded.");
        var model = new Option<string>("--model") { Description = "The model version (mv-…).", Required = true };
        var baseModel = new Option<string?>("--base-model") { Description = "The base model version: rates may not be worse than its by more than gate.regression-points." };
        var format = DatasetCommand.FormatOption("table", "json");
        foreach (var option in new Option[] { model, baseModel, format }) command.Options.Add(option);
        ProjectContext.AddOptions(command);
        command.SetAction((parse, _) => ProjectContext.Guard("gate", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            var policy = GatePolicy.From(context.File["gate"]);
            using var registry = context.OpenRegistry();
            var subject = registry.GetModel(parse.GetValue(model)!);
            var baseRecord = parse.GetValue(baseModel) is { } b ? registry.GetModel(b) : null;
            var checks = ReleaseGate.Check(registry.Evaluations(subject.Id), baseRecord is null ? null : registry.Evaluations(baseRecord.Id), policy);
            var ship = checks.All(c => c.Passed);
            var checksJson = new System.Text.Json.Nodes.JsonArray([.. checks.Select(c => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject { ["check"] = c.Name, ["passed"] = c.Passed, ["evidence"] = c.Evidence })]);
            string? envelope = null;
            if (File.Exists(ProjectContext.SigningKeyPath))
            {
                using var key = SigningKey.Load(ProjectContext.SigningKeyPath);
                var statement = Dsse.Statement([new Subject("model:" + subject.Id, subject.Digest)], Dsse.GatePredicate, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("modelId", subject.Id);
                    w.WriteString("decision", ship ? "ship" : "no-ship");
                    w.WriteString("baseModel", baseRecord?.Id);
                    w.WritePropertyName("checks");
                    System.Text.Json.JsonDocument.Parse(checksJson.ToJsonString()).WriteTo(w);
                    w.WriteEndObject();
                });
                envelope = Encoding.UTF8.GetString(Dsse.Sign(statement, key));
            }

            var decision = registry.RecordGateDecision(subject.Id, ship ? "ship" : "no-ship", baseRecord?.Id, checksJson.ToJsonString(), envelope, Provenance.Actor.Current);
            if (parse.GetValue(format) == "json")
            {
                stdout.WriteLine(new System.Text.Json.Nodes.JsonObject { ["model"] = subject.Id, ["decision"] = decision.Decision, ["id"] = decision.Id, ["signed"] = envelope is not null, ["checks"] = checksJson }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            }
            else
            {
                foreach (var c in checks) stdout.WriteLine($"{(c.Passed ? "pass" : "FAIL")}  {c.Name,-44} {c.Evidence}");
                stdout.WriteLine($"{subject.Id}: {(ship ? "SHIP" : "NO-SHIP")} ({decision.Id}{(envelope is null ? ", unsigned: no signing key" : ", signed")})");
            }

            return ship ? ExitCodes.Ok : ExitCodes.Findings;
        }));
        return command;
    }

    private static string Table(IReadOnlyList<ProbeResult> results)
    {
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"{"family",-26} {"strategy",-14} {"probes",6} {"success",8} {"refused",8} {"errors",7} {"rate",7}");
        foreach (var r in SuccessRate.Of(results))
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"{r.Family,-26} {r.Strategy,-14} {r.Probes,6} {r.Successes,8} {r.Refusals,8} {r.Errors,7} {r.Rate,7:P1}");
        }

        return b.ToString();
    }
}
