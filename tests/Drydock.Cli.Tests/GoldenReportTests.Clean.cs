using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Drydock.Cli.Tests;

/// <summary>
/// Golden files for <c>drydock clean</c>'s outputs (cleaned dataset, held-out file, quarantine, ledger, manifest) on the
/// bundled sample and the golden inputs, with a fixed redaction key: only the temporary folder and the tool's version
/// are masked, so every hash, pseudonym and count must stay byte-identical.
/// </summary>
public sealed partial class GoldenReportTests
{
    private const string GoldenKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    private const string CleanPolicy = """
        version: 1
        project: golden
        use-case: { name: support, max-classification: confidential }
        sources:
          - path: vendor/**
            classification: internal
            trust: untrusted
            owner: vendor-team
        types:
          person-name: { redaction: pseudonym }
          email: { redaction: fake }
          phone-number: { redaction: pseudonym }
        poisoning: { analyze: true, min-severity: high, action: quarantine }
        """;

    [Fact]
    public Task Clean_BundledSample_StarterPolicy_MatchesApprovedOutputs() => GoldenClean(policy: null, async () =>
    {
        await Ok("init");
        await Ok("clean", "tickets.jsonl", "--output", "clean.jsonl");
        await ApproveClean("tickets", "clean.jsonl", holdout: false);
    });

    [Fact]
    public Task Clean_SourcesReviewSplitAndSelection_MatchApprovedOutputs() => GoldenClean(CleanPolicy, async () =>
    {
        Directory.CreateDirectory(Path.Combine(_dir, "vendor"));
        File.Move(Path.Combine(_dir, "tickets.jsonl"), Path.Combine(_dir, "vendor", "tickets.jsonl"));
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Golden", "clean-mixed.jsonl"), Path.Combine(_dir, "mixed.jsonl"));

        // A reviewer rejects one kept record and releases the quarantined instruction override.
        var lines = await File.ReadAllLinesAsync(Path.Combine(_dir, "mixed.jsonl"), TestContext.Current.CancellationToken);
        string Sha(string id) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(lines.Single(l => l.StartsWith($"{{\"id\": \"{id}\"", StringComparison.Ordinal)))));
        Directory.CreateDirectory(Path.Combine(_dir, ".drydock", "review"));
        await File.WriteAllTextAsync(Path.Combine(_dir, ".drydock", "review", "ledger.jsonl"),
            $"{{\"recordSha256\": \"{Sha("m-010")}\", \"reviewer\": \"carol\", \"decision\": \"reject\", \"note\": \"off topic\"}}\n" +
            $"{{\"recordSha256\": \"{Sha("m-133")}\", \"reviewer\": \"carol\", \"decision\": \"approve\"}}\n", TestContext.Current.CancellationToken);

        await Ok("clean", "mixed.jsonl", "vendor/tickets.jsonl", "--output", "mixed-clean.jsonl", "--holdout", "0.25", "--keep", "40", "--seed", "5", "--allow-malformed", "--threads", "2");
        await ApproveClean("mixed", "mixed-clean.jsonl", holdout: true);
    });

    [Fact]
    public Task Clean_CsvAndPoisoning_MatchApprovedOutputs() => GoldenClean(CleanPolicy, async () =>
    {
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Golden", "clean-contacts.csv"), Path.Combine(_dir, "contacts.csv"));
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Golden", "poisoned.jsonl"), Path.Combine(_dir, "poisoned.jsonl"));
        var csv = await CliRunner.RunIn(_dir, "clean", "contacts.csv", "--output", "contacts-clean.csv");
        Assert.True(csv.Exit == 2, csv.Stderr); // the row with five columns is malformed
        Assert.Contains("contacts.csv:6: malformed", csv.Stderr, StringComparison.Ordinal);
        await Ok("clean", "contacts.csv", "--output", "contacts-clean.csv", "--allow-malformed");
        await ApproveClean("contacts", "contacts-clean.csv", holdout: false);

        await Ok("clean", "poisoned.jsonl", "--output", "poisoned-clean.jsonl");
        var ledger = await File.ReadAllTextAsync(Path.Combine(_dir, "poisoned-clean.jsonl.ledger.jsonl"), TestContext.Current.CancellationToken);
        Assert.Contains("\"category\":\"poisoning\"", ledger, StringComparison.Ordinal);
        // The manifest holds the SHA-256 of every output; the ledger shows the poisoning entries.
        await ApproveCleanFile("poisoned.clean.manifest.json", "poisoned-clean.jsonl.manifest.json");
        await ApproveCleanFile("poisoned.clean.ledger.jsonl", "poisoned-clean.jsonl.ledger.jsonl");
    });

    [Fact]
    public Task Clean_JsonArrayAndSemicolonCsv_MatchApprovedOutputs() => GoldenClean(CleanPolicy, async () =>
    {
        // A JSON array is written back as an array (nested and oddly named fields rewritten in place, numbers and key
        // order kept); a CSV with another delimiter keeps it (a cell is quoted for the delimiter, not for a comma).
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Golden", "clean-array.json"), Path.Combine(_dir, "array.json"));
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Golden", "clean-semicolon.csv"), Path.Combine(_dir, "semicolon.csv"));
        await Ok("clean", "array.json", "--output", "array-clean.json");
        await ApproveClean("array", "array-clean.json", holdout: false);
        await Ok("clean", "semicolon.csv", "--output", "semicolon-clean.csv", "--holdout", "0.25", "--seed", "3");
        await ApproveClean("semicolon", "semicolon-clean.csv", holdout: true);
    });

    // One golden clean: the fixed redaction key for the run, and POLICY as drydock.yaml when given (else the test
    // writes its own with init).
    private async Task GoldenClean(string? policy, Func<Task> run)
    {
        Environment.SetEnvironmentVariable("DRYDOCK_REDACTION_KEY", GoldenKey);
        try
        {
            if (policy is not null) await File.WriteAllTextAsync(Path.Combine(_dir, "drydock.yaml"), policy, TestContext.Current.CancellationToken);
            await run();
        }
        finally
        {
            Environment.SetEnvironmentVariable("DRYDOCK_REDACTION_KEY", null);
        }
    }

    private async Task ApproveClean(string name, string output, bool holdout)
    {
        var extension = Path.GetExtension(output);
        await ApproveCleanFile($"{name}.clean{extension}", output);
        await ApproveCleanFile($"{name}.clean.quarantine.jsonl", output + ".quarantine.jsonl");
        await ApproveCleanFile($"{name}.clean.ledger.jsonl", output + ".ledger.jsonl");
        await ApproveCleanFile($"{name}.clean.manifest.json", output + ".manifest.json");
        if (holdout) await ApproveCleanFile($"{name}.clean.holdout.jsonl", output + ".holdout.jsonl");
    }

    // Byte for byte, but for the temporary folder and the tool's version (the manifest's only run-dependent parts).
    private async Task ApproveCleanFile(string name, string file)
    {
        var actual = await File.ReadAllTextAsync(Path.Combine(_dir, file), TestContext.Current.CancellationToken);
        var masked = ToolVersion().Replace(actual.Replace(_dir, "<dir>", StringComparison.Ordinal), "\"name\": \"drydock\",${space}\"version\": \"<version>\"");
        var path = Path.Combine(CliRunner.SourceDirectory(), "Golden", name);
        if (Environment.GetEnvironmentVariable("DRYDOCK_APPROVE") == "1") await File.WriteAllTextAsync(path, masked, TestContext.Current.CancellationToken);
        Assert.Equal(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken), masked);
    }

    [GeneratedRegex("\"name\": \"drydock\",(?<space>\\s*)\"version\": \"[^\"]*\"")]
    private static partial Regex ToolVersion();
}
