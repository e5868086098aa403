using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Audit;
using Drydock.Gateway.Keys;
using Drydock.Tests.Shared;

namespace Drydock.Gateway.Tests;

/// <summary>
/// A running gateway's signal log follows the gateway's clock: a request's bucket and day file, and the retention
/// that deletes day files at start, are the clock's (a stepped one, years from now), with no waiting.
/// </summary>
public sealed class SignalClockTests : IAsyncDisposable
{
    private readonly TempDir _dir = new();
    private readonly SteppedClock _clock = new(new DateTimeOffset(2031, 3, 1, 10, 0, 30, TimeSpan.Zero));
    private FakeUpstream? _upstream;

    public async ValueTask DisposeAsync()
    {
        if (_upstream is not null) await _upstream.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task TheSignalLog_BucketsDaysAndRetention_FollowTheGatewaysClock()
    {
        var folder = Path.Combine(_dir.Path, "requests");
        Directory.CreateDirectory(folder);
        var old = Path.Combine(folder, "signals-2031-01-15.jsonl");
        var kept = Path.Combine(folder, "signals-2031-02-28.jsonl");
        await File.WriteAllTextAsync(old, "", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(kept, "", TestContext.Current.CancellationToken);
        _upstream = await FakeUpstream.StartAsync();
        var keys = ApiKeyStore.Open(Path.Combine(_dir.Path, "keys"));
        var options = new GatewayOptions
        {
            Upstream = new Uri(_upstream.BaseUrl), Tiers = GatewayOptions.DefaultTiers.ToDictionary(t => t.Name), UpstreamTimeout = TimeSpan.FromSeconds(2),
            AuditFolder = folder, AuditText = AuditText.Hash, AuditRetentionDays = 30,
        };
        var gateway = await GatewayHost.StartAsync(options, new GatewayServices(keys, Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers)) { Time = _clock }, "http://127.0.0.1:0", TestContext.Current.CancellationToken);
        try
        {
            // At start the purge ran on the gateway's clock: mid-January is past 30 days on 1 March 2031, 28 February is not.
            Assert.False(File.Exists(old));
            Assert.True(File.Exists(kept));

            var (key, _) = keys.Create("app", "internal", [], null);
            using var http = new HttpClient();
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var body = new StringContent("""{"model":"tiny","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(gateway.Urls[0] + "/v1/chat/completions", body, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        finally
        {
            await gateway.DisposeAsync(); // flushes the signal log
        }

        // The request's bucket is the minute the clock stood in, in the clock's day file.
        var day = Path.Combine(folder, "signals-2031-03-01.jsonl");
        Assert.True(File.Exists(day), string.Join(", ", Directory.EnumerateFiles(folder).Select(Path.GetFileName)));
        var bucket = new DateTimeOffset(2031, 3, 1, 10, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
        Assert.StartsWith($"{{\"at\":{bucket},", (await File.ReadAllLinesAsync(day, TestContext.Current.CancellationToken)).Single(), StringComparison.Ordinal);
    }
}
