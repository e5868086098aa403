using System.Text.Json;
using Drydock.Gateway.Tests;

namespace Drydock.Cli.Tests;

/// <summary>
/// <c>gateway.tripwire-records: sensitive</c> as operators run it: <c>drydock deploy</c> indexes only the records the
/// dataset's ledger names (a value was redacted or replaced in them), and the running gateway blocks an answer that
/// repeats one of those while an answer repeating a record the ledger does not name passes.
/// </summary>
public sealed class RegurgitationSensitiveProcessTests : IAsyncLifetime
{
    private readonly List<string> _records = [];
    private TripwireProject _project = null!;
    private string _key = null!;
    private string _deployOutput = null!;

    public async ValueTask InitializeAsync()
    {
        _project = await TripwireProject.StartAsync("""
            gateway:
              tripwire-records: sensitive
              tiers:
                strict:
                  output: redact
                  regurgitation: block
            """);

        // Four records of 30 made-up words each; the ledger names r1 and r3 (as drydock clean writes it, one entry per action).
        var random = new Random(13);
        for (var i = 0; i < 4; i++) _records.Add(TripwireProject.Words(random) + ".");
        var ledger = string.Concat(new[] { "r1", "r3" }.Select((id, line) => JsonSerializer.Serialize(new { recordId = id, file = "raw.jsonl", line = line + 2, field = "text", rule = "DD-PII-001", category = "pii", type = "email", action = "redact", reason = "policy" }) + "\n"));
        var modelId = await _project.RegisterModel(_records, ledger);
        _key = await _project.Key("app", "strict");
        _deployOutput = await _project.DeployAndServe(modelId);
    }

    public ValueTask DisposeAsync() => _project.DisposeAsync();

    [Fact]
    public async Task OnlyTheRecordsTheLedgerNames_AreIndexed_ARepeatOfOneIsBlocked_AndARepeatOfAPlainOnePasses()
    {
        Assert.Contains("2 sensitive records", _deployOutput, StringComparison.Ordinal);

        _project.Upstream.Script = Scripted.Json(TripwireProject.Answer("From memory: " + _records[3]));
        var (status, sensitive) = await Chat();
        Assert.Equal(200, status);
        Assert.Contains("[response blocked by policy]", sensitive, StringComparison.Ordinal);
        Assert.DoesNotContain(_records[3].Split(' ')[5], sensitive, StringComparison.Ordinal);

        _project.Upstream.Script = Scripted.Json(TripwireProject.Answer("From memory: " + _records[2]));
        var (plainStatus, plain) = await Chat();
        Assert.Equal(200, plainStatus);
        Assert.Contains(_records[2], plain, StringComparison.Ordinal);
        Assert.DoesNotContain("[response blocked by policy]", plain, StringComparison.Ordinal);
    }

    private Task<(int Status, string Body)> Chat() => _project.Chat(_key, "What do you remember?");
}
