using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Keys;
using Drydock.Gateway.Limits;
using Drydock.Gateway.State;
using Drydock.Tests.Shared;

namespace Drydock.Gateway.Tests;

/// <summary>
/// Limits that hold under concurrency, on the real gateway: tokens per minute reserved before a request is forwarded
/// (in process and in Redis shared by two instances), every token-limit field checked against the tier.
/// </summary>
public sealed class LimitsTests
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);

    public static TheoryData<string> Stores => new("local", "redis");

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task TwentyConcurrentRequests_StayWithinTheTokensPerMinute(string store)
    {
        var redis = store == "redis" ? Redis() : null;
        await Minute.AwayFromItsEnd(25);
        using var dir = new TempDir();
        await using var upstream = await FakeUpstream.StartAsync();
        var keys = ApiKeyStore.Open(dir.Path);
        var (key, _) = keys.Create("burst", "metered", [], null);
        var prefix = "test-" + Guid.NewGuid().ToString("N");
        await using var a = await GatewayHost.StartAsync(Options(upstream), new GatewayServices(keys, s_detector) { State = await State(redis, prefix) }, "http://127.0.0.1:0", TestContext.Current.CancellationToken);
        await using var b = await GatewayHost.StartAsync(Options(upstream), new GatewayServices(ApiKeyStore.Open(dir.Path), s_detector) { State = await State(redis, prefix) }, "http://127.0.0.1:0", TestContext.Current.CancellationToken);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

        // Every request waits 5 s upstream, so all twenty are in flight before the first is answered; in process they
        // go to one instance, with Redis they alternate between two.
        var gateways = redis is null ? new[] { a, a } : [a, b];
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            using var response = await http.PostAsync(gateways[i % 2].Urls[0] + "/v1/chat/completions", Body("""{"model":"tiny","max_tokens":16,"messages":[{"role":"user","content":"SLOW"}]}"""), TestContext.Current.CancellationToken);
            return (response.StatusCode, Text: await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }));
        var admitted = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        TestContext.Current.TestOutputHelper?.WriteLine($"{store}: {admitted} of 20 admitted, {admitted * 14} tokens used against a limit of 100");

        // The upstream reports 14 tokens an answer; each request reserves 3 (its text) + 16 (max_tokens) = 19 of 100.
        Assert.Equal(5, admitted);
        Assert.True(admitted * 14 <= 100);
        Assert.Equal(admitted, upstream.Requests);
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.OK), r =>
        {
            Assert.Equal((HttpStatusCode)429, r.StatusCode);
            Assert.Contains("100 tokens per minute", r.Text, StringComparison.Ordinal);
        });
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Reservations_AdmitOnlyWhatFits_AndSettleToWhatWasUsed(string store)
    {
        var redis = store == "redis" ? Redis() : null;
        await Minute.AwayFromItsEnd();
        await using var state = await State(redis, "test-" + Guid.NewGuid().ToString("N"));
        var first = await Task.WhenAll(Enumerable.Range(0, 1000).Select(async _ => await state.AdmitAsync("k", 10_000, 1000, 30)));
        Assert.Equal(33, first.Count(a => a.Allowed));
        Assert.All(first.Where(a => !a.Allowed), a => Assert.Equal("tokens", a.Refusal));

        // Each used 10 of its 30: 670 of 1,000 are free again, room for 22 more; a refusal has nothing to settle.
        foreach (var admission in first) await state.SettleAsync("k", admission, 10);
        var second = await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ => await state.AdmitAsync("k", 10_000, 1000, 30)));
        Assert.Equal(22, second.Count(a => a.Allowed));
    }

    [Theory]
    [InlineData("\"max_completion_tokens\":100,\"max_tokens\":1000000", 403, "max_tokens 1000000 is above the tier")]
    [InlineData("\"n\":50,\"max_tokens\":100", 403, "max_tokens 100 for each of 50 choices is above the tier")]
    [InlineData("\"best_of\":8,\"max_tokens\":1000", 403, "for each of 8 choices")]
    [InlineData("\"max_new_tokens\":5000", 403, "max_new_tokens 5000")]
    [InlineData("\"max_output_tokens\":4097", 403, "max_output_tokens 4097")]
    [InlineData("\"min_tokens\":5000", 403, "min_tokens 5000")]
    [InlineData("\"max_tokens\":\"100\"", 400, "max_tokens must be a positive integer")]
    [InlineData("\"max_tokens\":1e6", 400, "max_tokens must be a positive integer")]
    [InlineData("\"max_completion_tokens\":-1", 400, "max_completion_tokens must be a positive integer")]
    [InlineData("\"n\":0", 400, "n must be a positive integer")]
    [InlineData("\"n\":5000", 403, "5000 choices")]
    public async Task EveryTokenLimitField_IsCheckedAgainstTheTier_BeforeAnythingIsForwarded(string fields, int status, string message)
    {
        await using var gateway = await Gateway();
        var response = await Post(gateway.Host, gateway.Key, $$"""{"model":"tiny",{{fields}},"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Contains(message, response.Text, StringComparison.Ordinal);
        Assert.Equal(0, gateway.Upstream.Requests);
    }

    [Theory]
    [InlineData(30, 1000, false, 403)]
    [InlineData(30, 1000, true, 403)]
    [InlineData(4, 1025, false, 403)]
    [InlineData(4, 1024, true, 200)]
    public async Task EveryPromptOfAList_CountsItsChoices(int prompts, int maxTokens, bool tokenIds, int status)
    {
        // /v1/completions answers each prompt of a list with its own choices: 30 prompts of 1,000 tokens are 30,000.
        await using var gateway = await Gateway();
        var list = string.Join(",", Enumerable.Range(0, prompts).Select(i => tokenIds ? $"[{i + 1},2,3]" : $"\"prompt {i}\""));
        var response = await Post(gateway.Host, gateway.Key, $$"""{"model":"tiny","max_tokens":{{maxTokens}},"prompt":[{{list}}]}""", "/v1/completions");
        Assert.Equal(status, (int)response.StatusCode);
        if (status != 200) Assert.Equal(0, gateway.Upstream.Requests);
    }

    [Fact]
    public void TokenIdPrompts_CountInTheReservation()
    {
        var tier = GatewayOptions.DefaultTiers.First(t => t.Name == "internal");
        var ids = new JsonObject { ["prompt"] = new JsonArray([.. Enumerable.Range(0, 2000).Select(i => (JsonNode?)i)]), ["max_tokens"] = 10 };
        Assert.True(TokenLimits.Apply(ids, tier).Reserve >= 2010);
        var lists = new JsonObject { ["prompt"] = new JsonArray(new JsonArray([.. Enumerable.Range(0, 500).Select(i => (JsonNode?)i)]), new JsonArray(1, 2)), ["max_tokens"] = 10 };
        Assert.True(TokenLimits.Apply(lists, tier).Reserve >= 502 + 20);
    }

    [Theory]
    [InlineData("\"n\":4", "max_tokens", 1024)]
    [InlineData("\"max_tokens\":null,\"max_completion_tokens\":null", "max_tokens", 4096)]
    [InlineData("\"max_completion_tokens\":512,\"n\":2", "max_completion_tokens", 512)]
    public async Task WithinTheTier_TheRequestGoesOn_WithEveryChoiceBounded(string fields, string field, int forwarded)
    {
        await using var gateway = await Gateway();
        var response = await Post(gateway.Host, gateway.Key, $$"""{"model":"tiny",{{fields}},"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = gateway.Upstream.LastRequest!.AsObject();
        Assert.Equal(forwarded, (int)sent[field]!);
        Assert.DoesNotContain(sent, p => p.Value is null);
    }

    [Fact]
    public async Task IdleTimeouts_StopAStalledBody_AndAStalledStream()
    {
        await using var gateway = await Gateway(idle: TimeSpan.FromSeconds(1), window: 0);
        var whole = await Post(gateway.Host, gateway.Key, """{"model":"tiny","messages":[{"role":"user","content":"STALL"}]}""");
        Assert.Equal(HttpStatusCode.GatewayTimeout, whole.StatusCode);
        Assert.Contains("sent nothing for 1 s", whole.Text, StringComparison.Ordinal);

        // With no hold-back window the first chunk has left: the stream ends with an error event.
        var streamed = await Post(gateway.Host, gateway.Key, """{"model":"tiny","stream":true,"messages":[{"role":"user","content":"STALL"}]}""");
        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        Assert.Contains("tick", streamed.Text, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"upstream_timeout\"", streamed.Text, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]", streamed.Text.TrimEnd(), StringComparison.Ordinal);
    }

    private sealed record TestGateway(GatewayHost Host, FakeUpstream Upstream, string Key, TempDir Dir) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Host.DisposeAsync();
            await Upstream.DisposeAsync();
            Dir.Dispose();
        }
    }

    private static async Task<TestGateway> Gateway(TimeSpan? idle = null, int window = 64)
    {
        var dir = new TempDir();
        var upstream = await FakeUpstream.StartAsync();
        var keys = ApiKeyStore.Open(dir.Path);
        var options = Options(upstream) with { UpstreamIdleTimeout = idle ?? TimeSpan.FromSeconds(60), StreamWindow = window };
        var host = await GatewayHost.StartAsync(options, new GatewayServices(keys, s_detector), "http://127.0.0.1:0", TestContext.Current.CancellationToken);
        return new TestGateway(host, upstream, keys.Create("app", "internal", [], null).Key, dir);
    }

    // The client gives up after 20 s: a gateway that waited for the stalled upstream (a minute) fails the test.
    private static async Task<(HttpStatusCode StatusCode, string Text)> Post(GatewayHost gateway, string key, string json, string path = "/v1/chat/completions")
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.PostAsync(gateway.Urls[0] + path, Body(json), TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static async Task<IGatewayState> State(string? redis, string prefix) => redis is null ? new LocalGatewayState() : await RedisGatewayState.ConnectAsync(redis, prefix);

    private static string Redis()
    {
        var address = Environment.GetEnvironmentVariable("DRYDOCK_TEST_REDIS");
        if (address is not null) return address;
        if (Environment.GetEnvironmentVariable("DRYDOCK_REQUIRE_REDIS") == "1") Assert.Fail("DRYDOCK_TEST_REDIS is not set but DRYDOCK_REQUIRE_REDIS=1");
        Assert.Skip("DRYDOCK_TEST_REDIS is not set (./test.sh starts Redis and sets it)");
        return "";
    }

    private static GatewayOptions Options(FakeUpstream upstream)
    {
        var tiers = GatewayOptions.DefaultTiers.ToDictionary(t => t.Name);
        tiers["metered"] = new Tier("metered", ["*"], 16, true, GuardMode.Block, GuardMode.Redact, RequestsPerMinute: 1000, TokensPerMinute: 100);
        return new GatewayOptions { Upstream = new Uri(upstream.BaseUrl), Tiers = tiers, AbuseThreshold = 1, UpstreamTimeout = TimeSpan.FromSeconds(30) };
    }

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");
}
