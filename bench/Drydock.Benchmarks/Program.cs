using BenchmarkDotNet.Running;
using Drydock.Bench;

switch (args.FirstOrDefault())
{
    case "gen-chat" when args.Length >= 3:
        return GenerateChat.Run(args[1], double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 1);
    case "gen-unique" when args.Length >= 3:
        return GenerateUnique.Run(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
    case "gen-templated" when args.Length >= 3:
        return GenerateTemplated.Run(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
    case "near-copy-families" when args.Length >= 2:
        return Drydock.Bench.NearCopyFamilies.Run(args[1]);
    case "gen-adversarial" when args.Length >= 3:
        return GenerateAdversarial.Run(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
    case "quality":
        return Quality.Run(args.Length > 1 ? args[1] : "../shared/bench");
    case "train-injection":
        return Drydock.Bench.Injection.InjectionTraining.Run(args.Length > 1 ? args[1] : "../shared/bench", args.Length > 2 ? args[2] : "src/Drydock.Detection/Models/injection-classifier.bin");
    case "write-paraphrases":
        return Drydock.Bench.Injection.SemanticTraining.WriteParaphrases(args.Length > 1 ? args[1] : Drydock.Bench.Injection.SemanticTraining.HeldOutFile);
    case "train-semantic":
        return Drydock.Bench.Injection.SemanticTraining.Run(args.Length > 1 ? args[1] : "../shared/bench", args.Length > 2 ? args[2] : "src/Drydock.Semantic/Models/semantic-injection-head.bin");
    case "quality-rendered":
        return Drydock.Bench.RenderedReadingQuality.Run(args.Length > 1 ? args[1] : "../shared/bench");
    case "quality-semantic":
        return Drydock.Bench.Injection.SemanticQuality.Run(args.Length > 1 ? args[1] : "../shared/bench", args.Length > 2 ? args[2] : null);
    case "quality-injection":
        return Drydock.Bench.Injection.InjectionQuality.Run(args.Length > 1 ? args[1] : "../shared/bench", args.Length > 2 ? args[2] : null);
    case "quality-evasion":
        return Drydock.Bench.Injection.EvasionQuality.Run(args.Length > 1 ? args[1] : "../shared/bench", args.Length > 3 && args[2] == "--dump" ? args[3] : null);
    case "quality-adversarial":
        return Drydock.Bench.AdversarialQuality.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 200, args.Length > 2 ? args[2] : "../shared/bench");
    case "quality-handwritten":
        return Drydock.Bench.HandWrittenQuality.Run(args.Length > 1 ? args[1] : "bench/quality-data");
    case "quality-near-copy-short":
        return Drydock.Bench.NearCopyShortQuality.Run(args.Length > 1 ? args[1] : "../shared/bench");
    case "quality-dedup":
        return Drydock.Bench.DedupQuality.Run(args.Length > 1 ? args[1] : "../shared/bench", args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 0.8);
    case "quality-poisoning":
        return Drydock.Bench.PoisoningBench.Run(args.Length > 1 ? args[1] : "../shared/bench", args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 20_000, args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 5);
    case "fuzz-model":
        return Drydock.Bench.ModelFileBench.Fuzz(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000);
    case "model-scan-speed":
        return Drydock.Bench.ModelFileBench.Speed(args.Length > 1 ? args[1] : "bench/out/model", args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1024);
    case "monitor-signals":
        return Drydock.Bench.MonitorBench.Signals(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000);
    case "monitor-replay":
        return Drydock.Bench.MonitorReplay.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 4, args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 7, args.Length > 3 ? args[3] : null);
    case "gateway-latency":
        return await Drydock.Bench.GatewayBench.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5000);
    case "gateway-rate" when args.Length >= 4:
        return await Drydock.Bench.GatewayBench.Rate(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture));
    case "gateway-stream":
        return await Drydock.Bench.GatewayBench.Streaming(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 200, args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 20);
    case "quality-lookalike-prose":
        return Drydock.Bench.LookAlikeProse.Run(args.Length > 1 ? args[1] : "../shared/bench");
    case "quality-refusal":
        return Drydock.Bench.RefusalBench.Run(args.Length > 1 ? args[1] : "../shared/bench", args.Contains("--misses"));
    case "eval-speed":
        return await Drydock.Bench.EvaluationBench.Run(args.Length > 1 ? args[1] : "http://127.0.0.1:18000/v1", args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 2000, args.Contains("--single-turn"));
    case "promptfoo-config" when args.Length >= 2:
        return Drydock.Bench.EvaluationBench.PromptfooConfig(args[1], args.Length > 2 ? args[2] : "http://127.0.0.1:18000/v1", args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 2000);
    case "gateway-upstream":
        return await Drydock.Bench.GatewayBench.Upstream(args.Length > 1 ? args[1] : "http://127.0.0.1:18000");
    case "gateway-bare":
        return await Drydock.Bench.GatewayBench.Bare(args.Length > 1 ? args[1] : "http://127.0.0.1:18082", args.Length > 2 ? args[2] : "http://127.0.0.1:18000");
    case "vault":
        return Drydock.Bench.ProvenanceBench.Vault(args.Length > 1 ? args[1] : "bench/out/vault", args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1024);
    case "audit":
        return Drydock.Bench.ProvenanceBench.Audit(args.Length > 1 ? args[1] : "bench/out/audit", args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000);
    case "audit-fill" when args.Length >= 2:
        return Drydock.Bench.ProvenanceBench.AuditFill(args[1], args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 100_000);
    case "registry" when args.Length >= 2:
        return Drydock.Bench.ProvenanceBench.Registry(args[1], args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 10_000, args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 1_000);
    case "onnx-speed" when args.Length >= 2:
        return await Drydock.Bench.TrainingBench.OnnxSpeed(args[1], args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1000);
    case "regurgitation-index":
        return Drydock.Bench.RegurgitationBench.Build(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000, args.Length > 2 ? args[2] : "bench/out/regurgitation.idx");
    case "regurgitation-quality" when args.Length >= 3:
        return Drydock.Bench.RegurgitationQuality.Run(args[1], args[2], args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 1);
    case "bdn":
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args[1..]);
        return 0;
    default:
        Console.Error.WriteLine("""
            usage: Drydock.Benchmarks gen-chat OUT SIZE_MB [SEED]   synthetic chat JSONL with realistic findings
                   Drydock.Benchmarks gen-unique OUT RECORDS      chat records of random words, none a near duplicate (clean's memory bound)
                   Drydock.Benchmarks gen-templated OUT RECORDS   one boilerplate, random tails (near-duplicate lookup's worst case)
                   Drydock.Benchmarks near-copy-families FILE      family sizes of the near-copy test (clean --holdout's families)
                   Drydock.Benchmarks gen-adversarial OUT SIZE_MB  hostile text (runs of @ . digits -----BEGIN)
                   Drydock.Benchmarks quality [SHARED_BENCH_DIR]   precision/recall per type (markdown)
                   Drydock.Benchmarks train-injection [SHARED_BENCH_DIR] [MODEL_OUT]  trains the injection classifier (ML.NET)
                   Drydock.Benchmarks write-paraphrases [OUT]        the held-out paraphrase set (bench/data)
                   Drydock.Benchmarks train-semantic [SHARED_BENCH_DIR] [HEAD_OUT]  trains the semantic injection head
                   Drydock.Benchmarks quality-semantic [SHARED_BENCH_DIR]  semantic stage: per-corpus rates, recall at fixed FPR, latency
                   Drydock.Benchmarks quality-injection [SHARED_BENCH_DIR] [PEER_SCORES]  recall / false positives per corpus (markdown)
                   Drydock.Benchmarks quality-adversarial [ROUNDS] [SHARED_BENCH_DIR]  hidden-text/markup/url/malware precision and recall (markdown)
                   Drydock.Benchmarks quality-handwritten [DIR]   precision/recall on bench/quality-data's hand-written positives and negatives
                   Drydock.Benchmarks quality-near-copy-short [SHARED_BENCH_DIR]  short-text edit test: recall on typo copies, false merges
                   Drydock.Benchmarks quality-dedup [SHARED_BENCH_DIR] [THRESHOLD]  near-duplicate precision and recall on planted variants
                   Drydock.Benchmarks quality-poisoning [SHARED_BENCH_DIR] [RECORDS] [RUNS]  planted backdoor/stuffing/conflicts: ranks and clean records flagged
                   Drydock.Benchmarks fuzz-model [CASES]             mutation fuzzing of the pickle, safetensors, GGUF and ONNX parsers
                   Drydock.Benchmarks model-scan-speed [FOLDER] [SIZE_MB]  model scan of a PyTorch zip checkpoint vs cat and sha256sum
                   Drydock.Benchmarks monitor-replay [WEEKS] [SEED] [KEEP_FOLDER]  false alarms of hourly monitor checks on weeks of ordinary traffic; planted scraping and template found
                   Drydock.Benchmarks regurgitation-index [RECORDS] [OUT]  tripwire index: build time, size, per-answer check
                   Drydock.Benchmarks regurgitation-quality TRAIN HELD-OUT [SEED]  tripwire recall and false alarms on labelled answers
                   Drydock.Benchmarks gateway-latency [REQUESTS]      sequential chat requests: upstream directly vs through the gateway
                   Drydock.Benchmarks gateway-upstream [URL]         the fast upstream alone (bench/gateway/wrk.sh)
                   Drydock.Benchmarks gateway-bare [URL] [UPSTREAM]  Kestrel + HttpClient pass-through, nothing else: the ASP.NET Core ceiling (bench/gateway/wrk.sh)
                   Drydock.Benchmarks gateway-rate URL RPS SECONDS   open-loop load at a fixed rate; latency percentiles
                   Drydock.Benchmarks gateway-stream [TOKENS] [MS]   streaming: time to first token and guard cost per chunk
                   Drydock.Benchmarks eval-speed [ENDPOINT] [PROBES] [--single-turn] evaluation wall time and CPU per probe (run gateway-upstream first)
                   Drydock.Benchmarks promptfoo-config OUT [ENDPOINT] [PROBES]  the same probes as a promptfoo config (bench/peers/promptfoo.sh)
                   Drydock.Benchmarks quality-lookalike-prose [SHARED_BENCH_DIR]  secret/personal-data findings on lines in Cyrillic or Greek
                   Drydock.Benchmarks quality-refusal [SHARED_BENCH_DIR]  refusal judge against XSTest's human labels
                   Drydock.Benchmarks vault [FOLDER] [SIZE_MB]       vault encrypt/decrypt throughput (sha256sum as reference)
                   Drydock.Benchmarks audit [FOLDER] [ENTRIES]       audit verify time and memory over a SQLite log
                   Drydock.Benchmarks audit-fill LOCATION [ENTRIES]  append ENTRIES chained audit entries to a registry (bench/audit/walk.sh)
                   Drydock.Benchmarks registry LOCATION [DATASETS] [MODELS]  register and lineage p50/p99 (SQLite path or postgres:// URL)
                   Drydock.Benchmarks onnx-speed MODEL [SEQUENCES]  local ONNX target: generation tokens/s, time to score N sequences
                   Drydock.Benchmarks bdn [BenchmarkDotNet args]   hot-path micro-benchmarks
            """);
        return 2;
}

internal static class GenerateChat
{
    public static int Run(string output, double sizeMb, int seed)
    {
        var synthetic = new Synthetic(seed);
        var target = (long)(sizeMb * 1_000_000);
        long written = 0;
        var id = 0;
        using var writer = new StreamWriter(output, false, new System.Text.UTF8Encoding(false), 1 << 20);
        while (written < target)
        {
            var (json, _) = synthetic.ChatRecord(++id, findingRate: 0.08);
            writer.Write(json);
            writer.Write('\n');
            written += json.Length + 1;
        }

        Console.Error.WriteLine($"{output}: {id:N0} records, {written / 1e6:0.0} MB");
        return 0;
    }
}

internal static class GenerateUnique
{
    // Two messages of random words from a 20,000-word vocabulary: no two records are near duplicates, so the
    // near-duplicate index of `drydock clean` ends up holding every record (its worst case for memory).
    public static int Run(string output, int records)
    {
        var random = new Random(5);
        var words = Enumerable.Range(0, 20_000).Select(_ => new string([.. Enumerable.Range(0, random.Next(3, 10)).Select(_ => (char)('a' + random.Next(26)))])).ToArray();
        string Sentence(int count) => string.Join(' ', Enumerable.Range(0, count).Select(_ => words[random.Next(words.Length)]).ToArray());
        using var writer = new StreamWriter(output, false, new System.Text.UTF8Encoding(false), 1 << 20);
        for (var i = 0; i < records; i++)
        {
            writer.Write($$"""{"messages": [{"role": "user", "content": "{{Sentence(14)}}"}, {"role": "assistant", "content": "{{Sentence(18)}}"}]}""");
            writer.Write('\n');
        }

        return 0;
    }
}

internal static class GenerateAdversarial
{
    public static int Run(string output, int sizeMb)
    {
        // One JSONL record per MB of hostile text, so the scan sees long fields full of keyword hits.
        string[] units = ["@", ".", "1", "-", "-----BEGIN ", "a@b.", "1.2.", "eyJ", "ghp_", "::", "+1 ", "AKIA", "password=", "4111 "];
        using var writer = new StreamWriter(output, false, new System.Text.UTF8Encoding(false), 1 << 20);
        for (var mb = 0; mb < sizeMb; mb++)
        {
            var unit = units[mb % units.Length];
            var text = string.Concat(Enumerable.Repeat(unit, 1_000_000 / unit.Length));
            writer.Write(System.Text.Json.JsonSerializer.Serialize(new { text }));
            writer.Write('\n');
        }

        return 0;
    }
}
