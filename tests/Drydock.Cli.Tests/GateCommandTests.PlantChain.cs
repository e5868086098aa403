using Drydock.Evaluation.Tests;

namespace Drydock.Cli.Tests;

/// <summary>Canaries planted along a chain of plantings (planted.jsonl → planted2.jsonl) are found through the lineage.</summary>
public sealed partial class GateCommandTests
{
    [Fact]
    public async Task Memorization_WalksThePlantChain_ThroughTheLineage()
    {
        await Project(MembershipOnly);
        await Ok("canary", "plant", "--input", "planted.jsonl", "--output", "planted2.jsonl", "--label", "once", "--count", "1");
        await Ok("clean", "planted2.jsonl", "--output", "clean2.jsonl");
        var dataset = DatasetId().Match((await Ok("dataset", "register", "clean2.jsonl.manifest.json")).Stdout).Groups[1].Value;
        var model = await RegisterModel("model4", "--dataset", dataset);
        await using var server = await Serving("model4");

        // 'tickets' went into planted.jsonl, which 'once' was planted into: the chain leads to the dataset's input.
        var tickets = await Run("eval", "memorization", "--target", server.BaseUrl, "--model", "memorizer", "--canaries", "tickets", "--candidates", "100", "--samples", "0", "--record", model);
        Assert.True(tickets.Exit == 0, tickets.ToString());
        Assert.Contains($"against {model}", tickets.Stderr, StringComparison.Ordinal);
        var once = await Run("eval", "memorization", "--target", server.BaseUrl, "--model", "memorizer", "--canaries", "once", "--candidates", "100", "--samples", "0", "--record", model);
        Assert.True(once.Exit == 0, once.ToString());
    }
}
