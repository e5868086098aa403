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
/// Limits that hold: a burst of 10,000 admissions against both state stores, 10,000 HTTP requests against one
/// gateway, and two gateway instances sharing one real Redis (DRYDOCK_TEST_REDIS, started by test.sh).
/// </summary>
public sealed class SharedStateTests
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);

    private static string Redis()
    {
        var address = Environment.GetEnvironmentVariable("DRYDOCK_TEST_REDIS");
        if (address is not null) return address;
        if (Environment.GetEnvironmentVariable("DRYDOCK_REQUIRE_REDIS") == "1") Assert.Fail("DRYDOCK_TEST_REDIS is not set but DRYDOCK_REQUIRE_REDIS=1");
        Assert.Skip("DRYDOCK_TEST_REDIS is not set (./test.sh starts Redis and sets it)");
        return "";
    }

    public static TheoryData<string> Stores => new("local", "redis");

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task ABurstOf10kAdmissions_LetsExactlyTheLimitThrough(string store)
    {
        await Minute.AwayFromItsEnd();
        await using IGatewayState state = store == "local" ? new LocalGatewayState() : await RedisGatewayState.ConnectAsync(Redis(), "test-" + Guid.NewGuid().ToString("N"));
        var results = await Task.WhenAll(Enumerable.Range(0, 10_000).Select(async _ => await state.AdmitAsync("burst", 1000, 1_000_000, 1)));
        Assert.Equal(1000, results.Count(r => r.Allowed));
        Assert.All(results.Where(r => !r.Allowed), r => Assert.Equal("requests", r.Refusal));

        await state.SettleAsync("burst", results.First(r => r.Allowed), 2_000_000);
        Assert.Equal("tokens", (await state.AdmitAsync("burst", 1000, 1_000_000, 0)).Refusal);
        await state.ThrottleAsync("other", TimeSpan.FromMinutes(1));
        var throttled = await Task.WhenAll(Enumerable.Range(0, 30).Select(async _ => await state.AdmitAsync("other", 100, 1_000_000, 0)));
        Assert.Equal(10, throttled.Count(r => r.Allowed));
        Assert.All(throttled, r => Assert.True(r.Throttled));
        await state.RevokeAsync("other");
        Assert.Equal("revoked", (await state.AdmitAsync("other", 100, 1_000_000, 0)).Refusal);
        Assert.True(await state.PingAsync());
    }

    [Fact]
    public async Task ABurstOf10kRequests_ThroughTheGateway_GetsExactlyTheKeysLimit()
    {
        await Minute.AwayFromItsEnd(25);
        using var dir = new TempDir();
        await using var upstream = await FakeUpstream.StartAsync();
        var keys = ApiKeyStore.Open(dir.Path);
        var (key, _) = keys.Create("burst", "limited", [], null);
        await using var gateway = await GatewayHost.StartAsync(Options(upstream, 500), new GatewayServices(keys, s_detector), "http://127.0.0.1:0", TestContext.Current.CancellationToken);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 });
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var gate = new SemaphoreSlim(64);
        var statuses = await Task.WhenAll(Enumerable.Range(0, 10_000).Select(async _ =>
        {
            await gate.WaitAsync(TestContext.Current.CancellationToken);
            try
            {
                using var response = await http.PostAsync(gateway.Urls[0] + "/v1/chat/completions", Body(), TestContext.Current.CancellationToken);
                return response.StatusCode;
            }
            finally
            {
                gate.Release();
            }
        }));
        Assert.Equal(500, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(9_500, statuses.Count(s => s == (HttpStatusCode)429));
        Assert.Equal(500, upstream.Requests);
    }

    [Fact]
    public async Task TwoInstances_ShareOneLimit_AndARevocation_ThroughRedis()
    {
        await Minute.AwayFromItsEnd();
        var redis = Redis();
        using var dir = new TempDir();
        await using var upstream = await FakeUpstream.StartAsync();
        var keys = ApiKeyStore.Open(dir.Path);
        var (key, record) = keys.Create("shared", "limited", [], null);
        var prefix = "test-" + Guid.NewGuid().ToString("N");
        await using var a = await GatewayHost.StartAsync(Options(upstream, 6), new GatewayServices(keys, s_detector) { State = await RedisGatewayState.ConnectAsync(redis, prefix) }, "http://127.0.0.1:0", TestContext.Current.CancellationToken);
        await using var b = await GatewayHost.StartAsync(Options(upstream, 6), new GatewayServices(ApiKeyStore.Open(dir.Path), s_detector) { State = await RedisGatewayState.ConnectAsync(redis, prefix) }, "http://127.0.0.1:0", TestContext.Current.CancellationToken);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++) statuses.Add((await http.PostAsync((i % 2 == 0 ? a : b).Urls[0] + "/v1/chat/completions", Body(), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(6, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(4, statuses.Count(s => s == (HttpStatusCode)429));

        // Revoked on one instance's state: the other refuses the key at once.
        await using var other = await RedisGatewayState.ConnectAsync(redis, prefix);
        await other.RevokeAsync(record.Id);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync(b.Urls[0] + "/v1/chat/completions", Body(), TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task AnUnreachableRedis_IsAClearStartError()
    {
        var error = await Assert.ThrowsAsync<GatewayConfigException>(() => RedisGatewayState.ConnectAsync("127.0.0.1:1,connectTimeout=500"));
        Assert.Contains("cannot connect", error.Message, StringComparison.Ordinal);
    }

    private static GatewayOptions Options(FakeUpstream upstream, int requestsPerMinute)
    {
        var tiers = GatewayOptions.DefaultTiers.ToDictionary(t => t.Name);
        tiers["limited"] = new Tier("limited", ["*"], 512, true, GuardMode.Block, GuardMode.Redact, requestsPerMinute, 100_000_000);
        // The same prompt at the full rate scores 0.5 on the extraction monitor (near-duplicates and volume); these
        // tests are about the limits, so the monitor's threshold is out of its reach.
        return new GatewayOptions { Upstream = new Uri(upstream.BaseUrl), Tiers = tiers, AbuseThreshold = 1 };
    }

    private static StringContent Body() => new("""{"model":"tiny","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json");
}
