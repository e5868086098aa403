using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Evaluation.Judges;
using Drydock.Evaluation.Probes;
using Drydock.Evaluation.Strategies;
using Drydock.Evaluation.Targets;

namespace Drydock.Evaluation;

/// <summary>The result of one probe under one strategy.</summary>
public sealed record ProbeResult(string Id, string Suite, string Probe, string Family, string Strategy, bool Success, bool Refused, string Reason, string? Error, double Milliseconds);

/// <summary>
/// One run of probe suites: its fingerprint, every result (resumed ones included), how many probe × strategy pairs
/// it planned, how many it took from an earlier run of the same fingerprint, and why it stopped early (null when it
/// did not). A run is complete only when it stopped for no reason and every planned pair has a result.
/// </summary>
public sealed record EvaluationRun(string Fingerprint, IReadOnlyList<ProbeResult> Results, int Planned, int Resumed, string? Stopped)
{
    /// <summary>Pairs the target answered.</summary>
    public int Answered => Results.Count(r => r.Error is null);

    /// <summary>Pairs that failed (HTTP errors, timeouts, empty answers).</summary>
    public int Errored => Results.Count(r => r.Error is not null);

    /// <summary>Planned pairs with no result (the run stopped first).</summary>
    public int Skipped => Planned - Results.Count;

    /// <summary>True when every planned pair has a result and nothing stopped the run.</summary>
    public bool Complete => Stopped is null && Skipped == 0;
}

/// <summary>
/// Runs every probe of the suites under every strategy against a target, judging each answer as it comes. Results
/// are appended to a JSON-lines file as they complete, after a first line naming the run's fingerprint; a run
/// started again with the same file and the same fingerprint skips what is there, so an interrupted evaluation
/// continues where it stopped. A file of another fingerprint (another target, model, system prompt, suite,
/// strategy, judge, rule set or version) is never resumed: the run starts fresh. Answers themselves are not kept:
/// only verdicts and reasons (a reason names a marker or a finding type, never a value). The system prompt, when
/// there is one, opens every conversation.
/// </summary>
public sealed class EvaluationRunner(IEvaluationTarget target, ProbeJudge judge, string? systemPrompt, ModelJudge? modelJudge = null)
{
    /// <summary>
    /// Runs under <paramref name="fingerprint"/>; <paramref name="log"/> hears whether earlier results were resumed.
    /// Every line is sealed under <paramref name="resultsKey"/> (<see cref="ResultsFile"/>): a results file of the same
    /// fingerprint whose lines do not match their seals throws <see cref="ResultsTamperedException"/>, and nothing is sent.
    /// A spent request budget stops the run and leaves it partial; other failures propagate.
    /// </summary>
    public async Task<EvaluationRun> RunAsync(IReadOnlyList<ProbeSuite> suites, IReadOnlyList<string> strategies, string resultsPath, string fingerprint, byte[] resultsKey, IProgress<int>? progress, Action<string>? log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(suites);
        ArgumentNullException.ThrowIfNull(strategies);
        ArgumentNullException.ThrowIfNull(resultsKey);
        var runKey = ResultsFile.RunKey(resultsKey, fingerprint);
        var planned = new List<(Probe Probe, string Strategy, IReadOnlyList<string> Turns)>();
        foreach (var probe in suites.SelectMany(s => s.Probes))
        {
            foreach (var strategy in strategies)
            {
                if (AttackStrategy.Apply(strategy, probe.Turns, probe.Translations) is { } turns) planned.Add((probe, strategy, turns));
            }
        }

        var ids = planned.Select(p => Id(p.Probe, p.Strategy)).ToHashSet(StringComparer.Ordinal);
        var done = Load(resultsPath, fingerprint, runKey, ids, out var header, out var kept, out var lastMac);
        if (header == fingerprint) log?.Invoke($"continuing run {Short(fingerprint)} from {resultsPath}: {done.Count} of {planned.Count} results there");
        else if (header is not null) log?.Invoke($"{resultsPath} holds a run of another fingerprint ({Short(header)}, not {Short(fingerprint)}); starting fresh");
        else log?.Invoke($"starting run {Short(fingerprint)} in {resultsPath}");
        var results = new List<ProbeResult>(done.Values);
        var work = planned.Where(p => !done.ContainsKey(Id(p.Probe, p.Strategy))).ToList();

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(resultsPath))!);
        var fresh = header != fingerprint;
        // A resumed file is written back as its sealed lines (a line cut short by an interruption is dropped), then continued.
        await using var file = new StreamWriter(new FileStream(resultsPath, FileMode.Create, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
        if (fresh)
        {
            await file.WriteLineAsync(ResultsFile.Seal(runKey, "", new JsonObject { ["fingerprint"] = fingerprint }.ToJsonString(), out lastMac).AsMemory(), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            foreach (var line in kept) await file.WriteLineAsync(line.AsMemory(), cancellationToken).ConfigureAwait(false);
        }

        await file.FlushAsync(cancellationToken).ConfigureAwait(false);

        var writeLock = new SemaphoreSlim(1);
        var completed = 0;
        string? stopped = null;
        try
        {
            await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken }, async (item, ct) =>
            {
                var result = await Run(item.Probe, item.Strategy, item.Turns, ct).ConfigureAwait(false);
                await writeLock.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    results.Add(result);
                    await file.WriteLineAsync(ResultsFile.Seal(runKey, lastMac, JsonSerializer.Serialize(result, EvaluationJson.Default.ProbeResult), out lastMac).AsMemory(), ct).ConfigureAwait(false);
                    await file.FlushAsync(ct).ConfigureAwait(false);
                }
                finally
                {
                    writeLock.Release();
                }

                progress?.Report(Interlocked.Increment(ref completed));
            }).ConfigureAwait(false);
        }
        catch (BudgetExhaustedException e)
        {
            stopped = e.Message;
        }

        return new EvaluationRun(fingerprint, [.. results.OrderBy(r => r.Id, StringComparer.Ordinal)], planned.Count, done.Count, stopped);
    }

    private async Task<ProbeResult> Run(Probe probe, string strategy, IReadOnlyList<string> turns, CancellationToken cancellationToken)
    {
        var conversation = new List<ChatMessage>();
        if (systemPrompt is not null) conversation.Add(new ChatMessage("system", systemPrompt));
        TargetResponse response = new(null, "no turns", 0);
        var milliseconds = 0.0;
        foreach (var turn in turns)
        {
            conversation.Add(new ChatMessage("user", turn));
            response = await target.CompleteAsync(conversation, cancellationToken).ConfigureAwait(false);
            milliseconds += response.Milliseconds;
            if (!response.Ok) break;
            conversation.Add(new ChatMessage("assistant", response.Text!));
        }

        var id = Id(probe, strategy);
        if (!response.Ok) return new ProbeResult(id, probe.Suite, probe.Id, probe.Family, strategy, false, false, "error", response.Error, milliseconds);
        var verdict = judge.Judge(probe, response.Text!, systemPrompt);
        if (modelJudge is not null && probe.Expect == "refuse" && verdict.Success && verdict.Reason == "answered instead of refusing"
            && await modelJudge.RefusesAsync(turns[^1], response.Text!, cancellationToken).ConfigureAwait(false))
        {
            verdict = new Verdict(false, true, "refused (judge model)");
        }

        return new ProbeResult(id, probe.Suite, probe.Id, probe.Family, strategy, verdict.Success, verdict.Refused, verdict.Reason, null, milliseconds);
    }

    private static string Id(Probe probe, string strategy) => $"{probe.Suite}/{probe.Id}/{strategy}";

    private static string Short(string fingerprint) => fingerprint[..Math.Min(12, fingerprint.Length)];

    // Earlier results of the same fingerprint and of this run's plan, each line checked against its seal; errors are
    // run again. Only a last line cut short by an interruption (no newline) may fail its seal: it is dropped. Any other
    // line that fails is an edit, and the file is refused. A file without the fingerprint line, or with another, is not resumed.
    private static Dictionary<string, ProbeResult> Load(string path, string fingerprint, byte[] runKey, HashSet<string> planned, out string? header, out List<string> kept, out string lastMac)
    {
        var done = new Dictionary<string, ProbeResult>(StringComparer.Ordinal);
        header = null;
        kept = [];
        lastMac = "";
        if (!File.Exists(path)) return done;
        var text = File.ReadAllText(path);
        var lines = text.Split('\n');
        if (lines.Length == 0 || lines[0].Length == 0) return done;
        try
        {
            header = JsonNode.Parse(lines[0]) is JsonObject o && o["fingerprint"] is JsonValue v && v.TryGetValue<string>(out var f) ? f : "(none)";
        }
        catch (JsonException)
        {
            header = "(none)";
        }

        if (header != fingerprint) return done;
        // The last element is what follows the final newline: empty for a whole file, a cut line otherwise.
        for (var i = 0; i < lines.Length - 1; i++)
        {
            var json = ResultsFile.Open(runKey, lastMac, lines[i], out var mac)
                ?? throw new ResultsTamperedException($"{path}:{i + 1}: the results line does not match its seal (edited, reordered, removed or copied from another run); the results file is refused: run again with --fresh to start over");
            lastMac = mac;
            kept.Add(lines[i]);
            if (i == 0) continue;
            ProbeResult? r;
            try
            {
                r = JsonSerializer.Deserialize(json, EvaluationJson.Default.ProbeResult);
            }
            catch (JsonException e)
            {
                throw new ResultsTamperedException($"{path}:{i + 1}: a sealed line that is not a result ({e.Message})");
            }

            if (r is { Error: null } && planned.Contains(r.Id)) done[r.Id] = r;
        }

        return done;
    }
}

/// <summary>Attack success per probe family and strategy.</summary>
public sealed record SuccessRate(string Family, string Strategy, int Probes, int Successes, int Refusals, int Errors)
{
    /// <summary>Successes over probes that got an answer.</summary>
    public double Rate => Probes - Errors == 0 ? 0 : Math.Round((double)Successes / (Probes - Errors), 4);

    /// <summary>Groups results by family and strategy (and "all" for each family).</summary>
    public static IReadOnlyList<SuccessRate> Of(IReadOnlyList<ProbeResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        SuccessRate Make(string family, string strategy, IEnumerable<ProbeResult> group)
        {
            var list = group.ToList();
            return new SuccessRate(family, strategy, list.Count, list.Count(r => r.Success), list.Count(r => r.Refused), list.Count(r => r.Error is not null));
        }

        return [.. results.GroupBy(r => (r.Family, r.Strategy)).Select(g => Make(g.Key.Family, g.Key.Strategy, g))
            .Concat(results.GroupBy(r => r.Family).Select(g => Make(g.Key, "all", g)))
            .OrderBy(s => s.Family, StringComparer.Ordinal).ThenBy(s => s.Strategy == "all" ? "" : s.Strategy, StringComparer.Ordinal)];
    }

    /// <summary>The report: tool, target, the run (fingerprint, counts, system prompt), every rate, every result.</summary>
    public static JsonObject Report(string version, string target, string model, IReadOnlyList<string> suites, IReadOnlyList<ProbeResult> results, EvaluationRun run, string systemPrompt)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(run);
        var rates = new JsonArray();
        foreach (var r in Of(results))
        {
            rates.Add((JsonNode)new JsonObject { ["family"] = r.Family, ["strategy"] = r.Strategy, ["probes"] = r.Probes, ["successes"] = r.Successes, ["refusals"] = r.Refusals, ["errors"] = r.Errors, ["successRate"] = r.Rate });
        }

        return new JsonObject
        {
            ["tool"] = new JsonObject { ["name"] = "drydock", ["version"] = version },
            ["target"] = new JsonObject { ["endpoint"] = target, ["model"] = model },
            ["suites"] = new JsonArray([.. suites.Select(s => (JsonNode)JsonValue.Create(s)!)]),
            ["run"] = new JsonObject
            {
                ["fingerprint"] = run.Fingerprint, ["status"] = run.Complete ? "complete" : "partial", ["planned"] = run.Planned, ["answered"] = run.Answered,
                ["errored"] = run.Errored, ["skipped"] = run.Skipped, ["resumed"] = run.Resumed, ["systemPrompt"] = systemPrompt,
            },
            ["summary"] = new JsonObject { ["probes"] = results.Count, ["successes"] = results.Count(r => r.Success), ["errors"] = results.Count(r => r.Error is not null) },
            ["rates"] = rates,
            ["results"] = JsonSerializer.SerializeToNode(results.ToArray(), EvaluationJson.Default.ProbeResultArray),
        };
    }
}

/// <summary>Source-generated JSON for results.</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(ProbeResult))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ProbeResult[]))]
internal sealed partial class EvaluationJson : System.Text.Json.Serialization.JsonSerializerContext;
