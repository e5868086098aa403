using Drydock.Gateway.Tests;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// The demo's monitoring step alone, through the built CLI (<c>drydock demo monitor</c>; the whole demo trains for
/// minutes and runs the same step after its gate against the hardened model): the gateway in front of a scripted model
/// server, a day of traffic replayed in seconds, and <c>drydock monitor</c> flagging the burst of extraction attempts
/// and the new template while ordinary traffic stays quiet.
/// </summary>
public sealed class DemoMonitorStepTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task MonitorStep_FlagsTheBurstAndTheNewTemplate_OrdinaryTrafficQuiet()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        Assert.Equal(0, (await DrydockProcess.Run(_dir.Path, "init")).Exit);
        var yaml = await File.ReadAllTextAsync(Path.Combine(_dir.Path, "drydock.yaml"), TestContext.Current.CancellationToken);

        var step = await DrydockProcess.Run(_dir.Path, ["demo", "monitor", "--upstream", upstream.BaseUrl, "--model", "tiny"], timeout: TimeSpan.FromMinutes(3), cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(step.Exit == 0, step.ToString());
        Assert.Matches(@"monitor  ordinary traffic against the day: quiet \(100 requests\)", step.Stdout);
        Assert.Matches(@"monitor  the burst against the day: ALERT: .*extraction \(abuse\)", step.Stdout);
        Assert.Contains("templates (drift)", step.Stdout, StringComparison.Ordinal);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(step.Stdout, @"key \S+ has [1-9]\d* requests with high extraction scores"), step.Stdout);
        Assert.True(new FileInfo(Path.Combine(_dir.Path, "monitor.html")).Length > 1000);

        // The project's settings are put back (the step's one-second buckets are the demo's, not the project's), and the
        // step's log holds every command it ran.
        Assert.Equal(yaml, await File.ReadAllTextAsync(Path.Combine(_dir.Path, "drydock.yaml"), TestContext.Current.CancellationToken));
        var log = await File.ReadAllTextAsync(Path.Combine(_dir.Path, "demo-monitor.log"), TestContext.Current.CancellationToken);
        Assert.Contains("drydock monitor --from", log, StringComparison.Ordinal);
        Assert.Contains("drydock serve --upstream", log, StringComparison.Ordinal);

        // Outside a project, or with a monitor: section of the project's own, it says so (exit 2).
        await File.AppendAllTextAsync(Path.Combine(_dir.Path, "drydock.yaml"), "\nmonitor:\n  window-hours: 24\n", TestContext.Current.CancellationToken);
        var own = await DrydockProcess.Run(_dir.Path, "demo", "monitor", "--upstream", upstream.BaseUrl, "--model", "tiny");
        Assert.Equal(2, own.Exit);
        Assert.Contains("already has a monitor: section", own.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MonitorStep_AModelServerThatDoesNotAnswer_IsAnErrorNotAQuietMonitor()
    {
        Assert.Equal(0, (await DrydockProcess.Run(_dir.Path, "init")).Exit);

        // Nothing listens on port 9: every answer is a 502, and a monitor over failed requests says nothing about traffic.
        var step = await DrydockProcess.Run(_dir.Path, ["demo", "monitor", "--upstream", "http://127.0.0.1:9/v1", "--model", "tiny"], timeout: TimeSpan.FromMinutes(3), cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(step.Exit == 2, step.ToString());
        Assert.Contains("answered 0 of 200 ordinary questions", step.Stderr, StringComparison.Ordinal);
    }
}
