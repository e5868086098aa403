using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Drydock.Provenance.Audit;
using Drydock.Provenance.Registry;
using Drydock.Provenance.Vault;

namespace Drydock.Bench;

/// <summary>End-to-end figures for the provenance layer: vault throughput, audit verification, registry latency.</summary>
internal static class ProvenanceBench
{
    /// <summary>Encrypts and decrypts a file of SIZE_MB random bytes; sha256sum of the same file is the reference.</summary>
    public static int Vault(string folder, int sizeMb)
    {
        Directory.CreateDirectory(folder);
        var input = Path.Combine(folder, "plain.bin");
        if (!File.Exists(input) || new FileInfo(input).Length != sizeMb * (1L << 20))
        {
            using var file = File.Create(input);
            var block = new byte[1 << 20];
            for (var i = 0; i < sizeMb; i++)
            {
                RandomNumberGenerator.Fill(block);
                file.Write(block);
            }
        }

        var bytes = new FileInfo(input).Length;
        var ring = KeyRing.Open(Path.Combine(folder, "keyring.json"), create: true);
        var vaultDir = Path.Combine(folder, "vault");
        if (Directory.Exists(vaultDir)) Directory.Delete(vaultDir, recursive: true);
        var vault = new ArtifactVault(vaultDir, ring);

        Time("cat > /dev/null (page cache)", bytes, () => Run("sh", "-c", $"cat '{input}' > /dev/null"));
        Time("sha256sum", bytes, () => Run("sha256sum", input));
        Time("dd to disk with fdatasync (disk reference)", bytes, () => Run("dd", $"if={input}", $"of={Path.Combine(folder, "dd.bin")}", "bs=1M", "conv=fdatasync", "status=none"));
        File.Delete(Path.Combine(folder, "dd.bin"));
        var key = RandomNumberGenerator.GetBytes(32);
        Time("encrypt + SHA-256 to /dev/null (crypto only)", bytes, () =>
        {
            using var stream = File.OpenRead(input);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            SegmentedCipher.Encrypt(stream, Stream.Null, key, hash);
        });
        VaultArtifact? artifact = null;
        Time("vault put (encrypt + SHA-256, to disk)", bytes, () => artifact = vault.Put(input, "checkpoint", null, "bench"));
        Time("vault verify (decrypt + SHA-256, no output)", bytes, () => vault.Verify(artifact!.Id));
        var output = Path.Combine(folder, "decrypted.bin");
        Time("vault get (decrypt + authenticate, to disk)", bytes, () => vault.Get(artifact!.Id, output));
        File.Delete(output);
        return 0;
    }

    /// <summary>Builds a SQLite registry whose audit log has ENTRIES entries (approval rows), then verifies it.</summary>
    public static int Audit(string folder, int entries)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"audit-{entries}.db");
        if (!File.Exists(path))
        {
            var build = Stopwatch.StartNew();
            using (var db = RegistryDatabase.Open(path)) Fill(db, entries);
            Console.WriteLine($"built {entries:N0} entries in {build.Elapsed.TotalSeconds:0.0} s ({new FileInfo(path).Length / 1e6:0} MB)");
        }

        using (var db = RegistryDatabase.Open(path))
        {
            var before = Process.GetCurrentProcess().PeakWorkingSet64;
            var watch = Stopwatch.StartNew();
            var result = AuditLog.Verify(db);
            watch.Stop();
            Console.WriteLine($"audit verify: {result.Entries:N0} entries, ok={result.Ok}, {watch.Elapsed.TotalSeconds:0.00} s ({result.Entries / watch.Elapsed.TotalSeconds:N0} entries/s), peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:0} MB (before verify {before / 1e6:0} MB)");
        }

        return 0;
    }

    /// <summary>
    /// Appends ENTRIES audit entries (approval rows, each with its own entry, chained from the log's head) to the registry
    /// at LOCATION (a file path or a PostgreSQL location): a registry the CLI and the gateway then verify as their own.
    /// </summary>
    public static int AuditFill(string location, int entries)
    {
        var build = Stopwatch.StartNew();
        using (var db = RegistryDatabase.Open(location)) Fill(db, entries);
        Console.WriteLine($"appended {entries:N0} entries in {build.Elapsed.TotalSeconds:0.0} s");
        return 0;
    }

    // One transaction; the entries continue the chain from the current head, as drydock would have written them.
    private static void Fill(RegistryDatabase db, int entries)
    {
        var (head, prev) = AuditWitness.Head(db);
        using var transaction = db.BeginWrite();
        using var row = db.Command("INSERT INTO approvals (id, subject_kind, subject_id, role, decision, comment, actor, at, audit_seq) VALUES (@id, @k, @s, @r, @d, @c, @a, @t, @seq)", transaction,
            ("id", ""), ("k", ""), ("s", ""), ("r", ""), ("d", ""), ("c", ""), ("a", ""), ("t", ""), ("seq", 0L));
        using var entry = db.Command("INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) VALUES (@seq, @at, @actor, @action, @subject, @details, @prev, @hash)", transaction,
            ("seq", 0L), ("at", ""), ("actor", ""), ("action", ""), ("subject", ""), ("details", ""), ("prev", ""), ("hash", ""));
        for (var seq = head + 1; seq <= head + entries; seq++)
        {
            var id = $"ap-{seq:x12}";
            var at = RegistryDatabase.Now();
            var actor = $"user{seq % 17}";
            string?[] values = ["dataset", $"ds-{seq % 10_000:x12}", seq % 2 == 0 ? "data-owner" : "security-reviewer", "approve", "ok", actor, at];
            var details = AuditLog.Details(id, values);
            var hash = AuditLog.Hash(prev, seq, at, actor, "dataset.approve", "approvals/" + id, details);
            Set(row, id, values[0], values[1], values[2], values[3], values[4], values[5], values[6], seq);
            row.ExecuteNonQuery();
            Set(entry, seq, at, actor, "dataset.approve", "approvals/" + id, details, prev, hash);
            entry.ExecuteNonQuery();
            prev = hash;
        }

        transaction.Commit();
    }

    /// <summary>Registers DATASETS datasets and MODELS models, timing each, then times lineage queries.</summary>
    public static int Registry(string location, int datasets, int models)
    {
        using var registry = ProvenanceRegistry.Open(location);
        var policy = new ApprovalPolicy(["data-owner", "security-reviewer"], "confidential");
        var random = new Random(7);
        var register = new List<double>();
        var ids = new List<string>();
        for (var i = 0; i < datasets; i++)
        {
            var version = Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i + random.NextInt64())));
            var parent = i > 0 && i % 3 == 0 ? Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i))) : new string('0', 64);
            var json = ManifestJson(version, parent, $"data/source-{i % 50}/**");
            var manifest = DatasetManifest.Parse("bench", System.Text.Encoding.UTF8.GetBytes(json));
            var watch = Stopwatch.StartNew();
            var (record, _) = registry.RegisterDataset(manifest, json, $"dataset-{i}", i > 0 && i % 3 == 0 ? [ids[random.Next(ids.Count)]] : [], null, $"user{i % 5}");
            register.Add(watch.Elapsed.TotalMilliseconds);
            ids.Add(record.Id);
        }

        var modelRegister = new List<double>();
        var modelIds = new List<string>();
        for (var i = 0; i < models; i++)
        {
            var digest = Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(-i - 1 - random.NextInt64())));
            var used = Enumerable.Range(0, 3).Select(_ => ids[random.Next(ids.Count)]).Distinct().ToList();
            var watch = Stopwatch.StartNew();
            modelIds.Add(registry.RegisterModel($"model-{i}", digest, "base", [new ModelFile("adapter.safetensors", digest, 1)], used, null, "trainer").Model.Id);
            modelRegister.Add(watch.Elapsed.TotalMilliseconds);
        }

        var datasetLineage = new List<double>();
        var modelLineage = new List<double>();
        for (var i = 0; i < 500; i++)
        {
            var watch = Stopwatch.StartNew();
            Lineage.Of(registry, ids[random.Next(ids.Count)], policy.RequiredRoles);
            datasetLineage.Add(watch.Elapsed.TotalMilliseconds);
            watch.Restart();
            Lineage.Of(registry, modelIds[random.Next(modelIds.Count)], policy.RequiredRoles);
            modelLineage.Add(watch.Elapsed.TotalMilliseconds);
        }

        var verify = Stopwatch.StartNew();
        var audit = AuditLog.Verify(registry.Database);
        Console.WriteLine($"| {registry.Database.Display.Split('@')[^1]} | {datasets:N0} datasets, {models:N0} models |");
        Report("dataset register", register);
        Report("model register", modelRegister);
        Report("lineage of a dataset", datasetLineage);
        Report("lineage of a model", modelLineage);
        Console.WriteLine($"audit verify: {audit.Entries:N0} entries, ok={audit.Ok}, {verify.Elapsed.TotalSeconds:0.00} s");
        return 0;
    }

    private static string ManifestJson(string version, string input, string source) => $$$"""
        {"datasetVersion":"sha256:{{{version}}}","output":{"file":"clean.jsonl","records":1000,"sha256":"{{{version}}}"},"holdout":null,
         "ledger":{"file":"ledger.jsonl","entries":10,"sha256":"{{{new string('d', 64)}}}"},
         "inputs":[{"file":"in.jsonl","format":"openai-chat","sha256":"{{{input}}}","bytes":1,"records":1000,"source":{"path":"{{{source}}}","classification":"confidential","trust":"trusted","owner":"team"}}],
         "policy":{"hash":"{{{new string('e', 64)}}}","project":"bench","useCase":"support","maxClassification":"confidential"},"counts":{"dispositions":{"kept":1000} } }
        """;

    private static void Report(string what, List<double> ms)
    {
        ms.Sort();
        double P(double q) => ms[Math.Min(ms.Count - 1, (int)(q * ms.Count))];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: n={ms.Count} p50={P(0.50):0.00} ms p99={P(0.99):0.00} ms max={ms[^1]:0.00} ms"));
    }

    private static void Set(System.Data.Common.DbCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i] ?? DBNull.Value;
    }

    private static void Time(string what, long bytes, Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        watch.Stop();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: {watch.Elapsed.TotalSeconds:0.00} s, {bytes / watch.Elapsed.TotalSeconds / 1e9:0.00} GB/s"));
    }

    private static void Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true })!;
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
    }
}
