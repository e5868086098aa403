using System.Globalization;
using System.Text;
using System.Text.Json;
using Drydock.Detection;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Bench.Injection;

/// <summary>
/// Measures the injection category on the held-out part of every corpus: recall on attack corpora, the
/// false-positive rate on benign ones. Writes the held-out texts to bench/out/injection-heldout.jsonl so that a peer
/// tool can judge the same texts (bench/peers/), and adds the peer's column when its verdicts are given.
/// </summary>
internal static class InjectionQuality
{
    public static int Run(string shared, string? peerVerdicts)
    {
        var detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
        var threshold = Detection.Analyzers.InjectionModel.LoadBuiltIn().Threshold;
        var heldOut = InjectionCorpora.Load(shared).Where(t => t.HeldOut).ToList();
        Directory.CreateDirectory("bench/out");
        using (var writer = new StreamWriter("bench/out/injection-heldout.jsonl"))
        {
            for (var i = 0; i < heldOut.Count; i++)
            {
                writer.WriteLine(JsonSerializer.Serialize(new { id = i, corpus = heldOut[i].Corpus, text = heldOut[i].Text }));
            }
        }

        Dictionary<int, bool>? peer = null;
        if (peerVerdicts is not null)
        {
            peer = File.ReadLines(peerVerdicts).Select(l => JsonDocument.Parse(l).RootElement)
                .ToDictionary(e => e.GetProperty("id").GetInt32(), e => e.GetProperty("flagged").GetBoolean());
        }

        var output = new StringBuilder();
        output.AppendLine(CultureInfo.InvariantCulture, $"Threshold of the classifier: {threshold:0.000}. Held-out texts only (never trained on).");
        output.AppendLine();
        output.AppendLine(peer is null ? "| corpus | kind | texts | flagged | rate |" : "| corpus | kind | texts | drydock flagged | rate | peer flagged | peer rate |");
        output.AppendLine(peer is null ? "| --- | --- | ---: | ---: | ---: |" : "| --- | --- | ---: | ---: | ---: | ---: | ---: |");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var flags = heldOut.Select(t => detector.Scan(t.Text).Any(f => f.Category == Categories.Injection)).ToList();
        var elapsed = clock.Elapsed;
        if (Environment.GetEnvironmentVariable("DRYDOCK_QUALITY_TRAINGATE") == "1")
        {
            var model = Detection.Analyzers.InjectionModel.LoadBuiltIn();
            foreach (var t in InjectionCorpora.Load(shared).Where(t => !t.HeldOut && t.Attack))
            {
                if (!detector.Scan(t.Text).Any(f => f.Category == Categories.Injection) && InjectionTraining.Probability(model, t.Text) >= model.Threshold)
                {
                    Console.Error.WriteLine($"GATED {t.Corpus}: {t.Text[..Math.Min(t.Text.Length, 200)].ReplaceLineEndings(" ")}");
                }
            }
        }

        if (Environment.GetEnvironmentVariable("DRYDOCK_QUALITY_MISSES") == "1")
        {
            var model = Detection.Analyzers.InjectionModel.LoadBuiltIn();
            for (var i = 0; i < heldOut.Count; i++)
            {
                if (flags[i] == heldOut[i].Attack) continue;
                var score = InjectionTraining.Probability(model, heldOut[i].Text);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(heldOut[i].Attack ? "MISS" : "FALSE")} {heldOut[i].Corpus} {score:0.000}: {heldOut[i].Text[..Math.Min(heldOut[i].Text.Length, 200)].ReplaceLineEndings(" ")}"));
            }
        }

        foreach (var group in Enumerable.Range(0, heldOut.Count).GroupBy(i => heldOut[i].Corpus).OrderBy(g => heldOut[g.First()].Attack ? 0 : 1).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            var attack = heldOut[group.First()].Attack;
            var n = group.Count();
            var flagged = group.Count(i => flags[i]);
            var line = $"| {group.Key} | {(attack ? "attack (recall)" : "benign (false positives)")} | {n} | {flagged} | {Rate(flagged, n)} |";
            if (peer is not null)
            {
                var peerFlagged = group.Count(i => peer.GetValueOrDefault(i));
                line += $" {peerFlagged} | {Rate(peerFlagged, n)} |";
            }

            output.AppendLine(line);
        }

        void Total(bool attack)
        {
            var indices = Enumerable.Range(0, heldOut.Count).Where(i => heldOut[i].Attack == attack).ToList();
            var flagged = indices.Count(i => flags[i]);
            var line = $"| **all {(attack ? "attacks" : "benign")}** | {(attack ? "recall" : "false-positive rate")} | {indices.Count} | {flagged} | **{Rate(flagged, indices.Count)}** |";
            if (peer is not null)
            {
                var peerFlagged = indices.Count(i => peer.GetValueOrDefault(i));
                line += $" {peerFlagged} | {Rate(peerFlagged, indices.Count)} |";
            }

            output.AppendLine(line);
        }

        Total(true);
        Total(false);
        output.AppendLine();
        output.AppendLine(CultureInfo.InvariantCulture, $"{heldOut.Count} texts ({heldOut.Sum(t => t.Text.Length) / 1e6:0.0} MB) scanned with every rule in {elapsed.TotalSeconds:0.00} s on one thread.");
        Console.Write(output);
        return 0;
    }

    private static string Rate(int a, int n) => n == 0 ? "n/a" : ((double)a / n).ToString("0.000", CultureInfo.InvariantCulture);
}
