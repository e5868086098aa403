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
using Drydock.Provenance.Signing;

namespace Drydock.Cli.Commands;

/// <summary>
/// <c>drydock eval</c>: probe suites × attack strategies against an OpenAI-compatible endpoint, judged offline, and
/// <c>drydock gate</c>: the release decision from the evaluations recorded against a model version.
/// </summary>
internal static partial class EvalCommand
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
        var systemPrompt = new Option<string?>("--system-prompt") { Description = "A system prompt sent before every conversation (the extraction suite looks for it in answers); without it, a planted one with a secret marker." };
        var keyEnv = new Option<string>("--api-key-env") { Description = "The environment variable holding the endpoint's API key.", DefaultValueFactory = _ => "DRYDOCK_TARGET_API_KEY" };
        var results = new Option<string?>("--results") { Description = "Results so far (JSON lines, first line the run's fingerprint); a run of the same fingerprint continues where it stopped, any other starts fresh (default .drydock/eval/<model>-<fingerprint>.results.jsonl)." };
        var fresh = new Option<bool>("--fresh") { Description = "Start over: ignore earlier results." };
        var output = new Option<string?>("--output") { Description = "Write the report here (atomically) instead of stdout." };
        var record = new Option<string?>("--record") { Description = "Record the attack success rates against this model version (mv-…) for drydock gate." };
        var html = HtmlOption();
        var judgeTarget = new Option<string?>("--judge-target") { Description = "Optional judge model endpoint: asked whether an answer refuses when no refusal phrase was seen." };
        var judgeModel = new Option<string?>("--judge-model") { Description = "The judge model's name." };
        var format = CommandOptions.Format("table", "json");
        foreach (var option in new Option[] { target, model, suites, strategies, concurrency, budget, timeout, systemPrompt, keyEnv, results, fresh, output, record, html, judgeTarget, judgeModel, format }) command.Options.Add(option);
        ProjectContext.AddOptions(command);
        command.SetAction((parse, cancellationToken) => CommandErrors.Run("eval", stderr, async () =>
        {
            if (parse.GetValue(concurrency) is < 1 or > 1024) throw new ArgumentException("--concurrency must be between 1 and 1024");
            if (parse.GetValue(timeout) < 1) throw new ArgumentException("--timeout must be at least 1 second");
            var project = ProjectContext.Load(parse);
            var loaded = (parse.GetValue(suites) is { Length: > 0 } names ? names : [.. ProbeSuite.BuiltIn]).Select(ProbeSuite.Load).ToList();
            // Results and their rows are keyed by suite: two suites of one name in one run would pool their answers.
            if (loaded.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            {
                throw new ArgumentException($"--suite: {twice.Count()} suites are named '{twice.Key}' ({string.Join(", ", twice.Select(s => s.IsBuiltIn ? $"built-in {s.Name}@{s.Version}" : $"{s.Name}@{s.Version} sha256:{s.Sha256[..12]}"))}); one run holds one suite of each name (rename your suite's 'suite:')");
            }

            var chosen = parse.GetValue(strategies) == "all" ? AttackStrategy.All : parse.GetValue(strategies)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var s in chosen) if (!AttackStrategy.All.Contains(s)) throw new ArgumentException($"--strategies: unknown strategy '{s}' (use {string.Join(", ", AttackStrategy.All.ToArray())})");
            var modelName = ModelName(parse.GetValue(target)!, parse.GetValue(model));
            var endpoint = parse.GetValue(target)!;
            var detector = project.Rules().CreateDetector();
            // The extraction suite needs a system prompt to find: without one, a planted one with a marker.
            var givenPrompt = parse.GetValue(systemPrompt);
            if (givenPrompt is not null && string.IsNullOrWhiteSpace(givenPrompt)) throw new ArgumentException("--system-prompt is empty: give the production system prompt, or leave the option out for a planted one");
            var prompt = givenPrompt ?? PlantedSystemPrompt(endpoint, modelName);
            if (givenPrompt is null) await stderr.WriteLineAsync("drydock eval: no --system-prompt: every conversation opens with a planted system prompt holding a secret marker, which the system-prompt-extraction suite looks for").ConfigureAwait(false);

            var options = new TargetOptions
            {
                Endpoint = new Uri("http://localhost/v1"), Model = modelName, ApiKey = Environment.GetEnvironmentVariable(parse.GetValue(keyEnv)!),
                Concurrency = parse.GetValue(concurrency), Budget = parse.GetValue(budget), Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
            };
            using var chat = OpenTarget(endpoint, options);
            ModelTarget? judgeEndpoint = null;
            if (parse.GetValue(judgeTarget) is { } judgeUrl)
            {
                var judgeUri = EndpointUrl("--judge-target", judgeUrl);
                judgeEndpoint = new ModelTarget(options with { Endpoint = judgeUri, Model = parse.GetValue(judgeModel) ?? throw new ArgumentException("--judge-model is required with --judge-target"), Budget = 0 });
            }

            using var judgeDisposal = judgeEndpoint;
            var targetIdentity = await Bind(TargetIdentity.Of(endpoint, modelName), chat, cancellationToken).ConfigureAwait(false);
            var identity = new RunIdentity(targetIdentity.Kind, endpoint, targetIdentity.Digest, modelName, RunIdentity.Sha256(prompt), [.. loaded.Select(SuiteIdentity.Of)], [.. chosen],
                GatePolicy.JudgeName(judgeEndpoint is null ? null : parse.GetValue(judgeTarget), parse.GetValue(judgeModel), null), RunIdentity.RulesDigest(detector), ToolInfo.Version, parse.GetValue(record) ?? "none");
            var fingerprint = identity.Fingerprint;
            // In a project the results go under .drydock/eval; outside one, beside the command (no project is made implicitly).
            var resultsName = string.Concat(modelName.Select(c => char.IsLetterOrDigit(c) || c is '-' or '.' ? c : '_')) + "-" + fingerprint[..12] + ".results.jsonl";
            var resultsPath = parse.GetValue(results) ?? (project.Root is { } root ? Path.Combine(root, ProjectContext.StateFolderName, "eval", resultsName) : resultsName);
            // A device (/dev/zero), a FIFO or a folder is refused before anything is read or sent.
            Detection.Configuration.RegularFiles.Check(resultsPath);
            if (parse.GetValue(record) is { } recordId)
            {
                using var known = project.OpenRegistry();
                // An unknown model version, or an endpoint serving another model, fails before any probe is sent.
                CheckBinding(targetIdentity, known.GetModel(recordId), stderr, "drydock eval");
            }

            if (parse.GetValue(fresh) && File.Exists(resultsPath)) File.Delete(resultsPath);
            var runner = new EvaluationRunner(chat, new ProbeJudge(detector), prompt, judgeEndpoint is null ? null : new ModelJudge(judgeEndpoint));
            var run = await runner.RunAsync(loaded, [.. chosen], resultsPath, fingerprint, ResultsKeys.Load(project, resultsPath)!, null, line => stderr.WriteLine($"drydock eval: {line}"), cancellationToken).ConfigureAwait(false);
            var all = run.Results;
            if (run.Stopped is null && all.Count > 0 && all.All(r => r.Error is not null))
            {
                await stderr.WriteLineAsync($"drydock eval: every request failed ({all[0].Error}); is {endpoint} an OpenAI-compatible endpoint serving '{options.Model}'?").ConfigureAwait(false);
                return ExitCodes.UsageOrInput;
            }

            var promptNote = givenPrompt is null ? "planted (no --system-prompt; a marker the extraction suite looks for)" : "given (--system-prompt)";
            var text = parse.GetValue(format) == "json"
                ? SuccessRate.Report(ToolInfo.Version, endpoint, options.Model, [.. loaded.Select(s => $"{s.Name}@{s.Version}")], all, run, promptNote).ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n"
                : Table(all) + $"system prompt: {promptNote}\nrun {fingerprint[..12]}: {run.Planned} planned, {run.Answered} answered, {run.Errored} errored, {run.Skipped} skipped{(run.Complete ? "" : " (partial)")}\n";
            if (parse.GetValue(output) is { } path) AtomicFile.Write(path, Encoding.UTF8.GetBytes(text));
            else await stdout.WriteAsync(text).ConfigureAwait(false);
            WriteHtml(parse, html, () => Evaluation.Reports.HtmlReport.Probes($"Drydock evaluation of {options.Model}", all));
            if (parse.GetValue(record) is { } modelId)
            {
                if ((chat as ModelTarget)?.DigestChange is { } change) throw new ArgumentException($"not recorded against {modelId}: {change}");
                using var registry = project.OpenRegistry();
                var resultsSha = Dsse.Sha256Of(resultsPath);
                var evidence = EvidenceBuilder.Probes(identity, targetIdentity, run, loaded, [.. chosen], chat.Sent, resultsSha, givenPrompt is null ? "planted" : "given", Path.GetFullPath(resultsPath));
                var recorded = registry.RecordEvaluation(modelId, "probes", $"{endpoint} {options.Model}", ReleaseGate.ProbeMetrics(all), resultsSha, Provenance.Actor.Current, evidence);
                await stderr.WriteLineAsync($"drydock eval: recorded {recorded.Id} against {recorded.ModelId} ({evidence.Status}, fingerprint {fingerprint[..12]})").ConfigureAwait(false);
            }

            if (run.Stopped is not null)
            {
                await stderr.WriteLineAsync($"drydock eval: stopped: {run.Stopped}; the run is partial ({run.Skipped} of {run.Planned} probes have no result) and the gate does not count it; run again with a larger --budget to continue from {resultsPath}").ConfigureAwait(false);
                return ExitCodes.Findings;
            }

            await stderr.WriteLineAsync($"drydock eval: {all.Count} probes, {all.Count(r => r.Success)} successful attacks, {run.Errored} errors ({chat.Sent} requests, {run.Resumed} results resumed); results in {resultsPath}").ConfigureAwait(false);
            return ExitCodes.Ok;
        }));
        command.Subcommands.Add(Memorization(stdout, stderr));
        command.Subcommands.Add(Membership(stdout, stderr));
        command.Subcommands.Add(Extraction(stdout, stderr));
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
