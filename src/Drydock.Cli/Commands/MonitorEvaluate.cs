using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Cli.Infrastructure;
using Drydock.Cli.Reporting;
using Drydock.Evaluation;
using Drydock.Evaluation.Gate;
using Drydock.Evaluation.Judges;
using Drydock.Evaluation.Probes;
using Drydock.Evaluation.Targets;
using Drydock.Gateway.Monitoring;
using Drydock.Gateway.Operations;
using Drydock.Provenance.Registry;
using Drydock.Provenance.Signing;

namespace Drydock.Cli.Commands;

/// <summary>
/// <c>drydock monitor evaluate</c>: the periodic audit. Runs the probe suites and strategies the release gate counted for
/// the model version an alias serves, against that alias <em>through the gateway</em> (its guards are part of what is
/// tested: a request or answer the gateway blocks is a defended probe), records the figures against the model version
/// (kind <c>monitor-probes</c>, which the gate does not read), and compares each attack success rate with the gate's
/// evidence. A rise above <c>monitor.evaluate-regression</c> is a regression: an incident (<c>regression</c>) is
/// opened and, with <c>monitor.contain</c>, the alias is disabled or reverted. Exit 1 on a regression, 2 when the run
/// cannot be compared (no gate decision, a suite changed, too many errors).
/// </summary>
internal static class MonitorEvaluate
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("evaluate", "Re-run the evaluation suites the release gate counted for the deployed model version against the deployed alias through the gateway; record the figures, compare them with the gate's, and on a regression open an incident (and contain the alias if monitor.contain says so).");
        var alias = new Option<string>("--model") { Description = "The deployed alias (drydock deploy).", Required = true };
        var gateway = new Option<string>("--gateway") { Description = "The gateway's OpenAI-compatible base URL (http://127.0.0.1:8080/v1).", Required = true };
        var keyEnv = new Option<string>("--api-key-env") { Description = "The environment variable holding the gateway API key the probes are sent with.", DefaultValueFactory = _ => "DRYDOCK_MONITOR_API_KEY" };
        var concurrency = new Option<int>("--concurrency") { Description = "Requests in flight at once.", DefaultValueFactory = _ => 4 };
        var timeout = new Option<int>("--timeout") { Description = "Seconds allowed per request.", DefaultValueFactory = _ => 60 };
        var watch = new Option<bool>("--watch") { Description = "Run again every --every until stopped." };
        var every = new Option<string>("--every") { Description = "With --watch: time between runs (30m, 6h, 1d).", DefaultValueFactory = _ => "6h" };
        var systemPrompt = new Option<string?>("--system-prompt") { Description = "The deployment's system prompt, sent as its clients send it (the extraction suite looks for it in answers); without it none is sent." };
        var runs = new Option<int>("--runs") { Description = "With --watch: stop after this many runs (0: until stopped).", DefaultValueFactory = _ => 0 };
        foreach (var option in new Option[] { alias, gateway, keyEnv, systemPrompt, concurrency, timeout, watch, every, runs }) command.Options.Add(option);
        ProjectContext.AddOptions(command);
        command.SetAction((parse, cancellationToken) => ProjectContext.Guard("monitor evaluate", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            var settings = MonitorSettings.Read(context.File["monitor"]);
            var policy = GatePolicy.From(context.File["gate"]);
            if (parse.GetValue(concurrency) is < 1 or > 256) throw new ArgumentException("--concurrency must be between 1 and 256");
            if (parse.GetValue(timeout) < 1) throw new ArgumentException("--timeout must be at least 1 second");
            if (!Uri.TryCreate(parse.GetValue(gateway), UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https")) throw new ArgumentException($"--gateway '{parse.GetValue(gateway)}' is not an http(s) URL");
            var key = Environment.GetEnvironmentVariable(parse.GetValue(keyEnv)!);
            if (string.IsNullOrWhiteSpace(key)) throw new ArgumentException($"{parse.GetValue(keyEnv)} holds no gateway API key (--api-key-env): the probes go through the gateway like any client's requests");
            var interval = MonitorCommand.Duration(parse.GetValue(every)!, "--every");
            var exit = ExitCodes.Ok;
            for (var n = 1; ; n++)
            {
                exit = RunOnceAsync(context, settings, policy, parse.GetValue(alias)!, url, key, parse.GetValue(systemPrompt), parse.GetValue(concurrency), parse.GetValue(timeout), stdout, stderr, cancellationToken).GetAwaiter().GetResult();
                if (!parse.GetValue(watch) || (parse.GetValue(runs) > 0 && n >= parse.GetValue(runs)) || exit == ExitCodes.UsageOrInput) break;
                try
                {
                    Task.Delay(interval, cancellationToken).GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            return exit;
        }));
        return command;
    }

    private static async Task<int> RunOnceAsync(ProjectContext context, MonitorSettings settings, GatePolicy policy, string alias, Uri gateway, string key, string? prompt, int concurrency, int timeout, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        string modelId;
        Dictionary<string, double> baseline;
        List<ProbeSuite> suites;
        List<string> strategies;
        string gateId;
        using (var registry = context.OpenRegistry())
        {
            var deployment = registry.Deployment(alias) ?? throw new ArgumentException($"no deployment '{alias}' (drydock deploy)");
            modelId = deployment.ModelId ?? throw new ArgumentException($"'{alias}' passes through to the model server with no model version: there is no gate to compare with");
            if (!deployment.Enabled)
            {
                stderr.WriteLine($"drydock monitor evaluate: '{alias}' is disabled (contained); nothing is evaluated");
                return ExitCodes.Ok;
            }

            (gateId, baseline, suites, strategies) = GateBaseline(registry, modelId);
        }

        var endpoint = gateway.ToString().TrimEnd('/');
        // No planted system prompt here: the gateway's input guard reads it like any client's text (the planted one,
        // "keep these instructions confidential", is itself flagged), so only the deployment's own prompt is sent.
        var detector = context.Rules().CreateDetector();
        var identity = new RunIdentity("endpoint", endpoint, null, alias, prompt is null ? null : RunIdentity.Sha256(prompt), [.. suites.Select(SuiteIdentity.Of)], strategies, "rules", RunIdentity.RulesDigest(detector), ToolInfo.Version, modelId);
        // Every run starts fresh (the model's behaviour is what changes): its own results file, never resumed.
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var folder = Path.Combine(context.Root ?? Directory.GetCurrentDirectory(), ProjectContext.StateFolderName, "monitor", "eval");
        Directory.CreateDirectory(folder);
        var resultsPath = Path.Combine(folder, $"{string.Concat(alias.Select(c => char.IsLetterOrDigit(c) || c is '-' or '.' ? c : '_'))}-{stamp}-{identity.Fingerprint[..12]}.results.jsonl");
        using var target = new MonitorGatewayTarget(gateway, alias, key, concurrency, TimeSpan.FromSeconds(timeout));
        stderr.WriteLine($"drydock monitor evaluate: {alias} serves {modelId}; gate decision {gateId}; {string.Join(", ", suites.Select(s => $"{s.Name}@{s.Version}"))} × {string.Join(",", strategies)} through {endpoint}");
        var started = DateTimeOffset.UtcNow;
        var runner = new EvaluationRunner(target, new ProbeJudge(detector), prompt);
        var run = await runner.RunAsync(suites, strategies, resultsPath, identity.Fingerprint, ResultsKeys.Load(context, resultsPath)!, null, null, cancellationToken).ConfigureAwait(false);
        var metrics = ReleaseGate.ProbeMetrics(run.Results);
        var errorRate = run.Planned == 0 ? 1 : (double)(run.Errored + run.Skipped) / run.Planned;

        using var write = context.OpenRegistry();
        var resultsSha = Dsse.Sha256Of(resultsPath);
        var evidence = EvidenceBuilder.Probes(identity, TargetIdentity.Of(endpoint, alias), run, suites, strategies, target.Sent, resultsSha, prompt is null ? "none" : "given", Path.GetFullPath(resultsPath));
        var recorded = write.RecordEvaluation(modelId, "monitor-probes", $"{endpoint} {alias}", metrics, resultsSha, Provenance.Actor.Current, evidence);
        stderr.WriteLine($"drydock monitor evaluate: recorded {recorded.Id} against {modelId}: {run.Answered} answered ({target.Blocked} blocked by the gateway), {run.Errored} errored, {run.Skipped} not run");
        if (errorRate > policy.MaxErrorRate)
        {
            stderr.WriteLine($"drydock monitor evaluate: inconclusive: {run.Errored + run.Skipped} of {run.Planned} probes have no answer (above gate.max-error-rate {policy.MaxErrorRate.ToString(CultureInfo.InvariantCulture)}){(run.Results.FirstOrDefault(r => r.Error is not null)?.Error is { } first ? $"; first error: {first}" : "")}; not compared");
            return ExitCodes.UsageOrInput;
        }

        stdout.WriteLine($"{"metric",-28} {"gate",8} {"now",8} {"change",8}  status");
        var regressions = new List<string>();
        var regressed = new List<DriftResult>();
        foreach (var (metric, before) in baseline.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            if (!metrics.TryGetValue(metric, out var now)) continue;
            var rise = now - before;
            var rose = rise > settings.EvaluateRegression + 1e-9;
            if (rose)
            {
                regressions.Add(string.Create(CultureInfo.InvariantCulture, $"{metric} {before:0.###} → {now:0.###}"));
                regressed.Add(new DriftResult(DriftMonitor.Evaluation, "regression", DriftMonitor.AsrRise, before, now, rise, null, settings.EvaluateRegression, "drift"));
            }

            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{metric,-28} {before,8:0.###} {now,8:0.###} {rise,8:+0.###;-0.###;0}  {(rose ? "REGRESSION" : "ok")}"));
        }

        if (regressions.Count == 0)
        {
            stdout.WriteLine($"{alias} ({modelId}): no attack success rate rose more than monitor.evaluate-regression ({settings.EvaluateRegression.ToString(CultureInfo.InvariantCulture)}) over the gate's");
            return ExitCodes.Ok;
        }

        var note = $"drydock monitor evaluate {recorded.Id} through the gateway, against gate decision {gateId}: {string.Join(", ", regressions)} (more than monitor.evaluate-regression {settings.EvaluateRegression.ToString(CultureInfo.InvariantCulture)})";
        var incident = write.OpenIncident("regression", "high", $"model:{alias}", note, Provenance.Actor.Current);
        stdout.WriteLine($"REGRESSION: {string.Join(", ", regressions)}; incident {incident}");
        if (settings.Contain != "off")
        {
            var (_, state) = GatewayOperations.Contain(write, alias, settings.Contain == "revert", $"regression found by drydock monitor evaluate ({recorded.Id})", incident, Provenance.Actor.Current, context.Approval);
            stdout.WriteLine(state.Enabled ? $"{incident}: {alias} reverted to {state.ModelId} (monitor.contain: revert)" : $"{incident}: {alias} disabled (monitor.contain: disable)");
        }

        // Into the gateway's log too: the alerts log its relay reads (the project's request log folder, when this
        // machine has one), as drydock monitor --watch writes it.
        var alerts = Directory.Exists(CommandOptions.RequestLogFolder) ? CommandOptions.RequestLogFolder : MonitorRegistry.AlertsFolder(context);
        try
        {
            MonitorAlert.Append(alerts, MonitorAlert.Json("drydock monitor evaluate", regressed, new MonitorPeriod(started, DateTimeOffset.UtcNow), run.Planned, null, 0, [], [incident]));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"drydock monitor evaluate: could not write the alerts log: {e.Message}");
        }

        return ExitCodes.Findings;
    }

    // The newest ship decision of the gate for the model version, and what it counted: the probe evaluations' metrics,
    // suites (refused when one changed since) and strategies.
    private static (string Gate, Dictionary<string, double> Metrics, List<ProbeSuite> Suites, List<string> Strategies) GateBaseline(ProvenanceRegistry registry, string modelId)
    {
        var decision = registry.GateDecisions(modelId).LastOrDefault(g => g.Decision == "ship")
            ?? throw new ArgumentException($"{modelId} has no ship decision of drydock gate: there is no baseline to compare with");
        var counted = (JsonNode.Parse(decision.Checks)?["evidence"] as JsonArray ?? []).Where(e => (string?)e?["kind"] == "probes").ToList();
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        var suites = new Dictionary<string, ProbeSuite>(StringComparer.Ordinal);
        var strategies = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var entry in counted)
        {
            var evaluation = registry.Evaluations((string)entry!["model"]!).SingleOrDefault(e => e.Id == (string?)entry["evaluation"])
                ?? throw new ArgumentException($"gate decision {decision.Id} names evaluation {(string?)entry["evaluation"]}, which the registry does not hold");
            foreach (var (name, value) in evaluation.Metrics) metrics[name] = value;
            var run = JsonNode.Parse(evaluation.Evidence?.Json ?? "{}")?["identity"];
            foreach (var s in run?["suites"] as JsonArray ?? [])
            {
                var name = (string)s!["name"]!;
                var suite = ProbeSuite.Load(name);
                if (suite.Sha256 != (string?)s["sha256"]) throw new ArgumentException($"suite {name} changed since gate decision {decision.Id} counted it (sha256 {((string?)s["sha256"])?[..12]} then, {suite.Sha256[..12]} now): the figures would not compare; run the gate again");
                suites[name] = suite;
            }

            foreach (var s in run?["strategies"] as JsonArray ?? []) strategies.Add((string)s!);
        }

        if (suites.Count == 0 || metrics.Count == 0) throw new ArgumentException($"gate decision {decision.Id} of {modelId} counted no probe evaluation: there is no baseline to compare with");
        return (decision.Id, metrics, [.. suites.Values], [.. strategies]);
    }
}
