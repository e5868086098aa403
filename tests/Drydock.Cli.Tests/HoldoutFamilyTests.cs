using System.Text.Json.Nodes;
using Drydock.Datasets;

namespace Drydock.Cli.Tests;

/// <summary>
/// <c>clean --holdout</c> on templated records whose long numbers differ by one digit (tickets 10000–10399): a
/// mistyped-number link binds a pair, never a family, so sequential ids split about as asked and the membership
/// refusal accepts the held-out file; a split that cannot be made as asked (a side empty, or the share off by more
/// than chance allows) exits 2 with no output written.
/// </summary>
public sealed class HoldoutFamilyTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drydock-holdout-family-" + Guid.NewGuid().ToString("N"));

    public HoldoutFamilyTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Record(string user, string assistant) => new JsonObject
    {
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = user }, new JsonObject { ["role"] = "assistant", ["content"] = assistant }),
    }.ToJsonString();

    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    public async Task TicketsWhoseNumbersDifferByOneDigit_SplitAboutAsAsked_AndTheHeldOutFileIsAcceptedAsNonMembers(int seed)
    {
        Assert.Equal(0, (await CliRunner.RunIn(_dir, "init")).Exit);
        await File.WriteAllLinesAsync(Path.Combine(_dir, "templ.jsonl"), Enumerable.Range(10000, 400).Select(n => Record($"Status of ticket {n}?", $"Ticket {n} has shipped.")), TestContext.Current.CancellationToken);
        var clean = await CliRunner.RunIn(_dir, "clean", "templ.jsonl", "-o", "t.jsonl", "--holdout", "0.3", "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // Sequential ids are one digit from several others each: different values, not one family (was: refused).
        Assert.True(clean.Exit == 0, clean.ToString());
        var kept = DatasetReader.Texts(Path.Combine(_dir, "t.jsonl"));
        var heldOut = DatasetReader.Texts(Path.Combine(_dir, "t.jsonl.holdout.jsonl"));
        Assert.InRange((double)heldOut.Count / (kept.Count + heldOut.Count), 0.2, 0.4);
        Assert.True(kept.Count + heldOut.Count >= 200, clean.ToString()); // the default policy drops some as near duplicates first
        // The membership refusal's own test finds no held-out ticket that is a near copy of a kept one.
        Assert.Empty(Drydock.Evaluation.Privacy.NearDuplicates.Find(kept, heldOut));
    }

    [Fact]
    public async Task OneFamilyThatTakesEveryRecord_IsRefusedWithNoOutput()
    {
        Assert.Equal(0, (await CliRunner.RunIn(_dir, "init")).Exit);
        // Each record is the previous one with one more word changed: near copies chained into one family.
        var lines = Enumerable.Range(0, 60).Select(n => Record($"Please reset the password of the shared support mailbox for the north office team, request number {n % 2}", "Done, the reset link is on its way to the mailbox owner."));
        await File.WriteAllLinesAsync(Path.Combine(_dir, "fam.jsonl"), lines.Distinct(), TestContext.Current.CancellationToken);
        var clean = await CliRunner.RunIn(_dir, "clean", "fam.jsonl", "-o", "f.jsonl", "--holdout", "0.5", "--seed", "1");
        Assert.True(clean.Exit == 2, clean.ToString());
        Assert.Contains("largest families", clean.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "f.jsonl")));
        Assert.False(File.Exists(Path.Combine(_dir, "f.jsonl.holdout.jsonl")));
    }
}
