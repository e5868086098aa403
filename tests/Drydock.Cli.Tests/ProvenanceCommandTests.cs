using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Drydock.Cli.Tests;

/// <summary>The provenance verbs end to end, in a project folder of their own, as two people would use them.</summary>
public sealed class ProvenanceCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drydock-provenance-" + Guid.NewGuid().ToString("N"));

    public ProvenanceCommandTests()
    {
        Directory.CreateDirectory(_dir);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "samples", "support-tickets.jsonl"), Path.Combine(_dir, "tickets.jsonl"));
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("DRYDOCK_ACTOR", null);
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> As(string actor, string dir, params string[] args)
    {
        Environment.SetEnvironmentVariable("DRYDOCK_ACTOR", actor);
        return await CliRunner.RunIn(dir, args);
    }

    private async Task<string> RegisterCleanedSample()
    {
        Assert.Equal(0, (await As("alice", _dir, "init")).Exit);
        Assert.Equal(0, (await As("alice", _dir, "clean", "tickets.jsonl", "--output", "clean.jsonl")).Exit);
        var registered = await As("alice", _dir, "dataset", "register", "clean.jsonl.manifest.json");
        Assert.True(registered.Exit == 0, registered.Stderr);
        return registered.Stdout.Split(' ')[0];
    }

    private async Task ApproveThreatModel()
    {
        Assert.Equal(0, (await As("carol", _dir, "threat-model", "init")).Exit);
        var refused = await As("carol", _dir, "threat-model", "approve");
        Assert.Equal(2, refused.Exit);
        Assert.Contains("threat-model.yaml:", refused.Stderr, StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(_dir, "threat-model.yaml"), """
            project: default
            assets: [support tickets]
            attackers: [API users extracting records]
            data-sensitivity: confidential
            users: [support agents]
            damage: { leak: emails exposed, lie: wrong refunds, obey: tickets steer the model }
            """, TestContext.Current.CancellationToken);
        Assert.Equal(0, (await As("carol", _dir, "threat-model", "approve", "--comment", "reviewed")).Exit);
    }

    [Fact]
    public async Task TrainPlan_ListsEveryFailedRule_ThenRecordsASignedPlan()
    {
        var id = await RegisterCleanedSample();
        Directory.CreateDirectory(Path.Combine(_dir, "base"));
        await File.WriteAllTextAsync(Path.Combine(_dir, "base", "model.onnx"), "weights", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(_dir, "holdout.jsonl"), "{\"prompt\":\"q\",\"completion\":\"a\"}\n", TestContext.Current.CancellationToken);
        var policy = await File.ReadAllTextAsync(Path.Combine(_dir, "drydock.yaml"), TestContext.Current.CancellationToken);
        async Task Plan(string training) => await File.WriteAllTextAsync(Path.Combine(_dir, "drydock.yaml"), policy + "\ntraining:\n" + training, TestContext.Current.CancellationToken);

        await Plan($$"""
              base-model: { path: base, sha256: "{{new string('0', 64)}}" }
              dataset: {{id}}
              method: full
              learning-rate: 0.001
              epochs: 20
            """);
        var rushed = await As("alice", _dir, "train", "plan");
        Assert.Equal(1, rushed.Exit);
        foreach (var rule in new[] { "method-allowed", "learning-rate", "epochs", "early-stopping", "held-out-set", "dataset-approved", "threat-model-approved", "base-model-hash" })
        {
            Assert.Contains($"FAIL  {rule}", rushed.Stdout, StringComparison.Ordinal);
        }

        await ApproveThreatModel();
        Assert.Equal(0, (await As("alice", _dir, "approve", "dataset", id, "--role", "data-owner", "--decision", "approve")).Exit);
        Assert.Equal(0, (await As("bob", _dir, "approve", "dataset", id, "--role", "security-reviewer", "--decision", "approve")).Exit);
        var digest = Provenance.Registry.ModelDigest.Of(Path.Combine(_dir, "base")).Digest;
        await Plan($$"""
              base-model: { path: base, sha256: "{{digest}}" }
              dataset: {{id}}
              held-out: holdout.jsonl
              method: lora
              lora: { rank: 8, alpha: 16, dropout: 0.05, target-modules: [q_proj, v_proj] }
              learning-rate: 0.0002
              epochs: 3
              early-stopping: { metric: held-out-loss, patience: 2 }
              seed: 7
            """);
        var hardened = await As("alice", _dir, "train", "plan");
        Assert.True(hardened.Exit == 0, hardened.Stdout + hardened.Stderr);
        Assert.DoesNotContain("FAIL", hardened.Stdout, StringComparison.Ordinal);
        Assert.Matches("tp-[0-9a-f]{12} recorded: lora on " + id, hardened.Stdout);
        Assert.Contains("already recorded", (await As("alice", _dir, "train", "plan")).Stdout, StringComparison.Ordinal);
        Assert.Contains("training.plan", (await As("alice", _dir, "audit", "log")).Stdout, StringComparison.Ordinal);

        // A base model changed after pinning is refused.
        await File.WriteAllTextAsync(Path.Combine(_dir, "base", "model.onnx"), "other weights", TestContext.Current.CancellationToken);
        var changed = await As("alice", _dir, "train", "plan");
        Assert.Equal(1, changed.Exit);
        Assert.Contains("FAIL  base-model-hash", changed.Stdout, StringComparison.Ordinal);

        await Plan("  base-model: { path: base }\n  dataset: x\n");
        var bad = await As("alice", _dir, "train", "plan");
        Assert.Equal(2, bad.Exit);
        Assert.Contains("training.base-model.sha256: is required", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainRun_RunsAnExternalTrainerIsolated_RecordsASignedModelVersion_AndRefusesAChangedDataset()
    {
        var id = await RegisterCleanedSample();
        await ApproveThreatModel();
        Assert.Equal(0, (await As("alice", _dir, "approve", "dataset", id, "--role", "data-owner", "--decision", "approve")).Exit);
        Assert.Equal(0, (await As("bob", _dir, "approve", "dataset", id, "--role", "security-reviewer", "--decision", "approve")).Exit);
        Directory.CreateDirectory(Path.Combine(_dir, "base"));
        await File.WriteAllTextAsync(Path.Combine(_dir, "base", "weights.bin"), "base weights", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(_dir, "holdout.jsonl"), "{\"prompt\":\"q\",\"completion\":\"a\"}\n", TestContext.Current.CancellationToken);
        var policy = await File.ReadAllTextAsync(Path.Combine(_dir, "drydock.yaml"), TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(_dir, "drydock.yaml"), policy + $$"""

            training:
              base-model: { path: base, sha256: "{{Provenance.Registry.ModelDigest.Of(Path.Combine(_dir, "base")).Digest}}" }
              dataset: {{id}}
              held-out: holdout.jsonl
              method: lora
              learning-rate: 0.0002
              epochs: 2
              early-stopping: { metric: held-out-loss, patience: 1 }
            """, TestContext.Current.CancellationToken);

        // The "trainer": reads its inputs, leaks a token into its log, writes a model and metrics.
        const string Token = "ghp_R8x2Lq9ZtW4mN7vB3kP6sY1cH5jD0fGa2QeU";
        var trainer = $"sh -c 'wc -l < {{train}}; echo using {Token}; echo weights > {{output}}/model.bin; echo \"{{\\\"heldOutLoss\\\": 1.5}}\" > {{output}}/metrics.json'";
        var run = await As("alice", _dir, "train", "run", "--trainer", "command", "--command", trainer, "--allow-network", "--output", "models/lora-1");
        Assert.True(run.Exit == 0, run.Stdout + run.Stderr);
        Assert.Matches(@"mv-[0-9a-f]{12} registered: .* from tp-[0-9a-f]{12}", run.Stdout);
        Assert.Contains("held-out loss 1.5", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 secret(s) masked in the log", run.Stdout, StringComparison.Ordinal);
        Assert.Equal("weights\n", await File.ReadAllTextAsync(Path.Combine(_dir, "models", "lora-1", "model.bin"), TestContext.Current.CancellationToken));
        var envelope = await File.ReadAllTextAsync(Path.Combine(_dir, "models", "lora-1.dsse.json"), TestContext.Current.CancellationToken);
        var statement = JsonDocument.Parse(Convert.FromBase64String(JsonDocument.Parse(envelope).RootElement.GetProperty("payload").GetString()!)).RootElement;
        var runRecord = statement.GetProperty("predicate").GetProperty("run");
        Assert.StartsWith("tp-", runRecord.GetProperty("plan").GetString(), StringComparison.Ordinal);
        Assert.Contains("PATH", runRecord.GetProperty("environment").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(1.5, runRecord.GetProperty("metrics").GetProperty("heldOutLoss").GetDouble());

        // The log went to the vault with the token masked.
        var logId = runRecord.GetProperty("log").GetString()!;
        var log = Path.Combine(_dir, "trainer.log");
        Assert.Equal(0, (await As("alice", _dir, "vault", "get", logId, "--output", log)).Exit);
        var logText = await File.ReadAllTextAsync(log, TestContext.Current.CancellationToken);
        Assert.Contains("using [", logText, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, logText, StringComparison.Ordinal);

        // A dataset file changed after registration is refused before anything runs.
        await File.AppendAllTextAsync(Path.Combine(_dir, "clean.jsonl"), "{\"prompt\":\"x\",\"completion\":\"y\"}\n", TestContext.Current.CancellationToken);
        var changed = await As("alice", _dir, "train", "run", "--trainer", "command", "--command", "true", "--allow-network");
        Assert.Equal(2, changed.Exit);
        Assert.Contains("not to " + id, changed.Stderr, StringComparison.Ordinal);

        var unquoted = await As("alice", _dir, "train", "run", "--trainer", "command", "--command", "sh -c 'oops", "--allow-network");
        Assert.Equal(2, unquoted.Exit);
        Assert.Contains("unclosed", unquoted.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_Approve_Lineage_Verify_AndAudit()
    {
        var id = await RegisterCleanedSample();
        Assert.StartsWith("ds-", id, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir, "clean.jsonl.manifest.json.dsse.json")));
        Assert.Contains("already registered", (await As("alice", _dir, "dataset", "register", "clean.jsonl.manifest.json")).Stdout, StringComparison.Ordinal);

        var gated = await As("bob", _dir, "approve", "dataset", id, "--role", "data-owner", "--decision", "approve");
        Assert.Equal(1, gated.Exit);
        Assert.Contains("threat-model:", gated.Stderr, StringComparison.Ordinal);

        await ApproveThreatModel();
        Assert.Equal(0, (await As("alice", _dir, "approve", "dataset", id, "--role", "data-owner", "--decision", "approve")).Exit);
        var second = await As("bob", _dir, "approve", "dataset", id, "--role", "security-reviewer", "--decision", "approve", "--comment", "ledger read");
        Assert.Equal(0, second.Exit);
        Assert.Contains("is approved", second.Stdout, StringComparison.Ordinal);

        Directory.CreateDirectory(Path.Combine(_dir, "adapter"));
        await File.WriteAllTextAsync(Path.Combine(_dir, "adapter", "adapter_config.json"), "{\"r\": 8}", TestContext.Current.CancellationToken);
        var model = await As("alice", _dir, "model", "register", "adapter", "--dataset", id, "--base-model", "tiny-base@sha256:00");
        Assert.True(model.Exit == 0, model.Stderr);
        var modelId = model.Stdout.Split(' ')[0];

        var lineage = await As("alice", _dir, "lineage", modelId, "--format", "json");
        using (var tree = JsonDocument.Parse(lineage.Stdout))
        {
            Assert.Equal("model", tree.RootElement.GetProperty("kind").GetString());
            var dataset = tree.RootElement.GetProperty("children")[0];
            Assert.Equal(id, dataset.GetProperty("id").GetString());
            Assert.Equal("approved", dataset.GetProperty("status").GetString());
            Assert.Contains(dataset.GetProperty("children").EnumerateArray(), c => c.GetProperty("kind").GetString() == "ledger");
        }

        Assert.Contains("└─ model " + modelId, (await As("alice", _dir, "lineage", id)).Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await As("alice", _dir, "verify", "clean.jsonl.manifest.json")).Exit);
        Assert.Equal(0, (await As("alice", _dir, "verify", "adapter.dsse.json")).Exit);

        var show = await As("alice", _dir, "dataset", "show", id, "--format", "json");
        using (var doc = JsonDocument.Parse(show.Stdout))
        {
            Assert.Equal("approved", doc.RootElement.GetProperty("status").GetString());
            Assert.Equal(2, doc.RootElement.GetProperty("approvals").GetArrayLength());
        }

        var verified = await As("alice", _dir, "audit", "verify");
        Assert.Equal(0, verified.Exit);
        var log = await As("alice", _dir, "audit", "log", "--actor", "bob", "--format", "json");
        using (var entries = JsonDocument.Parse(log.Stdout))
        {
            var entry = Assert.Single(entries.RootElement.EnumerateArray());
            Assert.Equal("dataset.approve", entry.GetProperty("action").GetString());
        }

        // Tamper with the SQLite file directly: verify names the entry and exits 1.
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_dir, ".drydock", "registry.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE approvals SET role = 'security-reviewer', actor = 'alice' WHERE actor = 'bob'";
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        var tampered = await As("alice", _dir, "audit", "verify");
        Assert.Equal(1, tampered.Exit);
        Assert.Contains("row edited outside drydock", tampered.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_FailsWhenTheDatasetChangesAfterSigning()
    {
        await RegisterCleanedSample();
        await File.AppendAllTextAsync(Path.Combine(_dir, "clean.jsonl"), "{\"messages\":[]}\n", TestContext.Current.CancellationToken);
        var result = await As("alice", _dir, "verify", "clean.jsonl.manifest.json.dsse.json");
        Assert.Equal(1, result.Exit);
        Assert.Contains("'clean.jsonl' does not match its digest", result.Stderr, StringComparison.Ordinal);

        var reRegister = await As("alice", _dir, "dataset", "register", "clean.jsonl.manifest.json");
        Assert.Equal(2, reRegister.Exit); // the output no longer matches its manifest
    }

    [Fact]
    public async Task BadManifest_NamesFileAndField()
    {
        Assert.Equal(0, (await As("alice", _dir, "init")).Exit);
        await File.WriteAllTextAsync(Path.Combine(_dir, "m.json"), "{\"datasetVersion\": \"sha256:abc\"}", TestContext.Current.CancellationToken);
        var result = await As("alice", _dir, "dataset", "register", "m.json");
        Assert.Equal(2, result.Exit);
        Assert.Contains("m.json: field datasetVersion", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Vault_PutGetRotateVerify_AndTamperedArtifactsGiveNoPlaintext()
    {
        Assert.Equal(0, (await As("alice", _dir, "init")).Exit);
        var put = await As("alice", _dir, "vault", "put", "tickets.jsonl", "--kind", "dataset");
        Assert.True(put.Exit == 0, put.Stderr);
        var id = put.Stdout.Split(' ')[0];
        Assert.Equal(0, (await As("alice", _dir, "vault", "get", id[..12], "-o", "back.jsonl")).Exit);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_dir, "tickets.jsonl"), TestContext.Current.CancellationToken), await File.ReadAllBytesAsync(Path.Combine(_dir, "back.jsonl"), TestContext.Current.CancellationToken));

        var rotated = await As("alice", _dir, "vault", "rotate");
        Assert.Equal(0, rotated.Exit);
        Assert.Contains("1 data keys re-wrapped", rotated.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await As("alice", _dir, "vault", "verify")).Exit);
        Assert.Contains("dataset", (await As("alice", _dir, "vault", "list")).Stdout, StringComparison.Ordinal);

        var cipher = Path.Combine(_dir, ".drydock", "vault", id + ".ddv");
        var bytes = await File.ReadAllBytesAsync(cipher, TestContext.Current.CancellationToken);
        bytes[^20] ^= 1;
        await File.WriteAllBytesAsync(cipher, bytes, TestContext.Current.CancellationToken);
        var get = await As("alice", _dir, "vault", "get", id, "-o", "tampered.jsonl");
        Assert.Equal(1, get.Exit);
        Assert.Contains("failed authentication", get.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "tampered.jsonl")));
        Assert.Equal(1, (await As("alice", _dir, "vault", "verify")).Exit);
    }
}
