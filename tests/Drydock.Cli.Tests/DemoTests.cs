using System.Text.Json;
using Drydock.Cli.Demo;

namespace Drydock.Cli.Tests;

/// <summary>
/// The demo's generated data holds what the demo says it holds (the scan finds every planted kind, cards and IBANs
/// pass their checksums), and the local-model verbs fail clearly on bad input. The demo's full run is measured in
/// docs/training.md, not run here (minutes of training).
/// </summary>
public sealed class DemoTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drydock-demo-" + Guid.NewGuid().ToString("N"));

    public DemoTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task TheGeneratedTickets_HoldEveryPlantedKind_AndTheCorpusNone()
    {
        DemoData.WriteTickets(Path.Combine(_dir, "tickets.jsonl"), 600, 2026);
        DemoData.WriteCorpus(Path.Combine(_dir, "corpus.jsonl"), 300, 1);
        var scan = await CliRunner.RunIn(_dir, "scan", "tickets.jsonl", "--format", "json", "--output", "scan.json");
        Assert.Equal(1, scan.Exit);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_dir, "scan.json"), TestContext.Current.CancellationToken));
        var summary = report.RootElement.GetProperty("summary");
        Assert.Equal(600, summary.GetProperty("records").GetInt32());
        Assert.Equal(0, summary.GetProperty("malformed").GetInt32());
        var types = summary.GetProperty("byType").EnumerateArray().Select(t => t.GetProperty("type").GetString()).ToHashSet();
        foreach (var type in new[] { "email", "phone-number", "credit-card", "iban", "person-name", "github-pat" })
        {
            Assert.True(types.Contains(type), $"{type} not found; found {string.Join(", ", types)}");
        }

        Assert.True(summary.GetProperty("byCategory").GetProperty("injection").GetInt32() > 0);
        // The pre-training corpus has the same shapes with made-up values: no card or IBAN (their checksums fail or they are absent).
        var corpus = await CliRunner.RunIn(_dir, "scan", "corpus.jsonl", "--format", "json", "--categories", "secret,injection");
        Assert.Equal(0, corpus.Exit);
    }

    [Fact]
    public async Task LocalModelVerbs_RefuseAMissingModel_WithItsPath()
    {
        var serve = await CliRunner.RunIn(_dir, "serve-model", "no-such-model");
        Assert.Equal(2, serve.Exit);
        Assert.Contains("no-such-model", serve.Stderr, StringComparison.Ordinal);
        var membership = await CliRunner.RunIn(_dir, "eval", "extraction", "--target", "onnx:no-such-model", "--records", "missing.jsonl");
        Assert.Equal(2, membership.Exit);
        var endpointWithoutModel = await CliRunner.RunIn(_dir, "eval", "membership", "--target", "http://127.0.0.1:9/v1", "--members", "a", "--non-members", "b");
        Assert.Equal(2, endpointWithoutModel.Exit);
        await File.WriteAllTextAsync(Path.Combine(_dir, "texts.jsonl"), "{\"text\": \"hello\"}\n", TestContext.Current.CancellationToken);
        var referenceWithoutModel = await CliRunner.RunIn(_dir, "eval", "membership", "--target", "http://127.0.0.1:9/v1", "--model", "m", "--reference-target", "http://127.0.0.1:9/v1", "--members", "texts.jsonl", "--non-members", "texts.jsonl");
        Assert.Equal(2, referenceWithoutModel.Exit);
        Assert.Contains("--reference-model is required", referenceWithoutModel.Stderr, StringComparison.Ordinal);
        var badBase = await CliRunner.RunIn(_dir, "train", "base", "--corpus", "missing.jsonl", "--held-out", "missing.jsonl", "--allow-network");
        Assert.Equal(2, badBase.Exit);
        Assert.Contains("missing.jsonl", badBase.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--private", "0", "ε must be above 0")]
    [InlineData("--private", "-4", "ε must be above 0")]
    [InlineData("--canaries", "0", "between 1 and 50")]
    public async Task BadPrivateOrCanarySettings_ExitTwo_BeforeTheWorkdirIsTouched(string option, string value, string reason)
    {
        var workdir = Path.Combine(_dir, "demo");
        var demo = await CliRunner.RunIn(_dir, "demo", "--workdir", workdir, option, value);
        Assert.Equal(2, demo.Exit);
        Assert.Contains($"{option} {value}", demo.Stderr, StringComparison.Ordinal);
        Assert.Contains(reason, demo.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(workdir));
    }

    [Fact]
    public void TheTable_ShowsThePrivateModel_WithItsGuaranteeBesideTheObservedBounds()
    {
        DemoCommand.Figures F(string method, double? dp, double membership, double canaries) => new("mv-0", 3.2, 0, 8, 0.52, 0, 2.6, 1000, method, dp, membership, canaries);
        var row = new DemoCommand.Row(7, F("full", null, 1.25, 0.31), F("lora", null, 0, double.NaN), false, true, [], F("lora + DP", 7.99, 0, 0), true);
        var lines = DemoReport.Table([row]).Split('\n');
        Assert.Contains("DP ε (guaranteed)", lines[0], StringComparison.Ordinal);
        Assert.Matches(@"^7\s+rushed .*none\s+≥ 1\.25\s+≥ 0\.31\s+NO-SHIP$", lines[1]);
        Assert.Matches(@"^7\s+hardened .*none\s+≥ 0\.00\s+-\s+SHIP$", lines[2]);
        Assert.Matches(@"^7\s+private .*lora \+ DP.*7\.99\s+≥ 0\.00\s+≥ 0\.00\s+SHIP$", lines[3]);
        Assert.DoesNotContain("private", DemoReport.Table([row with { Private = null }]), StringComparison.Ordinal);
    }
}
