using System.Text.Json.Nodes;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// <c>drydock monitor --watch --from-registry</c> as operators run it on a machine without the gateway's log: the
/// gateway's machine writes the hourly summaries (here the built CLI's <c>--watch --publish</c>, from a signal log with
/// ordinary traffic and, in the last hour, a scraping key and a new template); a second project reaches the registry
/// only, and its watch raises one alert per crossing, keeps its state in its own <c>.drydock/monitor/</c>, and does not
/// alert again when restarted while the signals stay crossed.
/// </summary>
public sealed class MonitorRegistryWatchProcessTests : IDisposable
{
    private readonly TempDir _gateway = new();
    private readonly TempDir _elsewhere = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _gateway.Dispose();
        _elsewhere.Dispose();
    }

    [Fact]
    public async Task WatchFromRegistry_AlertsOncePerCrossing_OnAnotherMachine()
    {
        foreach (var dir in new[] { _gateway.Path, _elsewhere.Path }) await SignalFixture.Project(dir, "  window-hours: 24\n");

        var registry = Path.Combine(_gateway.Path, ".drydock", "registry.db");
        string[] watch = ["monitor", "--watch", "--from-registry", "--registry", registry, "--checks", "1"];

        // A registry with no summary (its own, here) is said at the first check (exit 2), not watched quietly.
        var empty = await DrydockProcess.Run(_elsewhere.Path, ["monitor", "--watch", "--from-registry", "--checks", "1"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(2, empty.Exit);
        Assert.Contains("holds no signal summaries", empty.Stderr, StringComparison.Ordinal);

        var now = DateTimeOffset.UtcNow;
        await SignalFixture.Rows(_gateway.Path, Enumerable.Range(1, 24 * 8).Select(h => now.AddHours(-h)), at => SignalFixture.Row(at, """{"alias":"support","tier":"internal","key":"ddk_app","requests":100,"answers":100,"refusals":5,"promptLength":[0,0,0,0,0,10,40,40,10,0,0,0],"templates":{"0000aaaa":50,"0000bbbb":50}}"""));
        await SignalFixture.Rows(_gateway.Path, [now], at => SignalFixture.Row(at, SignalFixture.ScraperHour));

        var publish = await DrydockProcess.Run(_gateway.Path, ["monitor", "--watch", "--publish", "--checks", "1"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(publish.Exit == 0, publish.ToString());

        // The other machine's watch: the burst of the hour under way is compared (not cut off by the rounding to hours).
        var first = await DrydockProcess.Run(_elsewhere.Path, watch, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(first.Exit == 0, first.ToString());
        Assert.Contains("watching the registry's signal summaries", first.Stderr, StringComparison.Ordinal);
        Assert.Matches(@"check 1: window \d+ requests, baseline \d+: crossed .*extraction \(abuse\)", first.Stdout);
        Assert.Contains("templates (drift)", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("ALERT: ", first.Stderr, StringComparison.Ordinal);
        var alerts = Path.Combine(_elsewhere.Path, ".drydock", "monitor");
        var logged = Directory.GetFiles(alerts, "alerts-*.jsonl").SelectMany(File.ReadAllLines).ToList();
        var alert = JsonNode.Parse(Assert.Single(logged))!;
        Assert.Contains("abuse", alert["kinds"]!.AsArray().Select(k => (string)k!));
        Assert.Equal("ddk_scraper", (string)alert["keys"]![0]!["key"]!);
        var state = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(alerts, "alerts-state.json"), TestContext.Current.CancellationToken))!;
        Assert.Contains("extraction", state["crossing"]!.AsArray().Select(k => (string)k!));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(alerts));

        // Restarted while the signals stay crossed: no second alert.
        var again = await DrydockProcess.Run(_elsewhere.Path, watch, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(again.Exit == 0, again.ToString());
        Assert.Contains("crossed", again.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("ALERT: ", again.Stderr, StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(alerts, "alerts-*.jsonl").SelectMany(File.ReadAllLines));

        // A damaged state file is exit 2 naming it, never a silent reset; --folder and --publish are the gateway's side.
        await File.WriteAllTextAsync(Path.Combine(alerts, "alerts-state.json"), "{\"crossing\": 3}", TestContext.Current.CancellationToken);
        var damaged = await DrydockProcess.Run(_elsewhere.Path, watch, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(2, damaged.Exit);
        Assert.Contains("alerts-state.json", damaged.Stderr, StringComparison.Ordinal);
        var both = await DrydockProcess.Run(_elsewhere.Path, "monitor", "--watch", "--from-registry", "--publish", "--registry", registry);
        Assert.Equal(2, both.Exit);
    }
}
