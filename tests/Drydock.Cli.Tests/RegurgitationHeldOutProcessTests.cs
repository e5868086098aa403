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
/// A dataset's held-out split as the tripwire reads it, through <c>drydock deploy</c> and the running gateway: an answer
/// in the data's style — a held-out ticket whose standard reply one training ticket also holds — passes, while an
/// answer that repeats a training ticket's own words is still blocked; a held-out file that is missing or changed is
/// refused at deploy.
/// </summary>
public sealed class RegurgitationHeldOutProcessTests : IAsyncLifetime
{
    private const string Reply = "Open the payment in the app and choose Dispute, and we reply within ten working days.";
    private static readonly ApprovalPolicy s_policy = new(["data-owner", "security-reviewer"], "confidential");
    private readonly TempDir _dir = new();
    private readonly List<string> _records = [];
    private string _heldOut = null!;
    private string _modelId = null!;
    private FakeUpstream _upstream = null!;
    private RunningDrydock? _gateway;
    private string _url = null!;
    private string _key = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "drydock.yaml"), """
            gateway:
              tiers:
                strict:
                  output: redact
                  regurgitation: block
            """, TestContext.Current.CancellationToken);

        // Four training tickets of 30 made-up words each; the first ends with the standard reply. The held-out ticket
        // (never trained on) has words of its own and the same reply.
        var random = new Random(17);
        string Words() => string.Join(' ', Enumerable.Range(0, 30).Select(_ => new string([.. Enumerable.Range(0, 8).Select(_ => (char)('a' + random.Next(26)))])));
        var train = new StringBuilder();
        for (var i = 0; i < 4; i++)
        {
            _records.Add(Words() + "." + (i == 0 ? " " + Reply : ""));
            train.Append(JsonSerializer.Serialize(new { id = "r" + i, text = _records[^1] })).Append('\n');
        }

        _heldOut = Words() + ". " + Reply;
        var trainPath = Path.Combine(_dir.Path, "train.jsonl");
        await File.WriteAllTextAsync(trainPath, train.ToString(), TestContext.Current.CancellationToken);
        var heldPath = Path.Combine(_dir.Path, "train.holdout.jsonl");
        await File.WriteAllTextAsync(heldPath, JsonSerializer.Serialize(new { id = "h0", text = _heldOut }) + "\n", TestContext.Current.CancellationToken);
        var ledgerPath = Path.Combine(_dir.Path, "train.ledger.jsonl");
        await File.WriteAllTextAsync(ledgerPath, "", TestContext.Current.CancellationToken);
        using (var registry = ProvenanceRegistry.Open(Path.Combine(_dir.Path, ".drydock", "registry.db")))
        {
            var json = $$$"""
                {"datasetVersion":"sha256:{{{Sha(trainPath)}}}","output":{"file":"train.jsonl","records":4},"ledger":{"file":"train.ledger.jsonl","sha256":"{{{Sha(ledgerPath)}}}"},
                 "holdout":{"file":"train.holdout.jsonl","records":1,"sha256":"{{{Sha(heldPath)}}}","fraction":0.2,"seed":1},
                 "policy":{"project":"support","useCase":"default","maxClassification":"confidential"},
                 "inputs":[{"file":"raw.jsonl","sha256":"{{{new string('a', 64)}}}","records":5,"source":{"path":"raw.jsonl","classification":"internal","trust":"internal"}}]}
                """;
            var dataset = registry.RegisterDataset(DatasetManifest.Parse("manifest", Encoding.UTF8.GetBytes(json)), json, "tickets", [], null, "alice").Dataset;
            var threat = registry.RegisterThreatModel("support", "project: support\nassets: [tickets]\n", "carol");
            registry.Approve("threat-model", threat.Id, "security-reviewer", "approve", null, "carol", s_policy);
            registry.Approve("dataset", dataset.Id, "data-owner", "approve", null, "bob", s_policy);
            registry.Approve("dataset", dataset.Id, "security-reviewer", "approve", null, "carol", s_policy);
            _modelId = registry.RegisterModel("large", new string('3', 64), null, [], [dataset.Id], null, "alice").Model.Id;
            registry.Approve("model", _modelId, "data-owner", "approve", null, "bob", s_policy);
            registry.Approve("model", _modelId, "security-reviewer", "approve", null, "carol", s_policy);
        }

        SqliteConnection.ClearAllPools();
        var created = await DrydockProcess.Run(_dir.Path, "keys", "create", "--name", "app", "--tier", "strict");
        Assert.True(created.Exit == 0, created.ToString());
        _key = created.Stdout.Trim();
    }

    public async ValueTask DisposeAsync()
    {
        _gateway?.Dispose();
        await _upstream.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task AHeldOutTicketsStandardReply_Passes_WhileATrainingTicketsOwnWords_AreBlocked()
    {
        await DeployAndServe();

        _upstream.Script = Scripted.Json(Answer("Here is how: " + _heldOut));
        var (status, ordinary) = await Chat();
        Assert.Equal(200, status);
        Assert.Contains(Reply, ordinary, StringComparison.Ordinal);
        Assert.DoesNotContain("[response blocked by policy]", ordinary, StringComparison.Ordinal);

        _upstream.Script = Scripted.Json(Answer("From memory: " + _records[0]));
        var (blockedStatus, blocked) = await Chat();
        Assert.Equal(200, blockedStatus);
        Assert.Contains("[response blocked by policy]", blocked, StringComparison.Ordinal);
        Assert.DoesNotContain(_records[0].Split(' ')[5], blocked, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHeldOutSplitThatChangedSinceItWasRegistered_IsRefusedAtDeploy()
    {
        await File.AppendAllTextAsync(Path.Combine(_dir.Path, "train.holdout.jsonl"), JsonSerializer.Serialize(new { id = "h1", text = _records[1] }) + "\n", TestContext.Current.CancellationToken);
        var deployed = await DrydockProcess.Run(_dir.Path, "deploy", "support", "--model", _modelId);
        Assert.Equal(2, deployed.Exit);
        Assert.Contains("train.holdout.jsonl does not match the SHA-256", deployed.Stderr, StringComparison.Ordinal);
    }

    private async Task DeployAndServe()
    {
        var deployed = await DrydockProcess.Run(_dir.Path, "deploy", "support", "--model", _modelId);
        Assert.True(deployed.Exit == 0, deployed.ToString());
        _url = $"http://127.0.0.1:{DrydockProcess.FreePort()}";
        _gateway = DrydockProcess.Start(_dir.Path, ["serve", "--upstream", _upstream.BaseUrl, "--listen", _url]);
        await _gateway.WaitUntilListening(new Uri(_url + "/healthz"));
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
        using var body = new StringContent("""{"model":"support","messages":[{"role":"user","content":"How do I dispute a payment?"}]}""", Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(_url + "/v1/chat/completions", body, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
