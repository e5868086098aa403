using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Drydock.Gateway.Tests;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace Drydock.Cli.Tests;

/// <summary>
/// <c>gateway.tripwire-records: sensitive</c> as operators run it: <c>drydock deploy</c> indexes only the records the
/// dataset's ledger names (a value was redacted or replaced in them), and the running gateway blocks an answer that
/// repeats one of those while an answer repeating a record the ledger does not name passes.
/// </summary>
public sealed class RegurgitationSensitiveProcessTests : IAsyncLifetime
{
    private static readonly ApprovalPolicy s_policy = new(["data-owner", "security-reviewer"], "confidential");
    private readonly TempDir _dir = new();
    private readonly List<string> _records = [];
    private FakeUpstream _upstream = null!;
    private RunningDrydock _gateway = null!;
    private string _url = null!;
    private string _key = null!;
    private string _deployOutput = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "drydock.yaml"), """
            gateway:
              tripwire-records: sensitive
              tiers:
                strict:
                  output: redact
                  regurgitation: block
            """, TestContext.Current.CancellationToken);

        // Four records of 30 made-up words each; the ledger names r1 and r3 (as drydock clean writes it, one entry per action).
        var random = new Random(13);
        var train = new StringBuilder();
        for (var i = 0; i < 4; i++)
        {
            _records.Add(string.Join(' ', Enumerable.Range(0, 30).Select(_ => new string([.. Enumerable.Range(0, 8).Select(_ => (char)('a' + random.Next(26)))]))) + ".");
            train.Append(JsonSerializer.Serialize(new { id = "r" + i, text = _records[^1] })).Append('\n');
        }

        var trainPath = Path.Combine(_dir.Path, "train.jsonl");
        await File.WriteAllTextAsync(trainPath, train.ToString(), TestContext.Current.CancellationToken);
        var ledgerPath = Path.Combine(_dir.Path, "train.ledger.jsonl");
        var ledger = string.Concat(new[] { "r1", "r3" }.Select((id, line) => JsonSerializer.Serialize(new { recordId = id, file = "raw.jsonl", line = line + 2, field = "text", rule = "DD-PII-001", category = "pii", type = "email", action = "redact", reason = "policy" }) + "\n"));
        await File.WriteAllTextAsync(ledgerPath, ledger, TestContext.Current.CancellationToken);
        var modelId = "";
        using (var registry = ProvenanceRegistry.Open(Path.Combine(_dir.Path, ".drydock", "registry.db")))
        {
            var json = $$$"""
                {"datasetVersion":"sha256:{{{Sha(trainPath)}}}","output":{"file":"train.jsonl","records":4},"ledger":{"file":"train.ledger.jsonl","sha256":"{{{Sha(ledgerPath)}}}"},
                 "policy":{"project":"support","useCase":"default","maxClassification":"confidential"},
                 "inputs":[{"file":"raw.jsonl","sha256":"{{{new string('a', 64)}}}","records":4,"source":{"path":"raw.jsonl","classification":"internal","trust":"internal"}}]}
                """;
            var dataset = registry.RegisterDataset(DatasetManifest.Parse("manifest", Encoding.UTF8.GetBytes(json)), json, "tickets", [], null, "alice").Dataset;
            var threat = registry.RegisterThreatModel("support", "project: support\nassets: [tickets]\n", "carol");
            registry.Approve("threat-model", threat.Id, "security-reviewer", "approve", null, "carol", s_policy);
            registry.Approve("dataset", dataset.Id, "data-owner", "approve", null, "bob", s_policy);
            registry.Approve("dataset", dataset.Id, "security-reviewer", "approve", null, "carol", s_policy);
            modelId = registry.RegisterModel("large", new string('2', 64), null, [], [dataset.Id], null, "alice").Model.Id;
            registry.Approve("model", modelId, "data-owner", "approve", null, "bob", s_policy);
            registry.Approve("model", modelId, "security-reviewer", "approve", null, "carol", s_policy);
        }

        SqliteConnection.ClearAllPools();
        var created = await DrydockProcess.Run(_dir.Path, "keys", "create", "--name", "app", "--tier", "strict");
        Assert.True(created.Exit == 0, created.ToString());
        _key = created.Stdout.Trim();
        var deployed = await DrydockProcess.Run(_dir.Path, "deploy", "support", "--model", modelId);
        Assert.True(deployed.Exit == 0, deployed.ToString());
        _deployOutput = deployed.Stdout;
        _url = $"http://127.0.0.1:{DrydockProcess.FreePort()}";
        _gateway = DrydockProcess.Start(_dir.Path, ["serve", "--upstream", _upstream.BaseUrl, "--listen", _url]);
        await _gateway.WaitUntilListening(new Uri(_url + "/healthz"));
    }

    public async ValueTask DisposeAsync()
    {
        _gateway.Dispose();
        await _upstream.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task OnlyTheRecordsTheLedgerNames_AreIndexed_ARepeatOfOneIsBlocked_AndARepeatOfAPlainOnePasses()
    {
        Assert.Contains("2 sensitive records", _deployOutput, StringComparison.Ordinal);

        _upstream.Script = Scripted.Json(Answer("From memory: " + _records[3]));
        var (status, sensitive) = await Chat();
        Assert.Equal(200, status);
        Assert.Contains("[response blocked by policy]", sensitive, StringComparison.Ordinal);
        Assert.DoesNotContain(_records[3].Split(' ')[5], sensitive, StringComparison.Ordinal);

        _upstream.Script = Scripted.Json(Answer("From memory: " + _records[2]));
        var (plainStatus, plain) = await Chat();
        Assert.Equal(200, plainStatus);
        Assert.Contains(_records[2], plain, StringComparison.Ordinal);
        Assert.DoesNotContain("[response blocked by policy]", plain, StringComparison.Ordinal);
    }

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static string Answer(string content) => JsonSerializer.Serialize(new
    {
        id = "chatcmpl-1", @object = "chat.completion", created = 1_700_000_000, model = "large",
        choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
        usage = new { prompt_tokens = 5, completion_tokens = 40, total_tokens = 45 },
    });

    private async Task<(int Status, string Body)> Chat()
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        using var body = new StringContent("""{"model":"support","messages":[{"role":"user","content":"What do you remember?"}]}""", Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(_url + "/v1/chat/completions", body, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
