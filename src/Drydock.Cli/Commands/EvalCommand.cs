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
        var command = new Command("eval", "Run probe suites (prompt injection, jailbreaks, system-prompt extraction, PII regurgitation) under attack strategies against an OpenAI-compatible endpoint; report attack success per family and strategy.");
        var target = new Option<string>("--target") { Description = "The endpoint's OpenAI-compatible base URL (http://127.0.0.1:8000/v1).", Required = true };
        var model = new Option<string>("--model") { Description = "The model to ask for.", Required = true };
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
        var format = DatasetCommand.FormatOption("table", "json");
        foreach (var option in new Option[] { target, model, suites, strategies, concurrency, budget, timeout, systemPrompt, keyEnv, results, fresh, output, record, format }) command.Options.Add(option);
        ProjectContext.AddOptions(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                if (!Uri.TryCreate(parse.GetValue(target), UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https")) throw new ArgumentException($"--target '{parse.GetValue(target)}' is not an http(s) URL");
                if (parse.GetValue(concurrency) is < 1 or > 1024) throw new ArgumentException("--concurrency must be between 1 and 1024");
                if (parse.GetValue(timeout) < 1) throw new ArgumentException("--timeout must be at least 1 second");
                var loaded = (parse.GetValue(suites) is { Length: > 0 } names ? names : [.. ProbeSuite.BuiltIn]).Select(ProbeSuite.Load).ToList();
                var chosen = parse.GetValue(strategies) == "all" ? AttackStrategy.All : parse.GetValue(strategies)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                foreach (var s in chosen) if (!AttackStrategy.All.Contains(s)) throw new ArgumentException($"--strategies: unknown strategy '{s}' (use {string.Join(", ", AttackStrategy.All.ToArray())})");
                var resultsPath = parse.GetValue(results) ?? Path.Combine(ProjectContext.StateFolder, "eval", string.Concat(parse.GetValue(model)!.Select(c => char.IsLetterOrDigit(c) || c is '-' or '.' ? c : '_')) + ".results.jsonl");
                if (parse.GetValue(fresh) && File.Exists(resultsPath)) File.Delete(resultsPath);

                var options = new TargetOptions
                {
                    Endpoint = endpoint, Model = parse.GetValue(model)!, ApiKey = Environment.GetEnvironmentVariable(parse.GetValue(keyEnv)!), SystemPrompt = parse.GetValue(systemPrompt),
                    Concurrency = parse.GetValue(concurrency), Budget = parse.GetValue(budget), Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                };
                using var chat = new ModelTarget(options);
                var runner = new EvaluationRunner(chat, new ProbeJudge(RuleSet.Load(null, []).CreateDetector()), options.SystemPrompt);
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
                if (parse.GetValue(record) is { } modelId)
                {
                    using var registry = ProjectContext.Load(parse).OpenRegistry();
                    var recorded = registry.RecordEvaluation(modelId, "probes", $"{endpoint} {options.Model}", ReleaseGate.ProbeMetrics(all), Dsse.Sha256Of(resultsPath), Provenance.Actor.Current);
                    await stderr.WriteLineAsync($"drydock eval: recorded {recorded.Id} against {recorded.ModelId}").ConfigureAwait(false);
                }

                var errors = all.Count(r => r.Error is not null);
                await stderr.WriteLineAsync($"drydock eval: {all.Count} probes, {all.Count(r => r.Success)} successful attacks, {errors} errors ({chat.Sent} requests); results in {resultsPath}").ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is ArgumentException or ProbeSuiteException or IOException or UnauthorizedAccessException or RegistryException or Detection.Rules.RuleFileException)
            {
                await stderr.WriteLineAsync($"drydock eval: {e.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInput;
            }
        });
        return command;
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
            var policyPath = parse.GetValue(ProjectContext.PolicyOption) ?? (File.Exists(RuleSet.DefaultConfig) ? RuleSet.DefaultConfig : null);
            var policy = GatePolicy.FromFile(policyPath);
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
