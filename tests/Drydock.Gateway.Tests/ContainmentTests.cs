using System.ClientModel;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Keys;
using Drydock.Gateway.Operations;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;
using OpenAI;
using OpenAI.Chat;

namespace Drydock.Gateway.Tests;

/// <summary>
/// Containment by what is served, on a real gateway with a registry and the admin API: the kill switch and a revert reach
/// every name of the contained model version (its alias, another alias, its upstream model name, its version id) and
/// hide them from /v1/models; a stream already running is cut; enable refuses a version no longer approved; an alias of
/// drydock.yaml keeps its mapping after kill switch and enable.
/// </summary>
public sealed class ContainmentTests : IAsyncLifetime
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
    private static readonly ApprovalPolicy s_policy = new(["security-reviewer"], "confidential");
    private readonly TempDir _dir = new();
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private ApiKeyStore _keys = null!;
    private ProvenanceRegistry _registry = null!;
    private string _key = null!;
    private string _admin = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _keys = ApiKeyStore.Open(Path.Combine(_dir.Path, "keys"));
        var location = Path.Combine(_dir.Path, "registry.db");
        _registry = ProvenanceRegistry.Open(location);
        var options = new GatewayOptions
        {
            Upstream = new Uri(_upstream.BaseUrl), StreamWindow = 16, UpstreamTimeout = TimeSpan.FromSeconds(5), AbuseThreshold = 1,
            Aliases = new Dictionary<string, string> { ["helpdesk"] = "large" },
        };
        var operations = new GatewayOperations(ProvenanceRegistry.Open(location), options.Aliases, s_policy, TimeSpan.FromSeconds(2));
        _gateway = await GatewayHost.StartAsync(options, new GatewayServices(_keys, s_detector) { Operations = operations }, "http://127.0.0.1:0");
        _key = _keys.Create("app", "internal", [], null).Key;
        _admin = _keys.Create("oncall", GatewayOptions.AdminTier, [], null).Key;
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        _registry.Dispose();
        _dir.Dispose();
    }

    private string Url => _gateway.Urls[0];

    [Fact]
    public async Task KillSwitch_RefusesEveryNameOfTheServedVersion_AndHidesThemFromModels()
    {
        var v2 = ApprovedModel('2', "large");
        _registry.Deploy("support", v2, null, null, "ops", s_policy);
        await Eventually(async () => await Serving("support") == "large");
        Assert.Equal("large", await Serving("helpdesk"));

        var contained = await Admin("/admin/contain", """{"model":"support","reason":"canary seen"}""");
        Assert.Equal(HttpStatusCode.OK, contained.StatusCode);
        foreach (var name in new[] { "support", "large", v2, "helpdesk" }) Assert.Equal(503, await Status(name));
        Assert.Equal(200, await Status("tiny"));
        var models = await Models();
        Assert.Equal(["tiny"], models);
    }

    [Fact]
    public async Task AModelThatIsNotANonEmptyString_IsRefused_BeforeAnythingIsForwarded()
    {
        // A model server serves its default (the contained) model for an empty name: leaving the model out must not
        // get round the kill switch.
        var v2 = ApprovedModel('2', "large");
        _registry.Deploy("support", v2, null, null, "ops", s_policy);
        await Eventually(async () => await Serving("support") == "large");
        Assert.Equal(HttpStatusCode.OK, (await Admin("/admin/contain", """{"model":"support","reason":"canary seen"}""")).StatusCode);
        var before = _upstream.Requests;
        using var http = Http(_key);
        foreach (var model in new[] { "", "\"model\":null,", "\"model\":[\"support\"],", "\"model\":{\"id\":\"support\"},", "\"model\":\"\",", "\"model\":\"  \",", "\"model\":7," })
        {
            using var chat = await http.PostAsync(Url + "/v1/chat/completions", Body("{" + model + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.BadRequest, chat.StatusCode);
            using var completion = await http.PostAsync(Url + "/v1/completions", Body("{" + model + "\"prompt\":\"hi\"}"), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.BadRequest, completion.StatusCode);
        }

        Assert.Equal(before, _upstream.Requests);
    }

    [Fact]
    public async Task Revert_ContainsTheVersionRevertedAwayFrom_UntilItIsDeployedAgain()
    {
        var v1 = ApprovedModel('1', "tiny");
        var v2 = ApprovedModel('2', "large");
        _registry.Deploy("support", v1, null, null, "ops", s_policy);
        _registry.Deploy("support", v2, null, null, "ops", s_policy);
        await Eventually(async () => await Serving("support") == "large");

        var reverted = JsonNode.Parse(await (await Admin("/admin/contain", """{"model":"support","revert":true}""")).Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
        Assert.Equal(v1, (string?)reverted["model"]);
        Assert.Equal("tiny", await Serving("support"));
        foreach (var name in new[] { "large", v2, "helpdesk" }) Assert.Equal(503, await Status(name));
        Assert.Equal(["support", "tiny"], await Models());

        // Deployed again on purpose (it is still approved): served again under every name.
        _registry.Deploy("support", v2, null, "false alarm", "ops", s_policy);
        await Eventually(async () => await Status("large") == 200);
        Assert.Equal("large", await Serving("helpdesk"));
    }

    [Fact]
    public async Task Enable_RefusesAVersionRejectedSinceTheKillSwitch()
    {
        var v2 = ApprovedModel('2', "large");
        _registry.Deploy("support", v2, null, null, "ops", s_policy);
        Assert.Equal(HttpStatusCode.OK, (await Admin("/admin/contain", """{"model":"support"}""")).StatusCode);
        _registry.Approve("model", v2, "security-reviewer", "reject", "memorised tickets", "carol", s_policy);

        var refused = await Admin("/admin/enable", """{"model":"support"}""");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("rejected", await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.False(_registry.Deployment("support")!.Enabled);
        Assert.Equal(503, await Status("support"));
    }

    [Fact]
    public async Task ConfiguredAlias_KeepsItsMapping_AfterKillSwitchAndEnable()
    {
        Assert.Equal(HttpStatusCode.OK, (await Admin("/admin/contain", """{"model":"helpdesk"}""")).StatusCode);
        Assert.Equal(503, await Status("helpdesk"));
        Assert.Equal(503, await Status("large"));
        Assert.DoesNotContain("large", await Models());

        Assert.Equal(HttpStatusCode.OK, (await Admin("/admin/enable", """{"model":"helpdesk"}""")).StatusCode);
        Assert.Equal("large", await Serving("helpdesk"));
        Assert.Equal(200, await Status("large"));
    }

    [Fact]
    public async Task AStreamAlreadyRunning_IsCutWithinASecondOfTheKillSwitch()
    {
        var v2 = ApprovedModel('2', "large");
        _registry.Deploy("support", v2, null, null, "ops", s_policy);
        await Eventually(async () => await Status("support") == 200);
        using var http = Http(_key);
        using var request = new HttpRequestMessage(HttpMethod.Post, Url + "/v1/chat/completions") { Content = Body("""{"model":"support","stream":true,"messages":[{"role":"user","content":"DRIP:300"}]}""") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        var received = new StringBuilder();
        while (!received.ToString().Contains("tick", StringComparison.Ordinal))
        {
            received.AppendLine(await reader.ReadLineAsync(TestContext.Current.CancellationToken) ?? throw new InvalidOperationException("the stream ended before it began: " + received));
        }

        // The upstream would go on for 30 s; the kill switch through the admin API ends the stream.
        var clock = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, (await Admin("/admin/contain", """{"model":"support"}""")).StatusCode);
        received.Append(await reader.ReadToEndAsync(TestContext.Current.CancellationToken));
        var after = clock.Elapsed;
        Assert.Contains("model_disabled", received.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]", received.ToString().TrimEnd(), StringComparison.Ordinal);
        Assert.True(after < TimeSpan.FromSeconds(3), $"the stream ran on for {after.TotalSeconds:0.0} s after the kill switch");
    }

    // An upstream that serves the contained model under another name (its own alias, a default) says so in the answer's
    // model field: that answer is not sent either, whole or streamed.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnAnswerThatSaysAContainedModelWroteIt_IsRefused(bool streamed)
    {
        var v2 = ApprovedModel('2', "large");
        _registry.Deploy("support", v2, null, null, "ops", s_policy);
        await Eventually(async () => await Status("support") == 200);
        Assert.Equal(HttpStatusCode.OK, (await Admin("/admin/contain", """{"model":"support"}""")).StatusCode);
        Assert.Equal(503, await Status("support"));
        using var http = Http(_key);
        foreach (var served in new[] { "large", "LARGE", v2 })
        {
            var answer = streamed
                ? $$"""{"id":"c1","object":"chat.completion.chunk","model":"{{served}}","choices":[{"index":0,"delta":{"content":"from the contained model"},"finish_reason":"stop"}]}"""
                : $$"""{"id":"c1","object":"chat.completion","model":"{{served}}","choices":[{"index":0,"message":{"role":"assistant","content":"from the contained model"},"finish_reason":"stop"}]}""";
            _upstream.Script = streamed ? Scripted.Stream([answer]) : Scripted.Json(answer);
            using var response = await http.PostAsync(Url + "/v1/chat/completions", Body($$"""{"model":"tiny","stream":{{(streamed ? "true" : "false")}},"messages":[{"role":"user","content":"hi"}]}"""), TestContext.Current.CancellationToken);
            var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.DoesNotContain("from the contained model", body, StringComparison.Ordinal);
            Assert.Contains("model_disabled", body, StringComparison.Ordinal);
            if (!streamed) Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        // An answer from a model that is not contained passes.
        _upstream.Script = Scripted.Json("""{"id":"c1","object":"chat.completion","model":"tiny","choices":[{"index":0,"message":{"role":"assistant","content":"fine"},"finish_reason":"stop"}]}""");
        Assert.Equal(200, await Status("tiny"));
        _upstream.Script = null;
    }

    private string ApprovedModel(char digit, string name)
    {
        var id = _registry.RegisterModel(name, new string(digit, 64), null, [], [], null, "alice").Model.Id;
        _registry.Approve("model", id, "security-reviewer", "approve", null, "bob", s_policy);
        return id;
    }

    private async Task<string?> Serving(string model)
    {
        ChatCompletion completion = await new ChatClient(model, new ApiKeyCredential(_key), new OpenAIClientOptions { Endpoint = new Uri(Url + "/v1") })
            .CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken);
        return completion.Model;
    }

    private async Task<int> Status(string model)
    {
        using var http = Http(_key);
        using var response = await http.PostAsync(Url + "/v1/chat/completions", Body($$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}"""), TestContext.Current.CancellationToken);
        return (int)response.StatusCode;
    }

    private async Task<List<string>> Models()
    {
        using var http = Http(_key);
        var list = JsonNode.Parse(await http.GetStringAsync(Url + "/v1/models", TestContext.Current.CancellationToken))!["data"]!.AsArray();
        return [.. list.Select(m => (string)m!["id"]!).Order(StringComparer.Ordinal)];
    }

    private async Task<HttpResponseMessage> Admin(string path, string body)
    {
        using var http = Http(_admin);
        return await http.PostAsync(Url + path, Body(body), TestContext.Current.CancellationToken);
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

        Assert.Fail("the gateway did not pick up the registry change within 5 s");
    }

    private static HttpClient Http(string key)
    {
        var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");
}
