using Drydock.Provenance.Registry;
using Microsoft.Data.Sqlite;

namespace Drydock.Cli.Tests;

/// <summary><c>drydock gate</c> on recorded evaluations: ship, no-ship with evidence, regression against the base, signed and recorded.</summary>
public sealed class GateCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drydock-gate-" + Guid.NewGuid().ToString("N"));

    public GateCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private Task<(int Exit, string Stdout, string Stderr)> Run(params string[] args) => CliRunner.RunIn(_dir, args);

    [Fact]
    public async Task Gate_ShipsOnlyWhenEveryCheckPasses_AndRecordsASignedDecision()
    {
        Assert.Equal(0, (await Run("init")).Exit);
        string tuned, baseModel;
        using (var registry = ProvenanceRegistry.Open(Path.Combine(_dir, ".drydock", "registry.db")))
        {
            baseModel = registry.RegisterModel("base", new string('b', 64), null, [], [], null, "alice").Model.Id;
            tuned = registry.RegisterModel("tuned", new string('c', 64), baseModel, [], [], null, "alice").Model.Id;
            var rates = new Dictionary<string, double> { ["attack.injection"] = 0.04, ["attack.jailbreak"] = 0.02, ["attack.system-prompt-extraction"] = 0, ["attack.pii-regurgitation"] = 0 };
            registry.RecordEvaluation(tuned, "probes", "http://t/v1 tuned", rates, null, "alice");
            registry.RecordEvaluation(baseModel, "probes", "http://t/v1 base", new Dictionary<string, double>(rates) { ["attack.injection"] = 0.0 }, null, "alice");
        }

        var missing = await Run("gate", "--model", tuned);
        Assert.Equal(1, missing.Exit);
        Assert.Contains("FAIL  membership-auc", missing.Stdout, StringComparison.Ordinal);
        Assert.Contains("NO-SHIP", missing.Stdout, StringComparison.Ordinal);

        await File.AppendAllTextAsync(Path.Combine(_dir, "drydock.yaml"), "\ngate:\n  canary-extraction: off\n  exposure-bits: off\n  membership-auc: off\n  regression-points: 3\n", TestContext.Current.CancellationToken);
        var ship = await Run("gate", "--model", tuned);
        Assert.True(ship.Exit == 0, ship.Stdout + ship.Stderr);
        Assert.Contains("SHIP", ship.Stdout, StringComparison.Ordinal);
        Assert.Contains("signed", ship.Stdout, StringComparison.Ordinal);

        var regressed = await Run("gate", "--model", tuned, "--base-model", baseModel, "--format", "json");
        Assert.Equal(1, regressed.Exit);
        Assert.Contains("\"decision\": \"no-ship\"", regressed.Stdout, StringComparison.Ordinal);
        Assert.Contains("regression attack.injection", regressed.Stdout, StringComparison.Ordinal);

        using var check = ProvenanceRegistry.Open(Path.Combine(_dir, ".drydock", "registry.db"));
        var decisions = check.GateDecisions(tuned);
        Assert.Equal(["no-ship", "ship", "no-ship"], decisions.Select(d => d.Decision));
        Assert.All(decisions, d => Assert.Contains("release-gate", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(
            System.Text.Json.JsonDocument.Parse(d.Envelope!).RootElement.GetProperty("payload").GetString()!)), StringComparison.Ordinal));
        Assert.Equal(0, (await Run("audit", "verify")).Exit);
        Assert.Equal(2, (await Run("gate", "--model", "mv-none")).Exit);
    }
}
