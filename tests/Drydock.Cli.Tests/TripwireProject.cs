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
/// What the regurgitation process tests share: a project with a scripted model server, a training dataset registered
/// and approved with its ledger (and held-out split), a model trained on it, keys, <c>drydock deploy</c> and
/// <c>drydock serve</c> each in its own process, and chat requests through the running gateway.
/// </summary>
internal sealed class TripwireProject : IAsyncDisposable
{
    /// <summary>The approvals the registered dataset, threat model and model are given.</summary>
    public static readonly ApprovalPolicy Approvals = new(["data-owner", "security-reviewer"], "confidential");

    private readonly TempDir _dir = new();

    private TripwireProject(FakeUpstream upstream) => Upstream = upstream;

    public string Path => _dir.Path;

    public FakeUpstream Upstream { get; }

    /// <summary>The running gateway, once <see cref="Serve"/> started it.</summary>
    public RunningDrydock Gateway { get; private set; } = null!;

    public string Url { get; private set; } = null!;

    public string Registry => System.IO.Path.Combine(_dir.Path, ".drydock", "registry.db");

    /// <summary>A project whose drydock.yaml is <paramref name="yaml"/>, and its scripted model server.</summary>
    public static async Task<TripwireProject> StartAsync(string yaml)
    {
        var project = new TripwireProject(await FakeUpstream.StartAsync());
        await File.WriteAllTextAsync(System.IO.Path.Combine(project.Path, "drydock.yaml"), yaml, TestContext.Current.CancellationToken);
        return project;
    }

    /// <summary><paramref name="count"/> made-up words of eight letters (no other text has them), space-separated.</summary>
    public static string Words(Random random, int count = 30) =>
        string.Join(' ', Enumerable.Range(0, count).Select(_ => new string([.. Enumerable.Range(0, 8).Select(_ => (char)('a' + random.Next(26)))])));

    public static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>A model server's whole answer holding <paramref name="content"/>.</summary>
    public static string Answer(string content) => JsonSerializer.Serialize(new
    {
        id = "chatcmpl-1", @object = "chat.completion", created = 1_700_000_000, model = "large",
        choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
        usage = new { prompt_tokens = 5, completion_tokens = 40, total_tokens = 45 },
    });

    /// <summary>
    /// Writes <paramref name="records"/> (ids r0, r1, …) as train.jsonl, its ledger and, with <paramref name="heldOut"/>,
    /// a held-out split of one record (h0); registers the dataset, the threat model and a model trained on the dataset
    /// (weights digest of <paramref name="digest"/>), all approved. Returns the model's id.
    /// </summary>
    public async Task<string> RegisterModel(IReadOnlyList<string> records, string ledger = "", string? heldOut = null, char digest = '2')
    {
        var train = new StringBuilder();
        for (var i = 0; i < records.Count; i++) train.Append(JsonSerializer.Serialize(new { id = "r" + i, text = records[i] })).Append('\n');
        var trainPath = System.IO.Path.Combine(_dir.Path, "train.jsonl");
        await File.WriteAllTextAsync(trainPath, train.ToString(), TestContext.Current.CancellationToken);
        var ledgerPath = System.IO.Path.Combine(_dir.Path, "train.ledger.jsonl");
        await File.WriteAllTextAsync(ledgerPath, ledger, TestContext.Current.CancellationToken);
        var holdout = "";
        if (heldOut is not null)
        {
            var heldPath = System.IO.Path.Combine(_dir.Path, "train.holdout.jsonl");
            await File.WriteAllTextAsync(heldPath, JsonSerializer.Serialize(new { id = "h0", text = heldOut }) + "\n", TestContext.Current.CancellationToken);
            holdout = $$"""
                 "holdout":{"file":"train.holdout.jsonl","records":1,"sha256":"{{Sha(heldPath)}}","fraction":0.2,"seed":1},

                """;
        }

        var inputs = records.Count + (heldOut is null ? 0 : 1);
        string model;
        using (var registry = ProvenanceRegistry.Open(Registry))
        {
            var json = $$$"""
                {"datasetVersion":"sha256:{{{Sha(trainPath)}}}","output":{"file":"train.jsonl","records":{{{records.Count}}}},"ledger":{"file":"train.ledger.jsonl","sha256":"{{{Sha(ledgerPath)}}}"},
                {{{holdout}}} "policy":{"project":"support","useCase":"default","maxClassification":"confidential"},
                 "inputs":[{"file":"raw.jsonl","sha256":"{{{new string('a', 64)}}}","records":{{{inputs}}},"source":{"path":"raw.jsonl","classification":"internal","trust":"internal"}}]}
                """;
            var dataset = registry.RegisterDataset(DatasetManifest.Parse("manifest", Encoding.UTF8.GetBytes(json)), json, "tickets", [], null, "alice").Dataset;
            var threat = registry.RegisterThreatModel("support", "project: support\nassets: [tickets]\n", "carol");
            registry.Approve("threat-model", threat.Id, "security-reviewer", "approve", null, "carol", Approvals);
            registry.Approve("dataset", dataset.Id, "data-owner", "approve", null, "bob", Approvals);
            registry.Approve("dataset", dataset.Id, "security-reviewer", "approve", null, "carol", Approvals);
            model = registry.RegisterModel("large", new string(digest, 64), null, [], [dataset.Id], null, "alice").Model.Id;
            registry.Approve("model", model, "data-owner", "approve", null, "bob", Approvals);
            registry.Approve("model", model, "security-reviewer", "approve", null, "carol", Approvals);
        }

        SqliteConnection.ClearAllPools();
        return model;
    }

    /// <summary>A key of <paramref name="tier"/> made by <c>drydock keys create</c>.</summary>
    public async Task<string> Key(string name, string tier)
    {
        var created = await DrydockProcess.Run(_dir.Path, "keys", "create", "--name", name, "--tier", tier);
        Assert.True(created.Exit == 0, created.ToString());
        return created.Stdout.Trim();
    }

    /// <summary>Deploys <paramref name="model"/> as the alias <c>support</c> and starts the gateway; the deploy's output.</summary>
    public async Task<string> DeployAndServe(string model)
    {
        var deployed = await DrydockProcess.Run(_dir.Path, "deploy", "support", "--model", model);
        Assert.True(deployed.Exit == 0, deployed.ToString());
        Url = $"http://127.0.0.1:{DrydockProcess.FreePort()}";
        Gateway = DrydockProcess.Start(_dir.Path, ["serve", "--upstream", Upstream.BaseUrl, "--listen", Url]);
        await Gateway.WaitUntilListening(new Uri(Url + "/healthz"));
        return deployed.Stdout;
    }

    /// <summary>Asks the alias <c>support</c> <paramref name="prompt"/> with <paramref name="key"/>; <paramref name="stream"/> null sends no <c>stream</c> field.</summary>
    public async Task<(int Status, string Body)> Chat(string key, string prompt, bool? stream = null)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var streamField = stream is { } s ? $"\"stream\":{(s ? "true" : "false")}," : "";
        using var body = new StringContent($$"""{"model":"support",{{streamField}}"messages":[{"role":"user","content":{{JsonSerializer.Serialize(prompt)}}}]}""", Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(Url + "/v1/chat/completions", body, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    public async ValueTask DisposeAsync()
    {
        Gateway?.Dispose();
        await Upstream.DisposeAsync();
        _dir.Dispose();
    }
}
