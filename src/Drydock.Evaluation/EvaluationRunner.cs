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
/// Runs every probe of the suites under every strategy against a target, judging each answer as it comes. Results
/// are appended to a JSON-lines file as they complete; a run started again with the same file skips what is there,
/// so an interrupted evaluation continues where it stopped. Answers themselves are not kept: only verdicts and
/// reasons (a reason names a marker or a finding type, never a value).
/// </summary>
public sealed class EvaluationRunner(IEvaluationTarget target, ProbeJudge judge, string? systemPrompt, ModelJudge? modelJudge = null)
{
    /// <summary>Runs; returns every result (earlier ones from <paramref name="resultsPath"/> included).</summary>
    public async Task<IReadOnlyList<ProbeResult>> RunAsync(IReadOnlyList<ProbeSuite> suites, IReadOnlyList<string> strategies, string resultsPath, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(suites);
        ArgumentNullException.ThrowIfNull(strategies);
        var done = Load(resultsPath);
        var results = new List<ProbeResult>(done.Values);
        var work = new List<(Probe Probe, string Strategy, IReadOnlyList<string> Turns)>();
        foreach (var probe in suites.SelectMany(s => s.Probes))
        {
            foreach (var strategy in strategies)
            {
                if (done.ContainsKey(Id(probe, strategy))) continue;
                if (AttackStrategy.Apply(strategy, probe.Turns, probe.Translations) is { } turns) work.Add((probe, strategy, turns));
            }
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(resultsPath))!);
        await using var file = new StreamWriter(new FileStream(resultsPath, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
        var writeLock = new SemaphoreSlim(1);
        var completed = 0;
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken }, async (item, ct) =>
        {
            var result = await Run(item.Probe, item.Strategy, item.Turns, ct).ConfigureAwait(false);
            await writeLock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                results.Add(result);
                await file.WriteLineAsync(JsonSerializer.Serialize(result, EvaluationJson.Default.ProbeResult).AsMemory(), ct).ConfigureAwait(false);
                await file.FlushAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                writeLock.Release();
            }

            progress?.Report(Interlocked.Increment(ref completed));
        }).ConfigureAwait(false);
        return [.. results.OrderBy(r => r.Id, StringComparer.Ordinal)];
    }

    private async Task<ProbeResult> Run(Probe probe, string strategy, IReadOnlyList<string> turns, CancellationToken cancellationToken)
    {
        var conversation = new List<ChatMessage>();
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

    // Earlier results; errors are run again, and a line cut short by an interruption is ignored.
    private static Dictionary<string, ProbeResult> Load(string path)
    {
        var done = new Dictionary<string, ProbeResult>(StringComparer.Ordinal);
        if (!File.Exists(path)) return done;
        foreach (var line in File.ReadLines(path))
        {
            try
            {
                if (JsonSerializer.Deserialize(line, EvaluationJson.Default.ProbeResult) is { Error: null } r) done[r.Id] = r;
            }
            catch (JsonException)
            {
            }
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

    /// <summary>The report: tool, target, every rate, every result.</summary>
    public static JsonObject Report(string version, string target, string model, IReadOnlyList<string> suites, IReadOnlyList<ProbeResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
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
