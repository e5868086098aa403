using System.ClientModel;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Gateway.Tests;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;
using Microsoft.Data.Sqlite;
using OpenAI;
using OpenAI.Chat;

namespace Drydock.Cli.Tests;

/// <summary>
/// Containment as operators run it: <c>drydock serve</c> in its own process in front of a scripted model server, and
/// <c>drydock deploy</c> and <c>drydock incident contain</c> in processes of their own against the same project. What the
/// CLI changes reaches the running gateway within the two seconds the docs promise (polled for five).
/// </summary>
public sealed class ContainmentProcessTests : IAsyncLifetime
{
    private static readonly ApprovalPolicy s_policy = new(["data-owner", "security-reviewer"], "confidential");
    private readonly TempDir _dir = new();
    private FakeUpstream _upstream = null!;
    private RunningDrydock _gateway = null!;
    private string _url = null!;
    private string _key = null!;
    private string _tiny = null!;
    private string _large = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "drydock.yaml"), "gateway:\n  aliases:\n    helpdesk: large\n", TestContext.Current.CancellationToken);
        using (var registry = ProvenanceRegistry.Open(Path.Combine(_dir.Path, ".drydock", "registry.db")))
        {
            _tiny = ApprovedModel(registry, '1', "tiny");
            _large = ApprovedModel(registry, '2', "large");
        }

        SqliteConnection.ClearAllPools();
        var created = await DrydockProcess.Run(_dir.Path, "keys", "create", "--name", "app", "--tier", "internal");
        Assert.True(created.Exit == 0, created.ToString());
        _key = created.Stdout.Trim();
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
    public async Task DeployRevertKillSwitchAndEnable_FromTheCli_ReachTheRunningGateway_ByWhatIsServed()
    {
        await Cli(0, "deploy", "support", "--model", _tiny);
        await Cli(0, "deploy", "support", "--model", _large);
        await Eventually(async () => await Serving("support") == "large");

        // Revert: the version reverted away from is refused under every name it has.
        await Cli(0, "incident", "contain", "--model", "support", "--revert", "--reason", "jailbreak reports");
        await Eventually(async () => await Status("large") == 503);
        Assert.Equal("tiny", await Serving("support"));
        Assert.Equal(503, await Status(_large));
        Assert.Equal(503, await Status("helpdesk"));
        Assert.Equal(["support", "tiny"], await Models());

        // Kill switch: the alias, its upstream model name and its version id.
        await Cli(0, "incident", "contain", "--model", "support", "--reason", "canary seen");
        await Eventually(async () => await Status("support") == 503);
        Assert.Equal(503, await Status("tiny"));
        Assert.Equal(503, await Status(_tiny));
        Assert.Empty(await Models());

        // A version rejected since is not put back in service.
        using (var registry = ProvenanceRegistry.Open(Path.Combine(_dir.Path, ".drydock", "registry.db")))
        {
            registry.Approve("model", _tiny, "security-reviewer", "reject", "memorised tickets", "carol", s_policy);
            Assert.False(registry.Deployment("support")!.Enabled);
        }

        SqliteConnection.ClearAllPools();
        var refused = await Cli(1, "deploy", "support", "--enable");
        Assert.Contains($"{_tiny} is rejected", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("DISABLED", (await Cli(0, "deploy")).Stdout, StringComparison.Ordinal);
        Assert.Equal(503, await Status("support"));
    }

    [Fact]
    public async Task KillSwitchFromTheCli_CutsARunningStream_AndAConfiguredAliasKeepsItsMappingAfterEnable()
    {
        Assert.Equal("large", await Serving("helpdesk"));
        using var http = Http();
        using var request = new HttpRequestMessage(HttpMethod.Post, _url + "/v1/chat/completions") { Content = Body("""{"model":"helpdesk","stream":true,"messages":[{"role":"user","content":"DRIP:600"}]}""") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        var received = new StringBuilder();
        while (!received.ToString().Contains("tick", StringComparison.Ordinal))
        {
            received.AppendLine(await reader.ReadLineAsync(TestContext.Current.CancellationToken) ?? throw new InvalidOperationException("the stream ended before it began: " + received));
        }

        // The upstream would go on for a minute; the CLI's kill switch reaches the gateway within its refresh (2 s) and
        // the stream is cut within a second of that.
        var clock = Stopwatch.StartNew();
        await Cli(0, "incident", "contain", "--model", "helpdesk", "--reason", "prompt leak");
        received.Append(await reader.ReadToEndAsync(TestContext.Current.CancellationToken));
        Assert.Contains("model_disabled", received.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]", received.ToString().TrimEnd(), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the stream ran on for {clock.Elapsed.TotalSeconds:0.0} s after the kill switch");
        Assert.Equal(503, await Status("large"));
        Assert.DoesNotContain("large", await Models());

        await Cli(0, "deploy", "helpdesk", "--enable", "--reason", "fixed");
        await Eventually(async () => await Status("helpdesk") == 200);
        Assert.Equal("large", await Serving("helpdesk"));
        Assert.Equal(200, await Status("large"));
    }

    [Fact]
    public async Task TheRegistryAndTheRequestLog_AreOwnerOnly()
    {
        Assert.Equal(200, await Status("tiny"));
        var log = Path.Combine(_dir.Path, ".drydock", "gateway", "requests");
        await Eventually(() => Task.FromResult(Directory.Exists(log) && Directory.GetFiles(log, "requests-*.jsonl").Length > 0));
        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        // The monitor's own state (where the alert relay has read to) is in a folder of its own, not in the request log's.
        var monitor = Path.Combine(_dir.Path, ".drydock", "monitor");
        Assert.NotEmpty(Directory.Exists(monitor) ? Directory.GetFiles(monitor) : []);
        Assert.All(Directory.GetFiles(log), f => Assert.EndsWith(".jsonl", f, StringComparison.Ordinal));
        var paths = new[] { Path.Combine(_dir.Path, ".drydock"), log, Path.Combine(_dir.Path, ".drydock", "gateway"), monitor }
            .Concat(Directory.GetFiles(Path.Combine(_dir.Path, ".drydock"), "registry.db*"))
            .Concat(Directory.GetFiles(log))
            .Concat(Directory.GetFiles(monitor));
        Assert.All(paths, p => Assert.True((File.GetUnixFileMode(p) & others) == 0, $"{p} is {File.GetUnixFileMode(p)}"));
        Assert.Contains(Path.Combine(_dir.Path, ".drydock", "registry.db-wal"), Directory.GetFiles(Path.Combine(_dir.Path, ".drydock"), "registry.db*"));
    }

    private static string ApprovedModel(ProvenanceRegistry registry, char digit, string name)
    {
        var id = registry.RegisterModel(name, new string(digit, 64), null, [], [], null, "alice").Model.Id;
        registry.Approve("model", id, "data-owner", "approve", null, "bob", s_policy);
        registry.Approve("model", id, "security-reviewer", "approve", null, "carol", s_policy);
        return id;
    }

    private async Task<ProcessResult> Cli(int exit, params string[] args)
    {
        var result = await DrydockProcess.Run(_dir.Path, args);
        Assert.True(result.Exit == exit, $"drydock {string.Join(' ', args)}: {result}");
        return result;
    }

    private async Task<string?> Serving(string model)
    {
        ChatCompletion completion = await new ChatClient(model, new ApiKeyCredential(_key), new OpenAIClientOptions { Endpoint = new Uri(_url + "/v1") })
            .CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken);
        return completion.Model;
    }

    private async Task<int> Status(string model)
    {
        using var http = Http();
        using var response = await http.PostAsync(_url + "/v1/chat/completions", Body($$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}"""), TestContext.Current.CancellationToken);
        return (int)response.StatusCode;
    }

    private async Task<List<string>> Models()
    {
        using var http = Http();
        var list = JsonNode.Parse(await http.GetStringAsync(_url + "/v1/models", TestContext.Current.CancellationToken))!["data"]!.AsArray();
        return [.. list.Select(m => (string)m!["id"]!).Order(StringComparer.Ordinal)];
    }

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 50; i++)
        {
            try
            {
                if (await condition()) return;
            }
            catch (ClientResultException)
            {
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Fail("the running gateway did not show the change within 5 s (the docs promise 2 s)");
    }

    private HttpClient Http()
    {
        var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        return http;
    }

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");
}
