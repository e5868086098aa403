using System.Text.Json;
using Drydock.Gateway.Tests;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// A dataset's held-out split as the tripwire reads it, through <c>drydock deploy</c> and the running gateway: an answer
/// in the data's style — a held-out ticket whose standard reply one training ticket also holds — passes, while an
/// answer that repeats a training ticket's own words is still blocked; a held-out file that is missing or changed is
/// refused at deploy.
/// </summary>
public sealed class RegurgitationHeldOutProcessTests : IAsyncLifetime
{
    private const string Reply = "Open the payment in the app and choose Dispute, and we reply within ten working days.";
    private readonly List<string> _records = [];
    private string _heldOut = null!;
    private string _modelId = null!;
    private TripwireProject _project = null!;
    private string _key = null!;

    public async ValueTask InitializeAsync()
    {
        _project = await TripwireProject.StartAsync("""
            gateway:
              tiers:
                strict:
                  output: redact
                  regurgitation: block
            """);

        // Four training tickets of 30 made-up words each; the first ends with the standard reply. The held-out ticket
        // (never trained on) has words of its own and the same reply.
        var random = new Random(17);
        for (var i = 0; i < 4; i++) _records.Add(TripwireProject.Words(random) + "." + (i == 0 ? " " + Reply : ""));
        _heldOut = TripwireProject.Words(random) + ". " + Reply;
        _modelId = await _project.RegisterModel(_records, heldOut: _heldOut, digest: '3');
        _key = await _project.Key("app", "strict");
    }

    public ValueTask DisposeAsync() => _project.DisposeAsync();

    [Fact]
    public async Task AHeldOutTicketsStandardReply_Passes_WhileATrainingTicketsOwnWords_AreBlocked()
    {
        await _project.DeployAndServe(_modelId);

        _project.Upstream.Script = Scripted.Json(TripwireProject.Answer("Here is how: " + _heldOut));
        var (status, ordinary) = await Chat();
        Assert.Equal(200, status);
        Assert.Contains(Reply, ordinary, StringComparison.Ordinal);
        Assert.DoesNotContain("[response blocked by policy]", ordinary, StringComparison.Ordinal);

        _project.Upstream.Script = Scripted.Json(TripwireProject.Answer("From memory: " + _records[0]));
        var (blockedStatus, blocked) = await Chat();
        Assert.Equal(200, blockedStatus);
        Assert.Contains("[response blocked by policy]", blocked, StringComparison.Ordinal);
        Assert.DoesNotContain(_records[0].Split(' ')[5], blocked, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHeldOutSplitThatChangedSinceItWasRegistered_IsRefusedAtDeploy()
    {
        await File.AppendAllTextAsync(Path.Combine(_project.Path, "train.holdout.jsonl"), JsonSerializer.Serialize(new { id = "h1", text = _records[1] }) + "\n", TestContext.Current.CancellationToken);
        var deployed = await DrydockProcess.Run(_project.Path, "deploy", "support", "--model", _modelId);
        Assert.Equal(2, deployed.Exit);
        Assert.Contains("train.holdout.jsonl does not match the SHA-256", deployed.Stderr, StringComparison.Ordinal);
    }

    private Task<(int Status, string Body)> Chat() => _project.Chat(_key, "How do I dispute a payment?");
}
