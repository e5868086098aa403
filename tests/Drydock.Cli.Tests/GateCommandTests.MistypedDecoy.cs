using System.Text.Json.Nodes;
using Drydock.Evaluation.Tests;

namespace Drydock.Cli.Tests;

/// <summary>
/// A non-member that is a member retyped with its long number mistyped is no independent non-member, whatever third
/// record stands beside it: with a decoy one typo from the member, the pair does not count as a near copy, so the
/// two are left out of the comparison, said on stderr, recorded, and named in the gate's decision.
/// </summary>
public sealed partial class GateCommandTests
{
    [Fact]
    public async Task Membership_AMistypedCopyOfAMemberBesideADecoy_IsLeftOut_AndTheGateSaysSo()
    {
        await Project(MembershipOnly);
        var random = new Random(11);
        string Words(int n) => string.Join(' ', Enumerable.Range(0, n).Select(_ => s_ticketWords[random.Next(s_ticketWords.Length)]));
        const string Ticket = "Please cancel ticket {0} today, it was opened twice by mistake";
        await File.WriteAllLinesAsync(Path.Combine(_dir, "tickets.jsonl"), Enumerable.Range(0, 240).Select(i => i == 7
            ? new JsonObject { ["prompt"] = string.Format(System.Globalization.CultureInfo.InvariantCulture, Ticket, 4711), ["completion"] = "It is cancelled and the refund is on its way" }.ToJsonString()
            : new JsonObject { ["prompt"] = Words(12), ["completion"] = Words(12) }.ToJsonString()), TestContext.Current.CancellationToken);
        await Ok("clean", "tickets.jsonl", "--output", "tickets-clean.jsonl", "--holdout", "0.3");
        var members = await File.ReadAllLinesAsync(Path.Combine(_dir, "tickets-clean.jsonl"), TestContext.Current.CancellationToken);
        Assert.Contains(members, l => l.Contains("ticket 4711", StringComparison.Ordinal));
        var dataset = DatasetId().Match((await Ok("dataset", "register", "tickets-clean.jsonl.manifest.json")).Stdout).Groups[1].Value;
        Directory.CreateDirectory(Path.Combine(_dir, "model7"));
        await File.WriteAllTextAsync(Path.Combine(_dir, "model7", "weights.bin"), Guid.NewGuid().ToString(), TestContext.Current.CancellationToken);
        var model = ModelId().Match((await Ok("model", "register", "model7", "--dataset", dataset)).Stdout).Value;
        await using var server = await ScriptedModel.StartAsync();
        server.Digest = Provenance.Registry.ModelDigest.Of(Path.Combine(_dir, "model7")).Digest;

        // The held-out split, then the member retyped with 4711 → 4171 and a decoy with 4712 (one typo from the member).
        var heldOut = await File.ReadAllLinesAsync(Path.Combine(_dir, "tickets-clean.jsonl.holdout.jsonl"), TestContext.Current.CancellationToken);
        Assert.True(heldOut.Length >= 50, $"{heldOut.Length} held out");
        string Retyped(int number) => new JsonObject { ["prompt"] = string.Format(System.Globalization.CultureInfo.InvariantCulture, Ticket, number), ["completion"] = "It is cancelled and the refund is on its way" }.ToJsonString();
        await File.WriteAllLinesAsync(Path.Combine(_dir, "decoy.jsonl"), [.. heldOut, Retyped(4171), Retyped(4712)], TestContext.Current.CancellationToken);
        var run = await Run("eval", "membership", "--target", server.BaseUrl, "--model", "forgetter", "--members", "tickets-clean.jsonl", "--non-members", "decoy.jsonl", "--record", model);
        Assert.True(run.Exit == 0, run.ToString());
        Assert.Contains($"2 of {heldOut.Length + 2} non-members left out of the comparison (#{heldOut.Length + 1}, #{heldOut.Length + 2})", run.Stderr, StringComparison.Ordinal);
        Assert.Contains($"on {members.Length} members and {heldOut.Length} non-members", run.Stdout, StringComparison.Ordinal);

        var gate = await Run("gate", "--model", model);
        Assert.Contains(EvaluationId().Match(run.Stderr).Groups[1].Value, gate.Stdout, StringComparison.Ordinal);
        Assert.Contains("2 non-members were left out of the comparison as one typo from a member", gate.Stdout, StringComparison.Ordinal);
    }
}
