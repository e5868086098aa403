using System.Text.Json.Nodes;
using Drydock.Evaluation.Tests;

namespace Drydock.Cli.Tests;

/// <summary>
/// A non-member that is a member retyped with its long number mistyped is no independent non-member, whatever third
/// record stands beside it: with a decoy one typo from the member, both are near copies of it, the non-members are
/// refused (exit 2, naming them) and the gate has no membership evaluation to ship on.
/// </summary>
public sealed partial class GateCommandTests
{
    [Fact]
    public async Task Membership_AMistypedCopyOfAMemberBesideADecoy_IsRefused_AndTheGateDoesNotShip()
    {
        await Project(MembershipOnly);
        var random = new Random(11);
        string Words(int n) => TicketWords(random, n);
        const string Ticket = "Please cancel ticket {0} today, it was opened twice by mistake";
        await File.WriteAllLinesAsync(Path.Combine(_dir, "tickets.jsonl"), Enumerable.Range(0, 240).Select(i => i == 7
            ? new JsonObject { ["prompt"] = string.Format(System.Globalization.CultureInfo.InvariantCulture, Ticket, 4711), ["completion"] = "It is cancelled and the refund is on its way" }.ToJsonString()
            : new JsonObject { ["prompt"] = Words(12), ["completion"] = Words(12) }.ToJsonString()), TestContext.Current.CancellationToken);
        // The split follows the records' keyed hashes, so which side the ticket lands on depends on the project's key:
        // the seed is moved on until it is a member (seven times in ten at each try).
        string[] members;
        for (var seed = 0; ; seed++)
        {
            await Ok("clean", "tickets.jsonl", "--output", "tickets-clean.jsonl", "--holdout", "0.3", "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
            members = await File.ReadAllLinesAsync(Path.Combine(_dir, "tickets-clean.jsonl"), TestContext.Current.CancellationToken);
            if (members.Any(l => l.Contains("ticket 4711", StringComparison.Ordinal))) break;
            Assert.True(seed < 20, "the ticket was held out with 20 seeds");
        }

        var dataset = DatasetId().Match((await Ok("dataset", "register", "tickets-clean.jsonl.manifest.json")).Stdout).Groups[1].Value;
        var model = await RegisterModel("model7", "--dataset", dataset);
        await using var server = await Serving("model7");

        // The held-out split, then the member retyped with 4711 → 4751 (a swap of two digits, 4171, is a near copy by the typo test and refused) and a decoy with 4712 (one typo from the member).
        var heldOut = await File.ReadAllLinesAsync(Path.Combine(_dir, "tickets-clean.jsonl.holdout.jsonl"), TestContext.Current.CancellationToken);
        Assert.True(heldOut.Length >= 50, $"{heldOut.Length} held out");
        string Retyped(int number) => new JsonObject { ["prompt"] = string.Format(System.Globalization.CultureInfo.InvariantCulture, Ticket, number), ["completion"] = "It is cancelled and the refund is on its way" }.ToJsonString();
        await File.WriteAllLinesAsync(Path.Combine(_dir, "decoy.jsonl"), [.. heldOut, Retyped(4751), Retyped(4712)], TestContext.Current.CancellationToken);
        var run = await Run("eval", "membership", "--target", server.BaseUrl, "--model", "forgetter", "--members", "tickets-clean.jsonl", "--non-members", "decoy.jsonl", "--record", model);
        // Both retyped tickets are now near copies of the member by themselves (a typo is a character apart), so the
        // non-members are refused outright rather than left out; either way they never count as independent non-members.
        // Records that are only mistyped links (a sequence, a copy with a decoy) are left out: MistypedPairMembershipTests.
        Assert.True(run.Exit == 2, run.ToString());
        Assert.Contains($"#{heldOut.Length + 1} ~ member #", run.Stderr, StringComparison.Ordinal);
        Assert.Contains($"#{heldOut.Length + 2} ~ member #", run.Stderr, StringComparison.Ordinal);

        // Nothing was recorded, so the gate has no membership evaluation to ship on.
        var gate = await Run("gate", "--model", model);
        Assert.NotEqual(0, gate.Exit);
    }
}
