using System.Diagnostics;
using System.Text;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Evaluation;
using Drydock.Evaluation.Judges;
using Drydock.Evaluation.Probes;
using Drydock.Evaluation.Targets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Drydock.Bench;

/// <summary>
/// Evaluation speed: <c>probes</c> probes (the built-in suites' prompts, repeated under new ids) against a fast local
/// endpoint in another process, with concurrency 32, all judges on. Prints wall time and this process's CPU per probe
/// (the runner, the target client and the judges: Drydock's own cost).
/// </summary>
internal static class EvaluationBench
{
    public static async Task<int> Run(string endpoint, int probes)
    {
        var builtIn = ProbeSuite.BuiltIn.Select(ProbeSuite.Load).SelectMany(s => s.Probes).ToList();
        var list = Enumerable.Range(0, probes).Select(i => builtIn[i % builtIn.Count] with { Id = $"P{i:00000}", Suite = "speed" }).ToList();
        var suite = new ProbeSuite("speed", 1, "", list);
        var results = Path.Combine(Path.GetTempPath(), "drydock-eval-speed-" + Guid.NewGuid().ToString("N") + ".jsonl");
        using var target = new ModelTarget(new TargetOptions { Endpoint = new Uri(endpoint), Model = "m", Concurrency = 32, SystemPrompt = "You are a support assistant." });
        var runner = new EvaluationRunner(target, new ProbeJudge(Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers)), "You are a support assistant.");
        await runner.RunAsync([suite with { Probes = list.Take(200).Select(p => p with { Id = "W" + p.Id }).ToList() }], ["none"], results + ".warm", null, CancellationToken.None);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        var all = await runner.RunAsync([suite], ["none"], results, null, CancellationToken.None);
        watch.Stop();
        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        File.Delete(results);
        File.Delete(results + ".warm");
        Console.WriteLine($"{all.Count} probes ({target.Sent} requests, {all.Count(r => r.Error is not null)} errors) in {watch.Elapsed.TotalSeconds:0.00} s with concurrency 32; Drydock CPU {used.TotalMilliseconds / all.Count:0.000} ms per probe");
        return 0;
    }
}
