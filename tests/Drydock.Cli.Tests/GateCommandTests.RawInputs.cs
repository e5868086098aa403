using System.Text.Json.Nodes;
using Drydock.Evaluation.Tests;

namespace Drydock.Cli.Tests;

/// <summary>
/// `eval membership` compares the non-members with the inputs each lineage dataset was cleaned from, as they were
/// before cleaning: a training record's unredacted original is refused; an input missing or changed is said so on
/// stderr and in the recorded evaluation.
/// </summary>
public sealed partial class GateCommandTests
{
    [Fact]
    public async Task Membership_ComparesNonMembersWithTheInputsBeforeCleaning_AndSaysWhenOneIsMissingOrChanged()
    {
        await Project(MembershipOnly);
        var random = new Random(31);
        string[] names = ["maria", "john", "wei", "fatima", "olga", "pedro", "amina", "kenji"];
        var raw = Enumerable.Range(0, 150).Select(i =>
        {
            var name = names[random.Next(names.Length)] + random.Next(100, 999).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return new JsonObject
            {
                ["prompt"] = $"{LongWords(random, 8)}: write to {name}@mail-example.net or call +1 415 555 {random.Next(1000, 9999)}",
                ["completion"] = $"noted, {name}@mail-example.net",
            };
        }).ToList();
        await File.WriteAllLinesAsync(Path.Combine(_dir, "contacts.jsonl"), raw.Select(r => r.ToJsonString()), TestContext.Current.CancellationToken);
        await Ok("clean", "contacts.jsonl", "--output", "contacts-clean.jsonl", "--holdout", "0.3");
        var dataset = DatasetId().Match((await Ok("dataset", "register", "contacts-clean.jsonl.manifest.json")).Stdout).Groups[1].Value;
        var model = await RegisterModel("model8", "--dataset", dataset);
        await using var server = await Serving("model8");

        // The training data holds redacted records only; the original of one of them, among the held-out records.
        var cleaned = await File.ReadAllTextAsync(Path.Combine(_dir, "contacts-clean.jsonl"), TestContext.Current.CancellationToken);
        Assert.DoesNotContain("@mail-example.net", cleaned, StringComparison.Ordinal);
        var original = raw.First(r => cleaned.Contains(((string)r["prompt"]!).Split(':')[0], StringComparison.Ordinal));
        var heldOut = await File.ReadAllLinesAsync(Path.Combine(_dir, "contacts-clean.jsonl.holdout.jsonl"), TestContext.Current.CancellationToken);
        await File.WriteAllLinesAsync(Path.Combine(_dir, "originals.jsonl"), [.. heldOut, original.ToJsonString()], TestContext.Current.CancellationToken);
        string[] membership = ["eval", "membership", "--target", server.BaseUrl, "--model", "forgetter", "--members", "contacts-clean.jsonl", "--record", model, "--non-members"];
        var refused = await Run([.. membership, "originals.jsonl"]);
        Assert.True(refused.Exit == 2, refused.ToString());
        Assert.Contains($"--non-members originals.jsonl: 1 of {heldOut.Length + 1} records are records of contacts.jsonl (sha256:", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains($"an input {dataset} was cleaned from", refused.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("mail-example", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, server.Requests);

        // Clean's own held-out file: compared, recorded as compared.
        var own = await Run([.. membership, "contacts-clean.jsonl.holdout.jsonl"]);
        Assert.True(own.Exit == 0, own.ToString());
        Assert.DoesNotContain("was cleaned from", own.Stderr, StringComparison.Ordinal);
        Assert.Contains("\"status\":\"compared\"", Scalar($"SELECT evidence FROM evaluation_evidence WHERE evaluation_id = '{EvaluationId().Match(own.Stderr).Groups[1].Value}'"), StringComparison.Ordinal);

        // The input moved away, then replaced by other content: not compared, and said so, on stderr and in the evaluation.
        File.Move(Path.Combine(_dir, "contacts.jsonl"), Path.Combine(_dir, "contacts.moved"));
        foreach (var (status, said) in new[] { ("missing", "is missing"), ("changed", "is changed since cleaning") })
        {
            if (status == "changed") await File.WriteAllTextAsync(Path.Combine(_dir, "contacts.jsonl"), raw[0].ToJsonString() + "\n", TestContext.Current.CancellationToken);
            var notCompared = await Run([.. membership, "contacts-clean.jsonl.holdout.jsonl"]);
            Assert.True(notCompared.Exit == 0, notCompared.ToString());
            Assert.Contains($"contacts.jsonl, an input {dataset} was cleaned from (sha256:", notCompared.Stderr, StringComparison.Ordinal);
            Assert.Contains($"{said}: the non-members were not compared with its records", notCompared.Stderr, StringComparison.Ordinal);
            var evidence = Scalar($"SELECT evidence FROM evaluation_evidence WHERE evaluation_id = '{EvaluationId().Match(notCompared.Stderr).Groups[1].Value}'");
            Assert.Contains($"\"status\":\"{status}\"", evidence, StringComparison.Ordinal);
        }
    }
}
