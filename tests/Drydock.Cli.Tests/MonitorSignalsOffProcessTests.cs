using Drydock.Gateway.Tests;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// <c>monitor.signals: false</c> as an operator sets it (and as bench/monitor/overhead.sh compares it): a real
/// <c>drydock serve</c> keeps its request log but no signal log, and says so at start; the default keeps both. Signal
/// files older than the retention are deleted either way, and <c>drydock monitor</c> refuses to report on a project
/// whose gateway keeps no signals (it read nothing and said "quiet").
/// </summary>
public sealed class MonitorSignalsOffProcessTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Serve_KeepsTheSignalLog_UnlessSignalsIsFalse_AndSaysSoAtStart(bool signals)
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await SignalFixture.Project(_dir.Path, $"  signals: {(signals ? "true" : "false")}\n  flush-seconds: 1\n");
        var created = await DrydockProcess.Run(_dir.Path, "keys", "create", "--name", "app", "--tier", "internal");
        Assert.True(created.Exit == 0, created.ToString());
        var key = created.Stdout.Trim();
        var folder = SignalFixture.Folder(_dir.Path);
        Directory.CreateDirectory(folder);
        var old = Path.Combine(folder, "signals-2020-01-01.jsonl");
        await File.WriteAllTextAsync(old, "{}\n", TestContext.Current.CancellationToken);
        var url = $"http://127.0.0.1:{DrydockProcess.FreePort()}";
        using var gateway = DrydockProcess.Start(_dir.Path, ["serve", "--upstream", upstream.BaseUrl, "--listen", url]);
        await gateway.WaitUntilListening(new Uri(url + "/healthz"));
        using var http = new HttpClient();
        for (var i = 0; i < 5; i++) Assert.True(await SignalFixture.Chat(http, url, key, $"When does order {i} ship?", cancellationToken: TestContext.Current.CancellationToken));

        await SignalFixture.Until(() => Task.FromResult(Directory.Exists(folder) && Directory.GetFiles(folder, "requests-*").Length > 0), TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(200), () => "no request log was written:\n" + gateway.Output);
        if (signals)
        {
            await SignalFixture.Until(() => Task.FromResult(Directory.GetFiles(folder, "signals-*.jsonl").Any(f => new FileInfo(f).Length > 0)), TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(200), () => "no signal log was written:\n" + gateway.Output);
            Assert.DoesNotContain("monitor.signals is false", gateway.Output, StringComparison.Ordinal);
        }
        else
        {
            await Task.Delay(2500, TestContext.Current.CancellationToken); // two flushes of the signal log, were one kept
            Assert.Empty(Directory.GetFiles(folder, "signals-*.jsonl"));
            Assert.Contains("monitor.signals is false: no signal log is kept", gateway.Output, StringComparison.Ordinal);
            var monitor = await DrydockProcess.Run(_dir.Path, "monitor");
            Assert.True(monitor.Exit == 2, monitor.ToString());
            Assert.Contains("monitor.signals is false", monitor.Stderr, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(old), "a signal file older than the retention was kept:\n" + gateway.Output);
    }
}
