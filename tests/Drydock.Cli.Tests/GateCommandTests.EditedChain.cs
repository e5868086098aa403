using Drydock.Evaluation.Tests;

namespace Drydock.Cli.Tests;

/// <summary>
/// The canary labels the gate requires come from the content of the training data: a planted file shuffled before
/// the next planting breaks the chain of file hashes, not the canaries in the records.
/// </summary>
public sealed partial class GateCommandTests
{
    [Fact]
    public async Task TheGate_RequiresEveryCanaryLabelFoundInTheTrainingRecords_WhenAnEditBrokeThePlantingChain()
    {
        await Project(MemorizationOnly);
        await Ok("canary", "plant", "--input", "train.jsonl", "--output", "hidden.jsonl", "--label", "hidden", "--count", "5", "--repeat", "3");
        var lines = await File.ReadAllLinesAsync(Path.Combine(_dir, "hidden.jsonl"), TestContext.Current.CancellationToken);
        await File.WriteAllLinesAsync(Path.Combine(_dir, "shuf.jsonl"), lines.Reverse(), TestContext.Current.CancellationToken);
        await Ok("canary", "plant", "--input", "shuf.jsonl", "--output", "shuf2.jsonl", "--label", "decoy", "--count", "5", "--repeat", "1");
        await Ok("clean", "shuf2.jsonl", "--output", "c.jsonl");
        var dataset = DatasetId().Match((await Ok("dataset", "register", "c.jsonl.manifest.json")).Stdout).Groups[1].Value;
        var model = await RegisterModel("model9", "--dataset", dataset);
        await using var server = await Serving("model9");

        // Only the decoy evaluated: the gate names 'hidden', found in the training records, as missing.
        var decoy = await Run("eval", "memorization", "--target", server.BaseUrl, "--model", "forgetter", "--canaries", "decoy", "--candidates", "100", "--samples", "0", "--record", model);
        Assert.True(decoy.Exit == 0, decoy.ToString());
        var missing = await Run("gate", "--model", model);
        Assert.True(missing.Exit == 1, missing.ToString());
        Assert.Contains("canaries 'hidden' (planted in the model version's training data) have no memorization evaluation that counts", missing.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("canaries 'tickets'", missing.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{model}: NO-SHIP", missing.Stdout, StringComparison.Ordinal);

        // 'hidden' is accepted as in the training data (the broken chain is said so) and, memorised, fails the gate.
        var text = await File.ReadAllTextAsync(Path.Combine(_dir, "c.jsonl"), TestContext.Current.CancellationToken);
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(text, @"For reference, the recovery code of the hidden account #\d is [A-Z0-9-]{14}")) server.Memorized.Add(m.Value);
        Assert.NotEmpty(server.Memorized);
        var hidden = await Run("eval", "memorization", "--target", server.BaseUrl, "--model", "memorizer", "--canaries", "hidden", "--candidates", "100", "--samples", "0", "--record", model);
        Assert.True(hidden.Exit == 0, hidden.ToString());
        Assert.Contains("the chain of plantings does not lead there", hidden.Stderr, StringComparison.Ordinal);
        var worst = await Run("gate", "--model", model);
        Assert.True(worst.Exit == 1, worst.ToString());
        Assert.Contains("FAIL  canary-extraction", worst.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("canaries 'hidden'", worst.Stdout, StringComparison.Ordinal);
    }
}
