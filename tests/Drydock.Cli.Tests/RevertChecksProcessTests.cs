using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace Drydock.Cli.Tests;

/// <summary>
/// What serving a version again checks, through the built CLI in separate processes: <c>deploy ALIAS --enable</c> and
/// <c>incident contain --revert</c> hold the actor to separation of duties on the version that ends up served (not on
/// <c>--model</c>, which --enable ignores), and a revert needs the regurgitation tripwire index of the version it
/// reverts to, as deploy built it (missing, changed or another version's: refused, exit 2, noted on the incident).
/// </summary>
public sealed class RevertChecksProcessTests : IDisposable
{
    private readonly ActorProject _project = new();
    private string _first = null!;
    private string _second = null!;

    public void Dispose() => _project.Dispose();

    private string Registry => _project.Registry;

    private Task<ProcessResult> As(string? actor, params string[] args) => _project.As(actor, args);

    private static void Ok(ProcessResult result) => ActorProject.Ok(result);

    private static void Refused(ProcessResult result, params string[] expected)
    {
        Assert.True(result.Exit == 2, result.ToString());
        foreach (var text in expected) Assert.Contains(text, result.Stderr, StringComparison.Ordinal);
    }

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private async Task Deployed() => (_first, _second) = await DeployTwoVersions(_project.Dir.Path, (actor, args) => As(actor, args));

    // A project whose gateway tier blocks regurgitation; two approved versions trained on one dataset: the first
    // registered by alice, the second by erin; 'support' deployed with the first, then the second (each index built).
    internal static async Task<(string First, string Second)> DeployTwoVersions(string dir, Func<string?, string[], Task<ProcessResult>> run)
    {
        await File.WriteAllTextAsync(Path.Combine(dir, "drydock.yaml"), "gateway:\n  tiers:\n    strict:\n      regurgitation: block\n", TestContext.Current.CancellationToken);
        var train = new StringBuilder();
        for (var i = 0; i < 4; i++) train.Append(JsonSerializer.Serialize(new { id = "r" + i, text = $"record {i} says qzx{i}vlm wprt{i}kk bnd{i}ou trq{i}ee lkj{i}hh mmn{i}pp" })).Append('\n');
        var trainPath = Path.Combine(dir, "train.jsonl");
        await File.WriteAllTextAsync(trainPath, train.ToString(), TestContext.Current.CancellationToken);
        var ledgerPath = Path.Combine(dir, "train.ledger.jsonl");
        await File.WriteAllTextAsync(ledgerPath, "", TestContext.Current.CancellationToken);
        var policy = new ApprovalPolicy(["data-owner", "security-reviewer"], "confidential");
        string first, second;
        using (var registry = ProvenanceRegistry.Open(Path.Combine(dir, ".drydock", "registry.db")))
        {
            var json = $$$"""
                {"datasetVersion":"sha256:{{{Sha(trainPath)}}}","output":{"file":"train.jsonl","records":4},"ledger":{"file":"train.ledger.jsonl","sha256":"{{{Sha(ledgerPath)}}}"},
                 "policy":{"project":"support","useCase":"default","maxClassification":"confidential"},
                 "inputs":[{"file":"raw.jsonl","sha256":"{{{new string('a', 64)}}}","records":4,"source":{"path":"raw.jsonl","classification":"internal","trust":"internal"}}]}
                """;
            var dataset = registry.RegisterDataset(DatasetManifest.Parse("manifest", Encoding.UTF8.GetBytes(json)), json, "tickets", [], null, "dana").Dataset;
            var threat = registry.RegisterThreatModel("support", "project: support\nassets: [tickets]\n", "carol");
            registry.Approve("threat-model", threat.Id, "security-reviewer", "approve", null, "carol", policy);
            registry.Approve("dataset", dataset.Id, "data-owner", "approve", null, "olga", policy);
            registry.Approve("dataset", dataset.Id, "security-reviewer", "approve", null, "carol", policy);
            first = registry.RegisterModel("large-1", new string('2', 64), null, [], [dataset.Id], null, "alice").Model.Id;
            second = registry.RegisterModel("large-2", new string('3', 64), null, [], [dataset.Id], null, "erin").Model.Id;
            foreach (var model in new[] { first, second })
            {
                registry.Approve("model", model, "data-owner", "approve", null, "olga", policy);
                registry.Approve("model", model, "security-reviewer", "approve", null, "carol", policy);
            }
        }

        SqliteConnection.ClearAllPools();
        Ok(await run(null, ["deploy", "support", "--model", first]));
        Ok(await run(null, ["deploy", "support", "--model", second]));
        return (first, second);
    }

    private (string? Model, bool Enabled, List<IncidentEvent> Notes) Now()
    {
        using var registry = ProvenanceRegistry.Open(Registry);
        var state = registry.Deployment("support")!;
        var notes = registry.Incidents().SelectMany(t => t).Where(e => e.Action == "note").ToList();
        SqliteConnection.ClearAllPools();
        return (state.ModelId, state.Enabled, notes);
    }

    [Fact]
    public async Task EnableAndRevert_CheckSeparationOfDuties_OnTheVersionThatEndsUpServed()
    {
        await Deployed();
        Ok(await As(null, "actor", "bootstrap", "root", "--expires", "30d", "--reason", "first admin"));
        await File.AppendAllTextAsync(Path.Combine(_project.Dir.Path, "drydock.yaml"), "access: required\n", TestContext.Current.CancellationToken);
        Ok(await As("root", "actor", "create", "alice", "--role", "incident-responder", "--role", "release-manager", "--expires", "30d", "--reason", "on call"));
        Ok(await As("root", "actor", "create", "bob", "--role", "incident-responder", "--expires", "30d", "--reason", "on call"));

        // Reverting to the version alice registered is releasing it: refused for her, allowed for bob.
        Refused(await As("alice", "incident", "contain", "--model", "support", "--revert"), $"separation of duties: alice registered model {_first}");
        Assert.Equal(_second, Now().Model);
        Ok(await As("bob", "incident", "contain", "--model", "support", "--revert"));
        Assert.Equal(_first, Now().Model);

        // Serving it again after the kill switch: the version served is alice's, whatever --model names.
        Ok(await As("bob", "incident", "contain", "--model", "support"));
        Refused(await As("alice", "deploy", "support", "--enable"), $"separation of duties: alice registered model {_first}");
        Refused(await As("alice", "deploy", "support", "--enable", "--model", _second), $"separation of duties: alice registered model {_first}");
        Assert.False(Now().Enabled);
        Ok(await As("bob", "deploy", "support", "--enable"));
        Assert.True(Now().Enabled);

        using var db = new SqliteConnection($"Data Source={Registry};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var query = db.CreateCommand();
        query.CommandText = "SELECT count(*) FROM access_decisions WHERE decision = 'refused' AND actor = 'alice' AND reason LIKE 'separation of duties%'";
        Assert.Equal(3L, (long)query.ExecuteScalar()!);
    }

    [Fact]
    public async Task ARevert_NeedsTheTripwireIndexOfTheVersionItRevertsTo_AsDeployBuiltIt()
    {
        await Deployed();
        var index = Path.Combine(_project.Dir.Path, ".drydock", "tripwire", _first + ".idx");
        var good = await File.ReadAllBytesAsync(index, TestContext.Current.CancellationToken);

        File.Delete(index);
        Refused(await As(null, "incident", "contain", "--model", "support", "--revert"), "revert refused", $"recorded for {_first}", "is missing");
        Assert.Equal(_second, Now().Model);

        var changed = (byte[])good.Clone();
        changed[^1] ^= 1;
        await File.WriteAllBytesAsync(index, changed, TestContext.Current.CancellationToken);
        Refused(await As(null, "incident", "contain", "--model", "support", "--revert"), "revert refused", "does not match the SHA-256");
        Assert.Equal(_second, Now().Model);

        // The record names the other version's index (a good file, with its true SHA-256).
        await File.WriteAllBytesAsync(index, good, TestContext.Current.CancellationToken);
        TripwireIndexRecord recorded;
        using (var registry = ProvenanceRegistry.Open(Registry))
        {
            recorded = registry.TripwireIndex(_first)!;
            registry.RecordTripwireIndex(_first, "support", "tripwire/" + _second + ".idx", Sha(Path.Combine(_project.Dir.Path, ".drydock", "tripwire", _second + ".idx")), recorded.Records, recorded.Datasets, "all", "mallory");
        }

        SqliteConnection.ClearAllPools();
        Refused(await As(null, "incident", "contain", "--model", "support", "--revert"), "revert refused", $"built for model version {_second}, not {_first}");
        var (model, enabled, notes) = Now();
        Assert.Equal(_second, model);
        Assert.True(enabled);
        Assert.Equal(3, notes.Count(n => n.Note!.Contains($"revert of model:support to {_first} refused", StringComparison.Ordinal)));

        // Put back as deploy recorded it, the revert goes through.
        using (var registry = ProvenanceRegistry.Open(Registry))
        {
            registry.RecordTripwireIndex(_first, "support", recorded.File, recorded.Sha256, recorded.Records, recorded.Datasets, recorded.Selection, "root");
        }

        SqliteConnection.ClearAllPools();
        Ok(await As(null, "incident", "contain", "--model", "support", "--revert"));
        Assert.Equal(_first, Now().Model);
    }
}
