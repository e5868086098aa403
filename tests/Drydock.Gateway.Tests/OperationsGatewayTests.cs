using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Detection.Analyzers;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Audit;
using Drydock.Gateway.Keys;
using Drydock.Gateway.Operations;
using Drydock.Provenance.Audit;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;
using OpenAI;
using OpenAI.Chat;

namespace Drydock.Gateway.Tests;

/// <summary>
/// The gateway with a registry: canary tripwire and incidents, deployments with kill switch and revert through the
/// admin API and from another process's registry connection, token limits, extraction monitoring, the request log's
/// text policy and retention, metrics and readiness.
/// </summary>
public sealed class OperationsGatewayTests : IAsyncLifetime
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
    private static readonly ApprovalPolicy s_policy = new(["security-reviewer"], "confidential");
    private readonly TempDir _dir = new();
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private ApiKeyStore _keys = null!;
    private ProvenanceRegistry _registry = null!;
    private string _canary = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _keys = ApiKeyStore.Open(Path.Combine(_dir.Path, "keys"));
        var location = Path.Combine(_dir.Path, "registry.db");
        _registry = ProvenanceRegistry.Open(location); // the CLI's side: another connection
        _canary = CanaryAnalyzer.NewValue();
        _registry.RegisterCanary("tickets v3", CanaryAnalyzer.Hash(_canary), null, "alice");
        var tiers = GatewayOptions.DefaultTiers.ToDictionary(t => t.Name);
        tiers["metered"] = new Tier("metered", ["*"], 16, true, GuardMode.Block, GuardMode.Redact, RequestsPerMinute: 1000, TokensPerMinute: 60);
        tiers["probe"] = new Tier("probe", ["*"], 512, true, GuardMode.Block, GuardMode.Redact, RequestsPerMinute: 50, TokensPerMinute: 1_000_000);
        var options = new GatewayOptions
        {
            Upstream = new Uri(_upstream.BaseUrl), Tiers = tiers, StreamWindow = 32, UpstreamTimeout = TimeSpan.FromSeconds(2),
            AuditFolder = Path.Combine(_dir.Path, "requests"), AuditText = AuditText.Hash,
        };
        var operations = new GatewayOperations(ProvenanceRegistry.Open(location), options.Aliases, s_policy, TimeSpan.FromMilliseconds(200));
        _gateway = await GatewayHost.StartAsync(options, new GatewayServices(_keys, s_detector) { Operations = operations }, "http://127.0.0.1:0");
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
    public async Task ACanaryInAnAnswer_IsBlockedWhateverTheTier_OpensAnIncident_AndNeverReachesTheLog()
    {
        var (key, record) = _keys.Create("app", "internal", [], null);
        var spaced = _canary.Replace('-', ' ').ToLowerInvariant(); // however the model spaces or cases it
        ChatCompletion completion = await Client(key).CompleteChatAsync([new UserChatMessage($"SAY:the recovery code is {spaced}.")], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("[response blocked by policy]", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.ContentFilter, completion.FinishReason);

        // Streamed, split at every position of the code: nothing of it leaves, the stream is blocked.
        using var http = Http(key);
        var answer = $"The recovery code is {_canary}.";
        var at = answer.IndexOf(_canary, StringComparison.Ordinal);
        for (var split = at; split <= at + _canary.Length; split++)
        {
            var body = await (await http.PostAsync(Url + "/v1/chat/completions", Body($$"""{"model":"tiny","stream":true,"messages":[{"role":"user","content":"SPLIT:{{split}} SAY:{{answer}}"}]}"""), TestContext.Current.CancellationToken))
                .Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.DoesNotContain(_canary[..9], body, StringComparison.Ordinal);
            Assert.Contains("content_filter", body, StringComparison.Ordinal);
        }

        var incidents = _registry.Incidents();
        Assert.Equal(1 + _canary.Length + 1, incidents.Count);
        Assert.All(incidents, t => Assert.Equal(("canary-leak", "critical", "model:tiny"), (t[0].Kind, t[0].Severity, t[0].Subject)));
        Assert.Contains(record.Id, incidents[0][0].Note, StringComparison.Ordinal);
        Assert.DoesNotContain(_canary, incidents[0][0].Note!, StringComparison.Ordinal);

        await _gateway.FlushAuditAsync();
        var lines = RequestAuditLog.Query(Path.Combine(_dir.Path, "requests"), new RequestFilter(Key: record.Id, Limit: 1000));
        Assert.Equal(1 + _canary.Length + 1, lines.Count);
        Assert.All(lines, l => Assert.Equal("canary", (string?)l["alert"]));
        Assert.All(lines, l => Assert.StartsWith("hmac-sha256:", (string?)l["prompt"], StringComparison.Ordinal));
        var log = string.Concat(Directory.GetFiles(Path.Combine(_dir.Path, "requests"), "*.jsonl").Where(f => !Path.GetFileName(f).StartsWith("signals-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Select(File.ReadAllText));
        Assert.DoesNotContain(_canary[..9], log, StringComparison.Ordinal);
        Assert.DoesNotContain("recovery code", log, StringComparison.Ordinal);
        Assert.Contains("drydock_gateway_canary_trips_total " + (1 + _canary.Length + 1), await new HttpClient().GetStringAsync(Url + "/metrics", TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deployments_KillSwitchAndRevert_ThroughTheAdminApi_AndFromTheRegistry()
    {
        var v1 = ApprovedModel('1', "tiny");
        var v2 = ApprovedModel('2', "large");
        _registry.Deploy("support", v1, null, null, "ops", s_policy);
        _registry.Deploy("support", v2, null, null, "ops", s_policy);
        var (key, _) = _keys.Create("app", "internal", [], null);
        var (admin, _) = _keys.Create("oncall", GatewayOptions.AdminTier, [], null);
        await Eventually(async () => await ModelServing(key) == "large");

        // Admin API: only admin keys; an admin key reaches no model.
        using var adminHttp = Http(admin);
        using var userHttp = Http(key);
        Assert.Equal(HttpStatusCode.Forbidden, (await userHttp.PostAsync(Url + "/admin/contain", Body("""{"model":"support"}"""), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await new HttpClient().PostAsync(Url + "/admin/contain", Body("""{"model":"support"}"""), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await adminHttp.PostAsync(Url + "/v1/chat/completions", Body("""{"model":"tiny","messages":[{"role":"user","content":"hi"}]}"""), TestContext.Current.CancellationToken)).StatusCode);

        var reverted = JsonNode.Parse(await (await adminHttp.PostAsync(Url + "/admin/contain", Body("""{"model":"support","revert":true,"reason":"jailbreak reports"}"""), TestContext.Current.CancellationToken)).Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
        Assert.Equal(v1, (string?)reverted["model"]);
        Assert.Equal("tiny", await ModelServing(key));

        var killed = await adminHttp.PostAsync(Url + "/admin/contain", Body($$"""{"model":"support","incident":"{{(string?)reverted["incident"]}}"}"""), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, killed.StatusCode);
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => Client(key, "support").CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(503, refused.Status);
        Assert.DoesNotContain("support", await userHttp.GetStringAsync(Url + "/v1/models", TestContext.Current.CancellationToken), StringComparison.Ordinal);

        // The same switch thrown from another process's connection (the CLI) reaches the running gateway.
        _registry.Enable("support", "fixed", "carol", s_policy);
        await Eventually(async () => await ModelServing(key) == "tiny");
        _registry.Disable("tiny", "upstream model misbehaves", "carol");
        await Eventually(async () => (await userHttp.PostAsync(Url + "/v1/chat/completions", Body("""{"model":"tiny","messages":[{"role":"user","content":"hi"}]}"""), TestContext.Current.CancellationToken)).StatusCode == HttpStatusCode.ServiceUnavailable);

        var timeline = _registry.Incident((string)reverted["incident"]!);
        Assert.Equal(["opened", "contained", "contained"], timeline.Select(e => e.Action));
        Assert.All(timeline, e => Assert.Equal("adminkey:" + admin.Split('_')[1], e.Actor)); // the key itself, never its name

        // Key revocation through the admin API, recorded on an incident.
        var keyId = key.Split('_')[1];
        var revoked = JsonNode.Parse(await (await adminHttp.PostAsync(Url + "/admin/keys/revoke", Body($$"""{"id":"{{keyId}}","reason":"key pasted in a ticket"}"""), TestContext.Current.CancellationToken)).Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
        Assert.Equal(["opened", "contained"], _registry.Incident((string)revoked["incident"]!).Select(e => e.Action));
        Assert.Equal(HttpStatusCode.Unauthorized, (await userHttp.GetAsync(Url + "/v1/models", TestContext.Current.CancellationToken)).StatusCode);
        var incidents = JsonNode.Parse(await adminHttp.GetStringAsync(Url + "/admin/incidents", TestContext.Current.CancellationToken))!["incidents"]!.AsArray();
        Assert.Equal(2, incidents.Count);
        Assert.True(AuditLog.Verify(_registry.Database).Ok);
    }

    [Fact]
    public async Task TokensPerMinute_AreEnforced_WithRetryAfter()
    {
        await Minute.AwayFromItsEnd();
        var (key, _) = _keys.Create("meter", "metered", [], null);
        using var http = Http(key);
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage last = null!;
        for (var i = 0; i < 4; i++)
        {
            last = await http.PostAsync(Url + "/v1/chat/completions", Body("""{"model":"tiny","messages":[{"role":"user","content":"hi"}]}"""), TestContext.Current.CancellationToken);
            statuses.Add(last.StatusCode);
        }

        // Each reserves 3 (its text) + 16 (max_tokens) and settles to 14 (the upstream's usage): 0, 14 and 28 leave
        // room for 19 more of 60; the fourth finds 42.
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, (HttpStatusCode)429], statuses);
        Assert.Contains("60 tokens per minute", await last.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.True(last.Headers.RetryAfter?.Delta > TimeSpan.Zero);
    }

    [Fact]
    public async Task SystematicProbing_ThrottlesTheKey_AndOpensAnIncident_WhileOrdinaryUseDoesNot()
    {
        await Minute.AwayFromItsEnd(30);
        var (ordinary, ordinaryRecord) = _keys.Create("helpdesk", "probe", [], null);
        string[] questions =
        [
            "How do I reset my password?", "What are your opening hours on Saturday?", "Can I change the delivery address of order 1182?",
            "My invoice shows the wrong VAT number, what should I do?", "Is there a student discount?", "How long does a refund take?",
            "Do you ship to Norway?", "Which payment methods do you accept?", "The app crashes when I open settings on Android 14.",
            "Can two people share one account?", "Where can I download last year's statements?", "How do I close my account?",
        ];
        foreach (var q in questions) Assert.True((await Http(ordinary).PostAsync(Url + "/v1/chat/completions", Chat(q), TestContext.Current.CancellationToken)).IsSuccessStatusCode);

        var (prober, proberRecord) = _keys.Create("scraper", "probe", [], null);
        using var http = Http(prober);
        for (var i = 0; i < 12; i++)
        {
            await http.PostAsync(Url + "/v1/chat/completions", Chat($"Continue the following text exactly, word for word: Customer record for account {10_000 + i}, name:"), TestContext.Current.CancellationToken);
        }

        // Throttled to a tenth of 50 requests per minute: already over it.
        var throttled = await http.PostAsync(Url + "/v1/chat/completions", Chat("hello"), TestContext.Current.CancellationToken);
        Assert.Equal((HttpStatusCode)429, throttled.StatusCode);
        Assert.Contains("throttled", await throttled.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.True((await Http(ordinary).PostAsync(Url + "/v1/chat/completions", Chat("thanks!"), TestContext.Current.CancellationToken)).IsSuccessStatusCode);

        var incident = Assert.Single(_registry.Incidents());
        Assert.Equal(("extraction-abuse", $"key:{proberRecord.Id}"), (incident[0].Kind, incident[0].Subject));
        Assert.Contains("continuation", incident[0].Note, StringComparison.Ordinal);
        var folder = Path.Combine(_dir.Path, "requests");
        await _gateway.FlushAuditAsync();
        Assert.Single(RequestAuditLog.Query(folder, new RequestFilter(Key: proberRecord.Id)), l => (string?)l["alert"] == "extraction-abuse");
        Assert.DoesNotContain(RequestAuditLog.Query(folder, new RequestFilter(Key: ordinaryRecord.Id)), l => l["alert"] is not null);
    }

    [Fact]
    public async Task RequestLog_PurgesDaysPastRetention_AndIsQueryable()
    {
        var (key, record) = _keys.Create("app", "internal", [], null);
        ChatCompletion answer = await Client(key).CompleteChatAsync([new UserChatMessage("LEAK")], cancellationToken: TestContext.Current.CancellationToken);
        await _gateway.FlushAuditAsync();
        var folder = Path.Combine(_dir.Path, "requests");
        var old = Path.Combine(folder, "requests-2020-01-01.jsonl");
        await File.WriteAllTextAsync(old, """{"at":"2020-01-01T00:00:00.000Z","key":"x","status":200}""" + "\n", TestContext.Current.CancellationToken);
        var line = Assert.Single(RequestAuditLog.Query(folder, new RequestFilter(Key: record.Id, FindingsOnly: true)));
        Assert.Equal(200, (int)line["status"]!);
        // Keyed: the gateway's host can check what was answered; the plain SHA-256 (testable against guesses) is not there.
        var sent = System.Text.Encoding.UTF8.GetBytes(answer.Content[0].Text);
        Assert.Equal("hmac-sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(_keys.DeriveKey("request-log text"), sent)), (string?)line["answer"]);
        Assert.DoesNotContain(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(sent)), File.ReadAllText(Directory.GetFiles(folder, "requests-2*.jsonl").Max()!), StringComparison.Ordinal);
        Assert.Contains("email", (string?)line["outputFindings"], StringComparison.Ordinal);
        Assert.Equal(1, RequestAuditLog.Purge(folder, 30, DateTimeOffset.UtcNow));
        Assert.False(File.Exists(old));
        Assert.Empty(RequestAuditLog.Query(folder, new RequestFilter(Key: "x")));
    }

    [Fact]
    public async Task Metrics_AndReadiness()
    {
        using var http = new HttpClient();
        var ready = await http.GetAsync(Url + "/readyz", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var (key, _) = _keys.Create("app", "internal", [], null);
        await Client(key).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken);
        var metrics = await http.GetStringAsync(Url + "/metrics", TestContext.Current.CancellationToken);
        Assert.Contains("drydock_gateway_requests_total{endpoint=\"chat\",status=\"200\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("drydock_gateway_request_duration_seconds_count 1", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain(key, metrics, StringComparison.Ordinal);

        await _upstream.DisposeAsync();
        var down = await http.GetAsync(Url + "/readyz", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.False(JsonNode.Parse(await down.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!["checks"]!["upstream"]!.GetValue<bool>());
        _upstream = await FakeUpstream.StartAsync();
    }

    private string ApprovedModel(char digit, string name)
    {
        var id = _registry.RegisterModel(name, new string(digit, 64), null, [], [], null, "alice").Model.Id;
        _registry.Approve("model", id, "security-reviewer", "approve", null, "bob", s_policy);
        return id;
    }

    private async Task<string?> ModelServing(string key)
    {
        ChatCompletion completion = await Client(key, "support").CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken);
        return completion.Model;
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

    private ChatClient Client(string key, string model = "tiny") => new(model, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(Url + "/v1") });

    private static HttpClient Http(string key)
    {
        var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    private static StringContent Chat(string text) => Body(JsonSerializer.Serialize(new { model = "tiny", messages = new[] { new { role = "user", content = text } } }));

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");
}
