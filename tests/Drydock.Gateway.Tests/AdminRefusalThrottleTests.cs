using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Keys;
using Drydock.Gateway.Operations;
using Drydock.Provenance.Audit;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;

namespace Drydock.Gateway.Tests;

/// <summary>
/// A flood of bad keys at a running gateway's <c>/admin</c> (over HTTP, the gateway's clock moved by the test) writes at
/// most one audit entry per key fingerprint a minute and at most <see cref="RefusedKeyLog.FingerprintsPerMinute"/> + 1
/// entries a minute in all; the counts in the entries add up to every refusal once the gateway stops.
/// </summary>
public sealed partial class AdminRefusalThrottleTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private readonly ManualTime _time = new(new DateTimeOffset(2026, 12, 7, 8, 0, 0, TimeSpan.Zero));
    private FakeUpstream _upstream = null!;
    private GatewayHost? _gateway;
    private ProvenanceRegistry _registry = null!;
    private ApiKeyStore _keys = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _keys = ApiKeyStore.Open(Path.Combine(_dir.Path, "keys"));
        var location = Path.Combine(_dir.Path, "registry.db");
        _registry = ProvenanceRegistry.Open(location);
        var options = new GatewayOptions { Upstream = new Uri(_upstream.BaseUrl), Tiers = GatewayOptions.DefaultTiers.ToDictionary(t => t.Name), UpstreamTimeout = TimeSpan.FromSeconds(2) };
        var operations = new GatewayOperations(ProvenanceRegistry.Open(location), options.Aliases, new ApprovalPolicy(["security-reviewer"], "confidential"), TimeSpan.FromSeconds(30));
        _gateway = await GatewayHost.StartAsync(options, new GatewayServices(_keys, Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers)) { Operations = operations, Time = _time }, "http://127.0.0.1:0");
    }

    public async ValueTask DisposeAsync()
    {
        if (_gateway is not null) await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        _registry.Dispose();
        _dir.Dispose();
    }

    private async Task Refuse(HttpClient http, string key, HttpStatusCode status)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/keys/revoke") { Content = new StringContent("""{"id":"dk-0"}""", Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(status, response.StatusCode);
    }

    private List<AuditEntry> Refusals() => [.. AuditLog.Query(_registry.Database, new AuditFilter(Action: "access.refused", Limit: 100_000)).OrderBy(e => e.Seq)];

    [GeneratedRegex(@"refused (\d+) time\(s\)")]
    private static partial Regex Count();

    private static long CountOf(AuditEntry e) => Count().Match(e.Details) is { Success: true } m ? long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 1;

    [Fact]
    public async Task AFloodOfBadKeys_IsOneEntryPerKeyAMinute_WithCountsThatAddUpToEveryRefusal()
    {
        using var http = new HttpClient { BaseAddress = new Uri(_gateway!.Urls[0]) };
        var wrong = "ddk_nosuchid_" + new string('y', 43);
        var (modelKey, record) = _keys.Create("app", "internal", [], null);
        long sent = 0;

        // One wrong key 100 times and a model-tier key 20 times in a minute: one entry each, written at the first.
        for (var i = 0; i < 100; i++, sent++) await Refuse(http, wrong, HttpStatusCode.Unauthorized);
        for (var i = 0; i < 20; i++, sent++) await Refuse(http, modelKey, HttpStatusCode.Forbidden);
        var first = Refusals();
        Assert.Equal(2, first.Count);
        Assert.Single(first, e => e.Actor == AdminApi.PresentedKeyActor(wrong));
        Assert.Single(first, e => e.Actor == "key:" + record.Id);

        // The next refusal after the minute carries the count of the minute before.
        _time.Advance(TimeSpan.FromSeconds(61));
        await Refuse(http, wrong, HttpStatusCode.Unauthorized);
        sent++;
        var carried = Refusals().Last();
        Assert.Equal(AdminApi.PresentedKeyActor(wrong), carried.Actor);
        Assert.Equal(100, CountOf(carried));

        // 150 different keys in one minute: 60 fingerprints recorded (one used above), the rest counted together.
        for (var i = 0; i < 150; i++, sent++) await Refuse(http, $"ddk_flood{i:d4}_" + new string('z', 43), HttpStatusCode.Unauthorized);
        var minute = Refusals().Skip(first.Count).ToList();
        Assert.Equal(RefusedKeyLog.FingerprintsPerMinute, minute.Count);
        _time.Advance(TimeSpan.FromSeconds(61));
        await Refuse(http, wrong, HttpStatusCode.Unauthorized);
        sent++;
        Assert.Contains(Refusals(), e => e.Actor == RefusedKeyLog.Others && CountOf(e) == 150 - (RefusedKeyLog.FingerprintsPerMinute - 1));

        // Stopping the gateway flushes the counts not yet recorded (the model-tier key's 19 further refusals).
        await _gateway.DisposeAsync();
        _gateway = null;
        var all = Refusals();
        Assert.Equal(sent, all.Sum(CountOf));
        Assert.Single(all, e => e.Actor == "key:" + record.Id && CountOf(e) == 19);
        Assert.DoesNotContain(all, e => e.Details.Contains(wrong, StringComparison.Ordinal) || e.Details.Contains(modelKey, StringComparison.Ordinal));
        Assert.True(AuditLog.Verify(_registry.Database).Ok);
    }

    private sealed class ManualTime(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
