using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Drydock.Cli.Infrastructure;
using Drydock.Datasets.Output;

namespace Drydock.Cli.Demo;

/// <summary>
/// <c>drydock demo</c>: the whole lifecycle on bundled synthetic data, through the same verbs a user runs — scan,
/// clean (with a held-out split), canaries, threat model, registration and approval, the base model, two
/// training runs (rushed and hardened), privacy evaluations of both, and the release gate — then a short story
/// with the figures and an HTML report.
/// </summary>
internal static partial class DemoCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("demo", "Run the whole lifecycle on bundled synthetic support tickets: scan, clean, canaries, approvals, train a rushed and a hardened model (reference trainer), evaluate both, gate them; prints the story and writes an HTML report.");
        var workdir = new Option<string>("--workdir") { Description = "The demo's project folder (recreated; the base model is kept between runs unless --fresh).", DefaultValueFactory = _ => "drydock-demo" };
        var seeds = new Option<int[]>("--seed") { Description = "Training seed; repeat it to train and evaluate once per seed (the table shows every seed).", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [7] };
        var fresh = new Option<bool>("--fresh") { Description = "Pre-train the base model again." };
        var python = new Option<string?>("--python") { Description = "The Python with PyTorch for the reference trainer (default: $DRYDOCK_PYTHON, else /usr/bin/python3)." };
        var serve = new Option<bool>("--serve") { Description = "Afterwards, approve the hardened model, serve it (serve-model) behind the gateway as 'support' on http://127.0.0.1:8080/v1 with a new key, until Ctrl-C." };
        var privately = new Option<double?>("--private") { Description = "Also train a third model, private: LoRA with differential privacy (DP-SGD) at this ε on the hardened data, evaluated and gated beside the other two (several minutes more per seed on 2 cores)." };
        var canaryCount = new Option<int>("--canaries") { Description = "How many canaries are planted (each in 10 tickets); the canary audit's observed ε needs several.", DefaultValueFactory = _ => 4 };
        foreach (var option in new Option[] { workdir, seeds, fresh, python, serve, privately, canaryCount }) command.Options.Add(option);
        command.Subcommands.Add(MonitorStep(stdout, stderr));
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(privately) is { } target && !(target > 0 && target <= 100))
            {
                await stderr.WriteLineAsync($"drydock demo: --private {target.ToString(CultureInfo.InvariantCulture)}: ε must be above 0 and at most 100").ConfigureAwait(false);
                return ExitCodes.UsageOrInput;
            }

            if (parse.GetValue(canaryCount) is < 1 or > 50)
            {
                await stderr.WriteLineAsync($"drydock demo: --canaries {parse.GetValue(canaryCount)}: between 1 and 50").ConfigureAwait(false);
                return ExitCodes.UsageOrInput;
            }

            var root = ProjectGuard.RealPath(parse.GetValue(workdir)!);
            var previous = Directory.GetCurrentDirectory();
            var actor = Environment.GetEnvironmentVariable("DRYDOCK_ACTOR");
            try
            {
                Prepare(root, parse.GetValue(fresh));
                Directory.SetCurrentDirectory(root);
                var demo = new DemoRun(stdout, Path.Combine(root, "demo.log"), parse.GetValue(python), parse.GetValue(privately), parse.GetValue(canaryCount), cancellationToken);
                var rows = await demo.RunAsync(parse.GetValue(seeds) is { Length: > 0 } s ? s : [7]).ConfigureAwait(false);
                // After the gate: the shipped model behind the gateway, a day of traffic in seconds, drydock monitor over it.
                var monitored = rows[^1].HardenedShip && await demo.MonitorHardenedAsync(rows[^1].Seed).ConfigureAwait(false);
                var report = Path.Combine(root, "report.html");
                AtomicFile.Write(report, Encoding.UTF8.GetBytes(DemoReport.Html(rows, demo.Story)));
                await stdout.WriteLineAsync($"\nReport: {report}\nEvery command and its output: {demo.LogPath}").ConfigureAwait(false);
                if (parse.GetValue(serve)) await demo.ServeAsync(rows[^1].Hardened, rows[^1].Seed).ConfigureAwait(false);
                return monitored && rows.All(r => r.RushedShip == false && r.HardenedShip == true) ? ExitCodes.Ok : ExitCodes.Findings;
            }
            catch (DemoException e)
            {
                await stderr.WriteLineAsync($"drydock demo: {e.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInput;
            }
            finally
            {
                Directory.SetCurrentDirectory(previous);
                Environment.SetEnvironmentVariable("DRYDOCK_ACTOR", actor);
            }
        });
        return command;
    }

    // Empties the folder, keeping the pre-trained base model (and its recipe's data) unless fresh.
    private static void Prepare(string root, bool fresh)
    {
        // The folder is emptied: never a project (drydock.yaml or .drydock/) that is not the demo's own earlier workdir.
        var marker = Path.Combine(root, DemoMarker);
        if (Directory.Exists(root) && !File.Exists(marker)
            && (File.Exists(Path.Combine(root, ProjectContext.ProjectFileName)) || Directory.Exists(Path.Combine(root, ProjectContext.StateFolderName))))
        {
            throw new DemoException($"--workdir {root} holds a Drydock project (drydock.yaml or .drydock/) that is not an earlier demo's workdir (no {DemoMarker}); the demo empties its workdir, so it refuses this one: pass a new or empty folder");
        }

        // Nor a folder inside a project (the demo's project would be nested in it), nor one holding a project deeper down.
        if (ProjectContext.EnclosingRoot(root) is { } outer)
        {
            throw new DemoException($"--workdir {root} lies inside the Drydock project {outer}; the demo makes a project of its own and empties its workdir, so it refuses a folder inside another project: pass a new folder outside it");
        }

        if (Directory.Exists(root) && NestedProject(root) is { } nested)
        {
            throw new DemoException($"--workdir {root} holds the Drydock project {nested} further down; the demo empties its workdir, so it refuses this one: pass a new or empty folder");
        }

        Directory.CreateDirectory(root);
        foreach (var entry in Directory.EnumerateFileSystemEntries(root))
        {
            var name = Path.GetFileName(entry);
            if (!fresh && name == "base") continue;
            if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
            else File.Delete(entry);
        }

        File.WriteAllText(marker, "This folder is the workdir of 'drydock demo', which empties it on every run.\n");
    }

    private const string DemoMarker = ".drydock-demo";

    // The first folder below root (links not followed) holding drydock.yaml or .drydock/, or null.
    private static string? NestedProject(string root)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        foreach (var entry in Directory.EnumerateFileSystemEntries(root, "*", options))
        {
            var name = Path.GetFileName(entry);
            var parent = Path.GetDirectoryName(entry)!;
            if (parent == root) continue; // the workdir's own drydock.yaml and .drydock/ (an earlier demo's, checked above)
            if (name == ProjectContext.ProjectFileName || name == ProjectContext.StateFolderName) return parent;
        }

        return null;
    }

    private const int Tickets = 600;

    // A third held out: the hardened set keeps one ticket of each near-duplicate family, so a quarter left too few
    // non-members (about 50) for a stable membership AUC.
    private const string Holdout = "0.35";

    [GeneratedRegex(@"\b(mv-[0-9a-f]{12}) registered")]
    private static partial Regex ModelId();

    [GeneratedRegex(@"^FAIL\s+(\S+)\s+\S+ = (\S+) \(> ([^;:]+)[;:]")]
    private static partial Regex GateFailure();

    [GeneratedRegex(@"\b(ds-[0-9a-f]{12}) registered")]
    private static partial Regex DatasetId();

    /// <summary>One seed's figures for each model (the private one only with --private).</summary>
    internal sealed record Row(int Seed, Figures Rushed, Figures Hardened, bool RushedShip, bool HardenedShip, IReadOnlyList<string> RushedFailures, Figures? Private = null, bool PrivateShip = false);

    /// <summary>
    /// What was measured on one model. <paramref name="DpEpsilon"/>: the ε recorded in the signed model statement (null
    /// without DP); the observed lower bounds are NaN when the evaluation recorded none.
    /// </summary>
    internal sealed record Figures(string ModelId, double ExposureMax, int CanariesExtracted, int Canaries, double MembershipAuc, double PiiLeakRate, double HeldOutLoss, double TokensPerSecond, string Method,
        double? DpEpsilon = null, double MembershipObservedEpsilon = double.NaN, double CanaryObservedEpsilon = double.NaN);

    private sealed partial class DemoRun(TextWriter stdout, string logPath, string? python, double? privateEpsilon, int canaries, CancellationToken cancellation)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Lock _logLock = new();
        private readonly CancellationToken _cancellation = cancellation;

        public string LogPath => logPath;

        public List<string> Story { get; } = [];

        public async Task<List<Row>> RunAsync(int[] seeds)
        {
            Directory.CreateDirectory("data");
            Say("Drydock demo: a support assistant for a bank, fine-tuned twice on the same tickets.");
            DemoData.WriteTickets("data/tickets.jsonl", Tickets, 2026);
            DemoData.WriteCorpus("data/corpus.jsonl", 1200, 1);
            DemoData.WriteCorpus("data/corpus-held-out.jsonl", 200, 2);
            await Verb(0, ["init"], "alice").ConfigureAwait(false);
            File.WriteAllText("drydock.yaml", Policy(hardened: true));
            File.WriteAllText("rushed.yaml", Policy(hardened: false));
            File.WriteAllText("threat-model.yaml", ThreatModel);

            await Verb(1, ["scan", "data/tickets.jsonl", "--format", "json", "--output", "scan.json"], "alice").ConfigureAwait(false);
            var summary = JsonNode.Parse(File.ReadAllText("scan.json"))!["summary"]!;
            var byCategory = summary["byCategory"] as JsonObject;
            Say($"scan     {Tickets} tickets: {summary["findings"]} findings ({string.Join(", ", (byCategory ?? []).Select(kv => $"{kv.Key} {kv.Value}").ToArray())})");

            await Verb(0, ["canary", "plant", "--input", "data/tickets.jsonl", "--output", "data/tickets+canaries.jsonl", "--label", "demo", "--count", canaries.ToString(CultureInfo.InvariantCulture), "--repeat", "10", "--seed", "3"], "alice").ConfigureAwait(false);
            Say($"canaries {canaries} random recovery codes planted, each in 10 tickets (values in the vault, hashes in the registry)");

            // A fixed redaction key (demo data only): pseudonyms, and with them the held-out split by content, are the
            // same on every run, so the figures repeat. 64 hex digits, owner-only, as clean requires of a key file.
            AtomicFile.Write("demo-redaction.key", Encoding.ASCII.GetBytes(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.ASCII.GetBytes("drydock-demo-redaction-key-not-secret")))), ownerOnly: true);
            var cleaned = await Verb(0, ["clean", "data/tickets+canaries.jsonl", "--output", "data/hardened.jsonl", "--holdout", Holdout, "--seed", "1", "--key-file", "demo-redaction.key"], "alice").ConfigureAwait(false);
            Say("clean    hardened: " + LastLine(cleaned, "records in"));
            var raw = await Verb(0, ["clean", "data/tickets+canaries.jsonl", "--policy", "rushed.yaml", "--output", "data/rushed.jsonl", "--holdout", Holdout, "--seed", "1", "--key-file", "demo-redaction.key"], "alice").ConfigureAwait(false);
            Say("clean    rushed (everything allowed): " + LastLine(raw, "records in"));

            await Verb(0, ["threat-model", "approve", "--comment", "demo review"], "carol").ConfigureAwait(false);
            var hardenedSet = DatasetId().Match(await Verb(0, ["dataset", "register", "data/hardened.jsonl.manifest.json"], "alice").ConfigureAwait(false)).Groups[1].Value;
            var rushedSet = DatasetId().Match(await Verb(0, ["dataset", "register", "data/rushed.jsonl.manifest.json", "--policy", "rushed.yaml"], "alice").ConfigureAwait(false)).Groups[1].Value;
            foreach (var (set, policy) in new[] { (hardenedSet, "drydock.yaml"), (rushedSet, "rushed.yaml") })
            {
                await Verb(0, ["approve", "dataset", set, "--role", "data-owner", "--decision", "approve", "--policy", policy], "alice").ConfigureAwait(false);
                await Verb(0, ["approve", "dataset", set, "--role", "security-reviewer", "--decision", "approve", "--policy", policy], "bob").ConfigureAwait(false);
            }

            Say($"register {hardenedSet} (hardened) and {rushedSet} (rushed), threat model and both datasets approved by two people");

            if (!File.Exists("base/model.pt"))
            {
                var pre = await Verb(0, ["train", "base", "--corpus", "data/corpus.jsonl", "--held-out", "data/corpus-held-out.jsonl", "--output", "base", .. Python()], "alice").ConfigureAwait(false);
                Say("base     pre-trained the byte-level base model on 1,200 generic conversations: " + LastLine(pre, "tokens/s"));
            }
            else
            {
                Say("base     reusing the pre-trained base model in base/ (--fresh trains it again)");
            }

            var rows = new List<Row>();
            foreach (var seed in seeds) rows.Add(await SeedAsync(seed, hardenedSet, rushedSet).ConfigureAwait(false));
            Say($"done in {_clock.Elapsed.TotalSeconds:0} s");
            await stdout.WriteLineAsync().ConfigureAwait(false);
            await stdout.WriteLineAsync(DemoReport.Table(rows)).ConfigureAwait(false);
            return rows;
        }

        private async Task<Row> SeedAsync(int seed, string hardenedSet, string rushedSet)
        {
            var digest = Provenance.Registry.ModelDigest.Of("base").Digest;
            File.WriteAllText("drydock.yaml", Policy(hardened: true) + Training(true, digest, hardenedSet, seed));
            File.WriteAllText("rushed.yaml", Policy(hardened: false) + Training(false, digest, rushedSet, seed) + RushedPolicy);
            var refused = await Verb(1, ["train", "plan", "--policy", "rushed-under-policy.yaml"], "alice", () => File.WriteAllText("rushed-under-policy.yaml", Policy(hardened: true) + Training(false, digest, rushedSet, seed))).ConfigureAwait(false);
            Say($"plan     seed {seed}: the rushed plan under the project's policy is refused: {string.Join(", ", refused.Split('\n').Where(l => l.StartsWith("FAIL", StringComparison.Ordinal)).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]).ToArray())}; the rushed team runs it under its own policy");

            if (privateEpsilon is { } epsilon) File.WriteAllText("private.yaml", Policy(hardened: true) + Training(true, digest, hardenedSet, seed, epsilon) + PrivatePolicy);
            if (Drydock.Training.Runs.IsolatedRun.NetworkPrefix is null) Say("train    this machine cannot give the trainer its own network namespace (unshare --net): the demo trains WITH network; train run refuses that unless told --allow-network");
            // The runs go side by side: one core each.
            var runs = await Task.WhenAll(new[]
            {
                Verb(0, ["train", "run", "--policy", "rushed.yaml", "--name", $"rushed-{seed}", "--output", $"models/rushed-{seed}", .. Python()], "alice"),
                Verb(0, ["train", "run", "--name", $"hardened-{seed}", "--output", $"models/hardened-{seed}", .. Python()], "alice"),
            }.Concat(privateEpsilon is null ? [] : [Verb(0, ["train", "run", "--policy", "private.yaml", "--name", $"private-{seed}", "--output", $"models/private-{seed}", .. Python()], "alice")])).ConfigureAwait(false);
            var rushed = await EvaluateAsync($"models/rushed-{seed}", ModelId().Match(runs[0]).Groups[1].Value, "data/rushed.jsonl", "data/rushed.jsonl.holdout.jsonl", "rushed.yaml").ConfigureAwait(false);
            var hardened = await EvaluateAsync($"models/hardened-{seed}", ModelId().Match(runs[1]).Groups[1].Value, "data/hardened.jsonl", "data/hardened.jsonl.holdout.jsonl", "drydock.yaml").ConfigureAwait(false);
            var privateModel = privateEpsilon is null ? null : await EvaluateAsync($"models/private-{seed}", ModelId().Match(runs[2]).Groups[1].Value, "data/hardened.jsonl", "data/hardened.jsonl.holdout.jsonl", "private.yaml").ConfigureAwait(false);
            var rushedGate = await Verb(-1, ["gate", "--model", rushed.ModelId], "bob").ConfigureAwait(false);
            var hardenedGate = await Verb(-1, ["gate", "--model", hardened.ModelId], "bob").ConfigureAwait(false);
            var failures = rushedGate.Split('\n').Select(l => GateFailure().Match(l)).Where(m => m.Success).Select(m => $"{m.Groups[1].Value}: {m.Groups[2].Value} > {m.Groups[3].Value}").ToList();
            var privateGate = privateModel is null ? "" : await Verb(-1, ["gate", "--model", privateModel.ModelId, "--policy", "private.yaml"], "bob").ConfigureAwait(false);
            var row = new Row(seed, rushed, hardened, Ships(rushedGate), Ships(hardenedGate), failures, privateModel, Ships(privateGate));
            Say($"gate     rushed {rushed.ModelId}: {(row.RushedShip ? "SHIP" : "NO-SHIP")}{(failures.Count > 0 ? " — " + string.Join("; ", failures) : "")}");
            Say($"gate     hardened {hardened.ModelId}: {(row.HardenedShip ? "SHIP" : "NO-SHIP")}");
            if (privateModel is not null) Say($"gate     private {privateModel.ModelId}: {(row.PrivateShip ? "SHIP" : "NO-SHIP")}");
            return row;
        }

        private static bool Ships(string gate) => gate.Contains("SHIP", StringComparison.Ordinal) && !gate.Contains("NO-SHIP", StringComparison.Ordinal);

        private async Task<Figures> EvaluateAsync(string model, string modelId, string members, string heldOut, string policy)
        {
            if (modelId.Length == 0) throw new DemoException($"training {model} did not register a model version (see {logPath})");
            var target = "onnx:" + model;
            var memo = await Verb(0, ["eval", "memorization", "--target", target, "--canaries", "demo", "--candidates", "300", "--samples", "3", "--record", modelId, "--policy", policy], "alice").ConfigureAwait(false);
            // Calibrated against the base model: members and held-out records differ a little in shape (the split
            // keeps near duplicates together), which the base model alone already tells apart (AUC about 0.58).
            await Verb(0, ["eval", "membership", "--target", target, "--reference-target", "onnx:base", "--members", members, "--non-members", heldOut, "--limit", "500", "--record", modelId, "--policy", policy], "alice").ConfigureAwait(false);
            // The records as they were before cleaning: the input both datasets were cleaned from, so in both models' lineage.
            await Verb(0, ["eval", "extraction", "--target", target, "--records", "data/tickets+canaries.jsonl", "--limit", "300", "--max-values", "120", "--record", modelId, "--policy", policy], "alice").ConfigureAwait(false);
            using var registry = Provenance.Registry.ProvenanceRegistry.Open(Path.Combine(ProjectContext.StateFolder, "registry.db"));
            var metrics = registry.Evaluations(modelId).SelectMany(e => e.Metrics).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Last().Value);
            var trained = JsonNode.Parse(File.ReadAllText(Path.Combine(model, "metrics.json")))!;
            var (dpEpsilon, _) = Evaluation.Privacy.PrivacyAudit.Guaranteed(registry.GetModel(modelId));
            var figures = new Figures(modelId, metrics.GetValueOrDefault("canary.exposure.max"), (int)metrics.GetValueOrDefault("canary.extracted"), memo.Split('\n').Count(l => l.StartsWith("cn-", StringComparison.Ordinal)),
                metrics.GetValueOrDefault("membership.auc"), metrics.GetValueOrDefault("extraction.pii-leak"), (double)trained["heldOutLoss"]!,
                (double)trained["tokensPerSecond"]!, (string)trained["method"]! + (dpEpsilon is null ? "" : " + DP"),
                dpEpsilon, metrics.GetValueOrDefault("membership.observed-epsilon", double.NaN), metrics.GetValueOrDefault("canary.observed-epsilon", double.NaN));
            Say($"eval     {Path.GetFileName(model)} ({figures.Method}): exposure max {figures.ExposureMax:0.0} bits, {figures.CanariesExtracted}/{figures.Canaries} canaries extracted, membership AUC {figures.MembershipAuc:0.00}, PII leak {figures.PiiLeakRate:P0}, held-out loss {figures.HeldOutLoss:0.000}, "
                + $"{(dpEpsilon is { } g ? $"guaranteed ε ≤ {g:0.###}, " : "")}observed ε ≥ {figures.MembershipObservedEpsilon:0.###} (membership), ≥ {figures.CanaryObservedEpsilon:0.###} (canaries)");
            if (dpEpsilon is { } bound && Math.Max(figures.MembershipObservedEpsilon, figures.CanaryObservedEpsilon) > bound)
            {
                Say($"WARNING  {Path.GetFileName(model)}: the observed lower bound is above the guaranteed ε {bound:0.###}: the DP training or its accounting is wrong");
            }
            return figures;
        }

        // The reference trainer's interpreter, and the network: the demo runs its trainers without network where the
        // machine can (a new network namespace), and says so where it cannot rather than stopping.
        private string[] Python() => [.. python is null ? [] : new[] { "--python", python }, .. Drydock.Training.Runs.IsolatedRun.NetworkPrefix is null ? ["--allow-network"] : Array.Empty<string>()];

        // The hardened model approved, served by serve-model, deployed as 'support' behind the gateway with a new key.
        public async Task ServeAsync(Figures hardened, int seed)
        {
            await Verb(0, ["approve", "model", hardened.ModelId, "--role", "data-owner", "--decision", "approve"], "alice").ConfigureAwait(false);
            await Verb(0, ["approve", "model", hardened.ModelId, "--role", "security-reviewer", "--decision", "approve", "--comment", "gate passed"], "bob").ConfigureAwait(false);
            await Verb(0, ["deploy", "support", "--model", hardened.ModelId, "--upstream-model", $"hardened-{seed}", "--reason", "demo"], "bob").ConfigureAwait(false);
            var key = (await Verb(0, ["keys", "create", "--name", "demo", "--tier", "internal"], "bob").ConfigureAwait(false)).Split('\n').First(l => l.StartsWith("ddk_", StringComparison.Ordinal)).Trim();
            using var model = new Evaluation.Targets.OnnxTarget($"models/hardened-{seed}", seed);
            await using var server = new Gateway.ModelServer.LocalModelServer(model, $"hardened-{seed}", "http://127.0.0.1:0", Provenance.Registry.ModelDigest.Of($"models/hardened-{seed}").Digest);
            await server.StartAsync(_cancellation).ConfigureAwait(false);
            Say($"serve    {hardened.ModelId} approved and deployed as 'support'; model server on {server.Urls[0]}/v1; gateway on http://127.0.0.1:8080/v1 (Ctrl-C stops)");
            await stdout.WriteLineAsync($"\n  curl -s http://127.0.0.1:8080/v1/chat/completions -H 'Authorization: Bearer {key}' \\\n    -d '{{\"model\": \"support\", \"messages\": [{{\"role\": \"user\", \"content\": \"How do I reset my password?\"}}], \"temperature\": 0}}'\n").ConfigureAwait(false);
            Environment.SetEnvironmentVariable("DRYDOCK_ACTOR", "gateway");
            await DrydockApp.RunAsync(["serve", "--upstream", server.Urls[0] + "/v1"], stdout, stdout, _cancellation).ConfigureAwait(false);
        }

        // Runs a verb in process as an actor, logs the command and its output, and checks the exit code (-1: any).
        // The two training runs go at once: the actor is the same for both, and the log is appended under a lock.
        private async Task<string> Verb(int expected, string[] args, string actor, Action? before = null)
        {
            before?.Invoke();
            using var output = new StringWriter();
            Environment.SetEnvironmentVariable("DRYDOCK_ACTOR", actor);
            var clock = Stopwatch.StartNew();
            var exit = await DrydockApp.RunAsync(args, output, output, _cancellation).ConfigureAwait(false);
            var text = output.ToString();
            lock (_logLock) File.AppendAllText(logPath, $"$ DRYDOCK_ACTOR={actor} drydock {string.Join(' ', args)}\n{text}[exit {exit}, {clock.Elapsed.TotalSeconds:0.0} s]\n\n");
            if (expected >= 0 && exit != expected) throw new DemoException($"'drydock {string.Join(' ', args)}' exited {exit}, expected {expected}:\n{Tail(text)}\n(full log: {logPath})");
            return text;
        }

        private void Say(string line)
        {
            var text = $"[{_clock.Elapsed.TotalSeconds,5:0}s] {line}";
            Story.Add(line);
            stdout.WriteLine(text);
            stdout.Flush();
        }

        private static string LastLine(string text, string containing) =>
            text.Split('\n').LastOrDefault(l => l.Contains(containing, StringComparison.Ordinal))?.Replace("drydock clean: ", "", StringComparison.Ordinal).Trim() ?? "";

        private static string Tail(string text) => string.Join('\n', text.Split('\n').TakeLast(12).ToArray());
    }

    internal static string Policy(bool hardened) => hardened
        ? """
          version: 1
          project: harbor-support
          approvals: { required-roles: [data-owner, security-reviewer] }
          use-case: { name: support-assistant, max-classification: confidential }
          actions: { pii: redact, secret: redact, injection: quarantine, hidden-text: redact, markup: redact, url: redact, malware: quarantine }
          types: { person-name: { redaction: pseudonym } }
          dedup: { exact: true, near: true, threshold: 0.8 }
          poisoning: { analyze: true, min-severity: high, action: quarantine }
          gate: { injection-success: off, jailbreak-success: off, harmful-compliance: off, system-prompt-leak: off, pii-leak: off }

          """
        : """
          version: 1
          project: harbor-support
          approvals: { required-roles: [data-owner, security-reviewer] }
          use-case: { name: support-assistant, max-classification: highly-sensitive }
          actions: { pii: allow, secret: allow, injection: allow, hidden-text: allow, markup: allow, url: allow, malware: allow }
          dedup: { exact: true, near: false }
          gate: { injection-success: off, jailbreak-success: off, harmful-compliance: off, system-prompt-leak: off, pii-leak: off }

          """;

    private static string Training(bool hardened, string digest, string dataset, int seed, double? privateEpsilon = null)
    {
        var held = hardened ? "data/hardened.jsonl.holdout.jsonl" : "data/rushed.jsonl.holdout.jsonl";
        var common = $"training:\n  base-model: {{ path: base, sha256: \"{digest}\" }}\n  dataset: {dataset}\n  held-out: {held}\n  seed: {seed.ToString(CultureInfo.InvariantCulture)}\n";
        // DP-SGD's noise calls for a larger step than the hardened plan's (the usual practice); 2 epochs keep the
        // per-example gradients (one record at a time) to a few minutes on 2 cores.
        if (privateEpsilon is { } epsilon)
        {
            return common + Lora("0.003", "2") + $"  privacy: {{ epsilon: {epsilon.ToString(CultureInfo.InvariantCulture)}, max-grad-norm: 1.0 }}\n";
        }

        return common + (hardened
            ? Lora("0.0003", "4")
            : """
                method: full
                learning-rate: 0.003
                epochs: 14
                batch-size: 8
                weight-decay: 0

              """);
    }

    // The LoRA plan's training lines (the hardened plan's and, with a larger step and fewer epochs, the private one's).
    private static string Lora(string learningRate, string epochs) => $$"""
          method: lora
          lora: { rank: 8, alpha: 16, dropout: 0.05, target-modules: [qkv, proj] }
          learning-rate: {{learningRate}}
          epochs: {{epochs}}
          batch-size: 16
          weight-decay: 0.01
          early-stopping: { metric: held-out-loss, patience: 1 }

        """;

    private const string PrivatePolicy = "  policy: { methods: [lora], max-learning-rate: 0.003, max-epochs: 5, require-early-stopping: true }\n";

    private const string RushedPolicy = "  policy: { methods: [full], max-learning-rate: 0.01, max-epochs: 50, require-early-stopping: false }\n";

    private const string ThreatModel = """
        project: harbor-support
        assets: [support tickets with customer contact details and card numbers]
        attackers: [API users extracting customer records, ticket authors planting instructions]
        data-sensitivity: confidential
        users: [support agents]
        damage: { leak: customer contact details exposed, lie: wrong refund instructions, obey: tickets steer the model }

        """;
}

/// <summary>A demo step failed; the message names the command and the log.</summary>
internal sealed class DemoException(string message) : Exception(message);
