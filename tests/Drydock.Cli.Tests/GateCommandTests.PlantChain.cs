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
        Directory.CreateDirectory(Path.Combine(_dir, "model4"));
        await File.WriteAllTextAsync(Path.Combine(_dir, "model4", "weights.bin"), Guid.NewGuid().ToString(), TestContext.Current.CancellationToken);
        var model = ModelId().Match((await Ok("model", "register", "model4", "--dataset", dataset)).Stdout).Value;
        await using var server = await ScriptedModel.StartAsync();
        server.Digest = Provenance.Registry.ModelDigest.Of(Path.Combine(_dir, "model4")).Digest;

        // 'tickets' went into planted.jsonl, which 'once' was planted into: the chain leads to the dataset's input.
        var tickets = await Run("eval", "memorization", "--target", server.BaseUrl, "--model", "memorizer", "--canaries", "tickets", "--candidates", "100", "--samples", "0", "--record", model);
        Assert.True(tickets.Exit == 0, tickets.ToString());
        Assert.Contains($"against {model}", tickets.Stderr, StringComparison.Ordinal);
        var once = await Run("eval", "memorization", "--target", server.BaseUrl, "--model", "memorizer", "--canaries", "once", "--candidates", "100", "--samples", "0", "--record", model);
        Assert.True(once.Exit == 0, once.ToString());
    }
}
