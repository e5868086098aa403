using System.Text.Json.Nodes;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// The signals' hourly summaries in the registry's database, as operators run it: on the gateway's machine the built
/// CLI's <c>monitor --watch --publish</c> writes them from the signal log; on another machine (a second project with no
/// signal log) <c>monitor --from-registry</c> reads them and finds what the local report finds. SQLite, and PostgreSQL
/// where DRYDOCK_TEST_POSTGRES names a server (skipped otherwise, failing when DRYDOCK_REQUIRE_POSTGRES=1).
/// </summary>
public sealed class MonitorRegistryProcessTests : IDisposable
{
    private readonly TempDir _gateway = new();
    private readonly TempDir _elsewhere = new();
    private TestDatabase? _postgres;

    public static TheoryData<string> Backends => TestDatabase.Backends;

    public void Dispose()
    {
        _postgres?.Dispose();
        _gateway.Dispose();
        _elsewhere.Dispose();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task PublishedSummaries_ReadOnAnotherMachine_FindWhatTheLocalLogFinds(string backend)
    {
        await SignalFixture.Project(_gateway.Path, "  window-hours: 24\n");
        await SignalFixture.Project(_elsewhere.Path, "  window-hours: 24\n");
        var registry = backend == "sqlite" ? Path.Combine(_gateway.Path, ".drydock", "registry.db") : (_postgres = new TestDatabase()).ConnectionString;
        var now = DateTimeOffset.UtcNow;
        await SignalFixture.Rows(_gateway.Path, Enumerable.Range(0, 24 * 8).Select(h => now.AddMinutes(-30 - (60 * h))), at => SignalFixture.Row(at, SignalFixture.OrdinaryHour));
        await SignalFixture.Rows(_gateway.Path, [now.AddMinutes(-30)], at => SignalFixture.Row(at, SignalFixture.ScraperHour));

        // Nothing published yet (its own registry, or the PostgreSQL one): the other machine is told so (exit 2), not shown a quiet report.
        string[] onRegistry = backend == "sqlite" ? [] : ["--registry", registry];
        var empty = await DrydockProcess.Run(_elsewhere.Path, ["monitor", "--from-registry", .. onRegistry], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(2, empty.Exit);
        Assert.Contains("holds no signal summaries", empty.Stderr, StringComparison.Ordinal);
        Assert.Contains("--watch --publish", empty.Stderr, StringComparison.Ordinal);

        // The gateway's machine publishes (twice: a restarted watch replaces the hours it wrote, it does not add them again).
        for (var run = 0; run < 2; run++)
        {
            var watch = await DrydockProcess.Run(_gateway.Path, ["monitor", "--watch", "--publish", "--checks", "1", .. onRegistry], cancellationToken: TestContext.Current.CancellationToken);
            Assert.True(watch.Exit == 0, watch.ToString());
            Assert.Matches(@"check 1: \d+ hourly summaries from \S+Z written to the registry", watch.Stderr);
        }

        // Whole hours, so the local log and the summaries cover the same rows.
        var to = DateTimeOffset.FromUnixTimeSeconds((now.ToUnixTimeSeconds() / 3600 * 3600) + 3600);
        string[] periods = ["--to", SignalFixture.Iso(to), "--from", SignalFixture.Iso(to.AddHours(-24)), "--baseline-from", SignalFixture.Iso(to.AddHours(-24 * 8)), "--baseline-to", SignalFixture.Iso(to.AddHours(-24))];
        var local = await DrydockProcess.Run(_gateway.Path, ["monitor", "--format", "json", .. periods], cancellationToken: TestContext.Current.CancellationToken);
        var remote = await DrydockProcess.Run(_elsewhere.Path, ["monitor", "--from-registry", "--registry", registry, "--format", "json", .. periods], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(remote.Exit == 1, remote.ToString());
        Assert.Equal(1, local.Exit);
        var l = JsonNode.Parse(local.Stdout)!;
        var r = JsonNode.Parse(remote.Stdout)!;
        Assert.True((bool)r["alert"]!);
        foreach (var period in new[] { "window", "baseline" })
        {
            Assert.Equal(l[period]!.ToJsonString(), r[period]!.ToJsonString());
        }

        Assert.Equal(16800, (long)r["baseline"]!["requests"]!);
        Assert.True((long)r["window"]!["requests"]! >= 3100, remote.Stdout);
        var crossed = r["signals"]!.AsArray().Where(s => (string)s!["status"]! == "drift").Select(s => (string)s!["signal"]!).ToList();
        Assert.Equal(l["signals"]!.AsArray().Where(s => (string)s!["status"]! == "drift").Select(s => (string)s!["signal"]!), crossed);
        Assert.Contains("extraction", crossed);
        Assert.Contains("templates", crossed);
        Assert.Equal("ddk_scraper", (string)r["keys"]![0]!["key"]!);
        Assert.DoesNotContain("Password", remote.Stdout + remote.Stderr, StringComparison.OrdinalIgnoreCase);

        // The table says where it read from only through its figures; bad combinations are refused.
        var both = await DrydockProcess.Run(_elsewhere.Path, "monitor", "--from-registry", "--folder", _elsewhere.Path, "--registry", registry);
        Assert.Equal(2, both.Exit);
        var publishAlone = await DrydockProcess.Run(_gateway.Path, "monitor", "--publish");
        Assert.Equal(2, publishAlone.Exit);
        Assert.Contains("--publish goes with --watch", publishAlone.Stderr, StringComparison.Ordinal);
    }
}
