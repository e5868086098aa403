using Drydock.Evaluation.Tests;

namespace Drydock.Cli.Tests;

/// <summary>A model version fine-tuned from a registered base was trained on the base's training data too.</summary>
public sealed partial class GateCommandTests
{
    [Fact]
    public async Task ABaseModelsTrainingData_IsInTheLineage_ForNonMembersAndCanaryLabels()
    {
        // mv-B trained on ds-A (clean.jsonl, canaries 'tickets'); mv-C trained on ds-B (no canaries) from base mv-B.
        var baseModel = await Project(MemorizationOnly);
        await File.WriteAllTextAsync(Path.Combine(_dir, "b.jsonl"), string.Concat(Enumerable.Range(0, 120).Select(i =>
            $$"""{"prompt":"shipping note {{i}} for parcel {{i * 11}}","completion":"parcel {{i * 11}} left the depot on day {{i}}"}""" + "\n")), TestContext.Current.CancellationToken);
        await Ok("clean", "b.jsonl", "--output", "b-clean.jsonl");
        var datasetB = DatasetId().Match((await Ok("dataset", "register", "b-clean.jsonl.manifest.json")).Stdout).Groups[1].Value;
        var child = await RegisterModel("child", "--dataset", datasetB, "--base-model", baseModel);
        await using var server = await Serving("child");

        // The base's own training records are not non-members of the child.
        var membership = await Run("eval", "membership", "--target", server.BaseUrl, "--model", "forgetter", "--members", "b-clean.jsonl", "--non-members", "clean.jsonl", "--record", child);
        Assert.True(membership.Exit == 2, membership.ToString());
        Assert.Contains($"a dataset in {child}'s lineage", membership.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, server.Requests);

        // The canaries planted in the base's training data need a memorization evaluation of the child.
        var gate = await Run("gate", "--model", child);
        Assert.True(gate.Exit == 1, gate.ToString());
        Assert.True(gate.Stdout.Contains("FAIL  canary-extraction", StringComparison.Ordinal), gate.ToString());
        var tickets = await Run("eval", "memorization", "--target", server.BaseUrl, "--model", "forgetter", "--canaries", "tickets", "--candidates", "100", "--samples", "0", "--record", child);
        Assert.True(tickets.Exit == 0, tickets.ToString());
        var ship = await Run("gate", "--model", child);
        Assert.True(ship.Exit == 0, ship.ToString());
        Assert.Contains($"{child}: SHIP", ship.Stdout, StringComparison.Ordinal);
    }
}
