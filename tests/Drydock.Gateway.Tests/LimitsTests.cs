using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Keys;
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

        // The upstream reports 14 tokens an answer; each request reserves 1 (prompt) + 16 (max_tokens) = 17 of 100.
        Assert.Equal(5, admitted);
        Assert.True(admitted * 14 <= 100);
        Assert.Equal(admitted, upstream.Requests);
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.OK), r =>
        {
            Assert.Equal((HttpStatusCode)429, r.StatusCode);
            Assert.Contains("100 tokens per minute", r.Text, StringComparison.Ordinal);
        });
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
