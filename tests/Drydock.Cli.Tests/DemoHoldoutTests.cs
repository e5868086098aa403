using System.Text;
using Drydock.Cli.Demo;
using Drydock.Datasets;
using Drydock.Evaluation.Privacy;

namespace Drydock.Cli.Tests;

/// <summary>
/// The demo's held-out splits pass the membership evaluation's near-duplicate check: its 600 tickets, canaries
/// planted and cleaned as the demo does (holdout 0.35, seed 1), with the hardened policy (near-duplicate removal on)
/// and with the rushed one (near-duplicate removal off, everything allowed). Clean keeps each near-duplicate family on
/// one side of the split either way, so no held-out ticket is a near-duplicate of a training one.
/// </summary>
public sealed class DemoHoldoutTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drydock-demo-holdout-" + Guid.NewGuid().ToString("N"));

    public DemoHoldoutTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheDemosHeldOutTickets_AreNotNearDuplicatesOfItsTrainingTickets(bool hardened)
    {
        Assert.Equal(0, (await CliRunner.RunIn(_dir, "init")).Exit);
        await File.WriteAllTextAsync(Path.Combine(_dir, "drydock.yaml"), DemoCommand.Policy(hardened: true), TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(_dir, "rushed.yaml"), DemoCommand.Policy(hardened: false), TestContext.Current.CancellationToken);
        DemoData.WriteTickets(Path.Combine(_dir, "tickets.jsonl"), 600, 2026);
        var key = Path.Combine(_dir, "demo.key");
        await File.WriteAllTextAsync(key, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.ASCII.GetBytes("drydock-demo-redaction-key-not-secret"))), TestContext.Current.CancellationToken);
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var plant = await CliRunner.RunIn(_dir, "canary", "plant", "--input", "tickets.jsonl", "--output", "planted.jsonl", "--label", "demo", "--count", "4", "--repeat", "10", "--seed", "3");
        Assert.True(plant.Exit == 0, plant.ToString());
        var output = hardened ? "hardened.jsonl" : "rushed.jsonl";
        string[] policy = hardened ? [] : ["--policy", "rushed.yaml"];
        var clean = await CliRunner.RunIn(_dir, ["clean", "planted.jsonl", .. policy, "--output", output, "--holdout", "0.35", "--seed", "1", "--key-file", key]);
        Assert.True(clean.Exit == 0, clean.ToString());
        var members = DatasetReader.Texts(Path.Combine(_dir, output));
        var nonMembers = DatasetReader.Texts(Path.Combine(_dir, output + ".holdout.jsonl"));
        // About 0.35 of the tickets left after deduplication, less the families dropped as bridges between the sides
        // (tickets carrying one canary's sentence are long, and near copies by the loose edit test when their tickets
        // are variations of one question): 68–72 here, comfortably above the gate's 50 non-members.
        Assert.True(nonMembers.Count >= 60, $"{nonMembers.Count} held-out tickets");
        // The membership evaluation's own input check (what `eval membership --record` runs on these two files).
        var near = NearDuplicates.Find(members, nonMembers);
        Assert.True(near.Count == 0, $"{near.Count} of {nonMembers.Count} held-out tickets are near-duplicates of training tickets: {string.Join(", ", near.Take(5).Select(p => $"{nonMembers[p.NonMember]} ~ {members[p.Member]}"))}");
        if (!hardened)
        {
            // Without near-duplicate removal the families are whole: every ticket not an exact copy is on one side or
            // dropped as a bridge between the sides, each with its ledger line, and the manifest counts each once.
            var manifest = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_dir, output + ".manifest.json"), TestContext.Current.CancellationToken)).RootElement;
            var dispositions = manifest.GetProperty("counts").GetProperty("dispositions");
            long Count(string name) => dispositions.TryGetProperty(name, out var n) ? n.GetInt64() : 0;
            Assert.Equal(0, Count("near-duplicate"));
            var ledger = await File.ReadAllLinesAsync(Path.Combine(_dir, output + ".ledger.jsonl"), TestContext.Current.CancellationToken);
            Assert.Equal(Count("split-conflict"), ledger.Count(l => l.Contains("\"rule\":\"DD-SPLIT-001\"", StringComparison.Ordinal)));
            Assert.Equal(members.Count, Count("kept"));
            Assert.Equal(nonMembers.Count, Count("held-out"));
        }
    }
}
