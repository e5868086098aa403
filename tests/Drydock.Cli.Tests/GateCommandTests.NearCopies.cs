using System.Text.Json.Nodes;
using Drydock.Evaluation.Tests;

namespace Drydock.Cli.Tests;

/// <summary>`eval membership` refuses partial copies (a member's prompt alone) and accepts clean's own held-out file.</summary>
public sealed partial class GateCommandTests
{
    private static readonly string[] s_ticketWords = ["refund", "parcel", "invoice", "courier", "address", "password", "account", "printer", "laptop", "warranty",
        "battery", "screen", "router", "billing", "coupon", "monday", "friday", "broken", "late", "missing", "charged", "twice", "upgrade", "mobile"];

    // N words of a support ticket, drawn with RANDOM.
    private static string TicketWords(Random random, int n) => string.Join(' ', Enumerable.Range(0, n).Select(_ => s_ticketWords[random.Next(s_ticketWords.Length)]));

    [Fact]
    public async Task Membership_RefusesAMembersPromptAlone_AndAcceptsCleansOwnHeldOutFile()
    {
        await Project(MembershipOnly);
        var random = new Random(5);
        string Words(int n) => TicketWords(random, n);
        await File.WriteAllLinesAsync(Path.Combine(_dir, "tickets.jsonl"), Enumerable.Range(0, 150).Select(_ =>
            new JsonObject { ["prompt"] = Words(12), ["completion"] = Words(12) }.ToJsonString()), TestContext.Current.CancellationToken);
        await Ok("clean", "tickets.jsonl", "--output", "tickets-clean.jsonl", "--holdout", "0.3");
        var dataset = DatasetId().Match((await Ok("dataset", "register", "tickets-clean.jsonl.manifest.json")).Stdout).Groups[1].Value;
        var model = await RegisterModel("model6", "--dataset", dataset);
        await using var server = await Serving("model6");

        var own = await Run("eval", "membership", "--target", server.BaseUrl, "--model", "forgetter", "--members", "tickets-clean.jsonl", "--non-members", "tickets-clean.jsonl.holdout.jsonl", "--record", model);
        Assert.True(own.Exit == 0, own.ToString());

        // A training record's prompt on its own (an empty completion: about half of the record's shingles): a partial copy, refused.
        var member = JsonNode.Parse((await File.ReadAllLinesAsync(Path.Combine(_dir, "tickets-clean.jsonl"), TestContext.Current.CancellationToken))[3])!;
        var heldOut = await File.ReadAllLinesAsync(Path.Combine(_dir, "tickets-clean.jsonl.holdout.jsonl"), TestContext.Current.CancellationToken);
        await File.WriteAllLinesAsync(Path.Combine(_dir, "partial.jsonl"), [.. heldOut, new JsonObject { ["prompt"] = (string?)member["prompt"], ["completion"] = "" }.ToJsonString()], TestContext.Current.CancellationToken);
        var sent = server.Requests;
        var partial = await Run("eval", "membership", "--target", server.BaseUrl, "--model", "forgetter", "--members", "tickets-clean.jsonl", "--non-members", "partial.jsonl", "--record", model);
        Assert.True(partial.Exit == 2, partial.ToString());
        Assert.Contains($"1 of {heldOut.Length + 1} records are near-duplicates of records in --members tickets-clean.jsonl", partial.Stderr, StringComparison.Ordinal);
        Assert.Contains($"#{heldOut.Length + 1} ~ member #4", partial.Stderr, StringComparison.Ordinal);
        Assert.Equal(sent, server.Requests);
    }
}
