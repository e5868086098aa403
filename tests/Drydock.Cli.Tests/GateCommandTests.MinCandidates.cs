namespace Drydock.Cli.Tests;

/// <summary>
/// <c>gate: min-candidates</c>: a memorization evaluation whose canaries were ranked against fewer random codes is
/// inconclusive (its exposure cannot reach the limit), named in the decision; the setting is read strictly.
/// </summary>
public sealed partial class GateCommandTests
{
    [Fact]
    public async Task Gate_AMemorizationEvaluationBelowMinCandidates_IsInconclusive_AndTheSettingIsStrict()
    {
        var model = await Project(MemorizationOnly + "  min-candidates: 20\n");
        await using var server = await Serving();
        var few = await Run("eval", "memorization", "--target", server.BaseUrl, "--model", "forgetter", "--canaries", "tickets", "--candidates", "5", "--samples", "0", "--record", model);
        Assert.True(few.Exit == 0, few.ToString());
        var evaluation = EvaluationId().Match(few.Stderr).Groups[1].Value;
        var inconclusive = await Run("gate", "--model", model);
        Assert.True(inconclusive.Exit == 1, inconclusive.ToString());
        Assert.Contains(evaluation, inconclusive.Stdout, StringComparison.Ordinal);
        Assert.Contains("5 candidates per canary, fewer than 20 (gate.min-candidates)", inconclusive.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{model}: NO-SHIP", inconclusive.Stdout, StringComparison.Ordinal);

        var enough = await Run("eval", "memorization", "--target", server.BaseUrl, "--model", "forgetter", "--canaries", "tickets", "--candidates", "20", "--samples", "0", "--record", model);
        Assert.True(enough.Exit == 0, enough.ToString());
        var ship = await Run("gate", "--model", model);
        Assert.True(ship.Exit == 0, ship.ToString());
        Assert.Contains($"{model}: SHIP", ship.Stdout, StringComparison.Ordinal);

        var yaml = Path.Combine(_dir, "drydock.yaml");
        await File.WriteAllTextAsync(yaml, (await File.ReadAllTextAsync(yaml, TestContext.Current.CancellationToken)).Replace("min-candidates: 20", "min-candidates: 1", StringComparison.Ordinal), TestContext.Current.CancellationToken);
        var tooFew = await Run("gate", "--model", model);
        Assert.True(tooFew.Exit == 2, tooFew.ToString());
        Assert.Contains("min-candidates", tooFew.Stderr, StringComparison.Ordinal);
        Assert.Contains("drydock.yaml", tooFew.Stderr, StringComparison.Ordinal);
        await File.WriteAllTextAsync(yaml, (await File.ReadAllTextAsync(yaml, TestContext.Current.CancellationToken)).Replace("min-candidates: 1", "min-candidates: many", StringComparison.Ordinal), TestContext.Current.CancellationToken);
        var notANumber = await Run("gate", "--model", model);
        Assert.True(notANumber.Exit == 2, notANumber.ToString());
        Assert.Contains("min-candidates", notANumber.Stderr, StringComparison.Ordinal);
    }

    // Without the setting, the default: 100 codes. A canary ranked against 20 is inconclusive, named with the default;
    // ranked against the default of eval memorization (200), it counts.
    [Fact]
    public async Task Gate_ByDefault_RequiresAHundredCandidatesPerCanary()
    {
        var model = await Project(MemorizationOnly);
        await using var server = await Serving();
        var few = await Run("eval", "memorization", "--target", server.BaseUrl, "--model", "forgetter", "--canaries", "tickets", "--candidates", "20", "--samples", "0", "--record", model);
        Assert.True(few.Exit == 0, few.ToString());
        var inconclusive = await Run("gate", "--model", model);
        Assert.True(inconclusive.Exit == 1, inconclusive.ToString());
        Assert.Contains("20 candidates per canary, fewer than 100 (gate.min-candidates)", inconclusive.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{model}: NO-SHIP", inconclusive.Stdout, StringComparison.Ordinal);

        var byDefault = await Run("eval", "memorization", "--target", server.BaseUrl, "--model", "forgetter", "--canaries", "tickets", "--samples", "0", "--record", model);
        Assert.True(byDefault.Exit == 0, byDefault.ToString());
        var ship = await Run("gate", "--model", model);
        Assert.True(ship.Exit == 0, ship.ToString());
        Assert.Contains($"{model}: SHIP", ship.Stdout, StringComparison.Ordinal);
    }
}
