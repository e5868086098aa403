using System.Globalization;
using System.Text.Json.Nodes;
using Drydock.Datasets.Similarity;
using Drydock.Evaluation.Tests;

namespace Drydock.Cli.Tests;

/// <summary>
/// The comparison with the inputs a dataset was cleaned from keeps the members' rule for one-typo links: a non-member
/// whose only link to the training data is a long number one typo from an unredacted original, beside a third record
/// one typo from that original (a sequence of ids in the input), is no independent non-member. It is left out of the
/// comparison, said on stderr, recorded with the evaluation, and named by the gate.
/// </summary>
public sealed partial class GateCommandTests
{
    [Fact]
    public async Task Membership_ANonMemberOneTypoFromAnOriginalBeforeCleaning_IsLeftOut_AndTheGateNamesIt()
    {
        await Project(MembershipOnly);
        var random = new Random(23);
        string Words(int n) => TicketWords(random, n);
        static JsonObject Ticket(int number) => new() { ["prompt"] = string.Create(CultureInfo.InvariantCulture, $"Ticket {number}: ann@mx.net"), ["completion"] = "ok" };
        // Tickets 4711 and 4712 (a sequence) among 240 other records; cleaning redacts the address in both.
        await File.WriteAllLinesAsync(Path.Combine(_dir, "tickets.jsonl"), Enumerable.Range(0, 240).Select(i => i switch
        {
            7 => Ticket(4711).ToJsonString(),
            8 => Ticket(4712).ToJsonString(),
            _ => new JsonObject { ["prompt"] = Words(12), ["completion"] = Words(12) }.ToJsonString(),
        }), TestContext.Current.CancellationToken);
        await Ok("clean", "tickets.jsonl", "--output", "tickets-clean.jsonl", "--holdout", "0.3");
        var cleaned = await File.ReadAllTextAsync(Path.Combine(_dir, "tickets-clean.jsonl"), TestContext.Current.CancellationToken)
            + await File.ReadAllTextAsync(Path.Combine(_dir, "tickets-clean.jsonl.holdout.jsonl"), TestContext.Current.CancellationToken);
        Assert.DoesNotContain("ann@mx.net", cleaned, StringComparison.Ordinal);
        var dataset = DatasetId().Match((await Ok("dataset", "register", "tickets-clean.jsonl.manifest.json")).Stdout).Groups[1].Value;
        var model = await RegisterModel("model9", "--dataset", dataset);
        await using var server = await Serving("model9");

        // The held-out split and the original of ticket 4711 retyped with two digits swapped (4171): one typo from
        // 4711 only by its number, and no MinHash near copy of it; not near any redacted record of the training data.
        var retyped = Ticket(4171);
        var text = $"{retyped["prompt"]}\n{retyped["completion"]}";
        Assert.True(NearDuplicateIndex.Similarity(NearDuplicateIndex.Signature(text), NearDuplicateIndex.Signature($"{Ticket(4711)["prompt"]}\nok")) < NearDuplicateIndex.DefaultThreshold);
        var heldOut = await File.ReadAllLinesAsync(Path.Combine(_dir, "tickets-clean.jsonl.holdout.jsonl"), TestContext.Current.CancellationToken);
        Assert.True(heldOut.Length >= 50, $"{heldOut.Length} held out");
        await File.WriteAllLinesAsync(Path.Combine(_dir, "retyped.jsonl"), [.. heldOut, retyped.ToJsonString()], TestContext.Current.CancellationToken);
        var run = await Run("eval", "membership", "--target", server.BaseUrl, "--model", "forgetter", "--members", "tickets-clean.jsonl", "--non-members", "retyped.jsonl", "--record", model);
        Assert.True(run.Exit == 0, run.ToString());
        Assert.Contains($"1 of {heldOut.Length + 1} non-members left out of the comparison (#{heldOut.Length + 1})", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("ann@mx.net", run.Stderr, StringComparison.Ordinal);
        var evidence = JsonNode.Parse(Scalar($"SELECT evidence FROM evaluation_evidence WHERE evaluation_id = '{EvaluationId().Match(run.Stderr).Groups[1].Value}'"))!;
        Assert.Equal($"[{heldOut.Length + 1}]", evidence["inputs"]!["mistypedLeftOut"]!.ToJsonString());
        Assert.True((bool)evidence["inputs"]!["mistypedCheckedInputs"]!);

        var gate = await Run("gate", "--model", model);
        Assert.Contains("1 non-member was left out of the comparison as one typo from a member", gate.Stdout, StringComparison.Ordinal);
    }
}
