using System.Net;
using System.Text.Json.Nodes;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// <c>drydock monitor --watch</c> as operators run it: the built CLI in its own process over a signal log in the
/// gateway's format (a week of ordinary traffic as baseline, the last day as window), a real local HTTP receiver for
/// its webhook, and one that is down. An extraction burst and a new template planted while it watches raise one alert
/// (webhook, alerts log, stderr, incidents); a receiver that is down is retried with backoff while the checks go on.
/// </summary>
public sealed class MonitorWatchProcessTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Folder => SignalFixture.Folder(_dir.Path);

    [Fact]
    public async Task Watch_PlantedBurst_RaisesOneAlert_ToTheWebhook_TheAlertsLog_AndIncidents()
    {
        var port = DrydockProcess.FreePort();
        using var receiver = new HttpListener();
        receiver.Prefixes.Add($"http://127.0.0.1:{port}/");
        receiver.Start();
        var posts = new List<(string Method, string Type, string Body)>();
        _ = Task.Run(async () =>
        {
            while (receiver.IsListening)
            {
                var context = await receiver.GetContextAsync();
                using var reader = new StreamReader(context.Request.InputStream);
                var body = await reader.ReadToEndAsync();
                lock (posts) posts.Add((context.Request.HttpMethod, context.Request.ContentType ?? "", body));
                context.Response.StatusCode = 204;
                context.Response.Close();
            }
        }, TestContext.Current.CancellationToken);

        await Project($"  webhook: http://127.0.0.1:{port}/hooks/T0KEN-in-path\n  incidents: true\n");
        var now = DateTimeOffset.UtcNow;
        await Ordinary(now);
        using var watch = DrydockProcess.Start(_dir.Path, ["monitor", "--watch", "--every", "2s", "--checks", "4"]);
        await Until(() => watch.Output.Contains("check 1:", StringComparison.Ordinal), watch);
        Assert.Contains("check 1: window 2400 requests, baseline 16800: quiet", watch.Output, StringComparison.Ordinal);

        // The burst lands while it watches: one key scraping, with a template the baseline never had.
        await SignalFixture.Rows(_dir.Path, [now.AddMinutes(-30)], at => $$$"""{"at":{{{at}}},"alias":"support","tier":"internal","key":"ddk_scraper","requests":800,"answers":800,"extractionScored":800,"extractionHigh":800,"extractionMax":0.93,"promptLength":[0,0,0,0,0,0,800,0,0,0,0,0],"latency":[0,0,0,0,0,0,0,800,0,0,0,0],"templates":{"0000cccc":800}}""");
        await Until(() => watch.HasExited, watch, seconds: 90);
        var output = watch.Output;
        Assert.Contains("check 4:", output, StringComparison.Ordinal);
        Assert.Matches(@"check \d: window 3200 requests, baseline 16800: crossed .*extraction \(abuse\)", output);
        Assert.Contains($"alerts to webhook http://127.0.0.1:{port}; alerts open incidents", output, StringComparison.Ordinal);
        Assert.DoesNotContain("T0KEN", output, StringComparison.Ordinal); // the URL's path (a token, often) is never logged
        Assert.Contains("alert delivered", output, StringComparison.Ordinal);

        // One alert for the burst (the checks after it still cross, and do not alert again).
        await Until(() => { lock (posts) return posts.Count > 0; }, watch);
        List<(string Method, string Type, string Body)> received;
        lock (posts) received = [.. posts];
        var post = Assert.Single(received);
        Assert.Equal("POST", post.Method);
        Assert.StartsWith("application/json", post.Type, StringComparison.Ordinal);
        var alert = JsonNode.Parse(post.Body)!;
        var signals = alert["signals"]!.AsArray().Select(s => (string)s!["signal"]!).ToList();
        Assert.Contains("extraction", signals);
        Assert.Contains("templates", signals);
        Assert.Equal(new[] { "abuse", "drift" }, alert["kinds"]!.AsArray().Select(k => (string)k!).Order(StringComparer.Ordinal));
        Assert.Equal("ddk_scraper", (string)alert["keys"]![0]!["key"]!);
        Assert.Equal(3200, (long)alert["window"]!["requests"]!);
        var incidents = alert["incidents"]!.AsArray().Select(i => (string)i!).ToList();
        Assert.Equal(2, incidents.Count);

        // The alerts log beside the request log holds the same alert; the incidents are in the registry's timeline.
        var log = Assert.Single(Directory.GetFiles(Folder, "alerts-*.jsonl"));
        Assert.Equal(post.Body, Assert.Single(await File.ReadAllLinesAsync(log, TestContext.Current.CancellationToken)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(log));
        var list = await DrydockProcess.Run(_dir.Path, "incident", "list");
        Assert.Matches($@"{incidents[0]}\s.*\b(abuse|drift)\b", list.Stdout);
        var shown = new List<string>();
        foreach (var id in incidents) shown.Add((await DrydockProcess.Run(_dir.Path, "incident", "show", id)).Stdout);
        var abuse = Assert.Single(shown, s => s.Contains(": abuse, high", StringComparison.Ordinal));
        Assert.Contains("ddk_scraper", abuse, StringComparison.Ordinal);
        Assert.Contains("extraction: chi-square", abuse, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_WebhookDown_IsRetriedWithBackoffAndLogged_WhileTheChecksGoOn()
    {
        var port = DrydockProcess.FreePort(); // nothing listens there
        await Project($"  webhook: http://127.0.0.1:{port}/alerts\n  webhook-retries: 3\n");
        var now = DateTimeOffset.UtcNow;
        await Ordinary(now);
        await SignalFixture.Rows(_dir.Path, [now.AddMinutes(-30)], at => SignalFixture.Row(at, SignalFixture.ScraperHour));
        // And a line cut short: reported with its file and line, once, and skipped.
        var day = Path.Combine(Folder, $"signals-{now.UtcDateTime:yyyy-MM-dd}.jsonl");
        await File.AppendAllTextAsync(day, "{\"at\":17000,\"alias\":\"ti", TestContext.Current.CancellationToken);
        var lines = (await File.ReadAllLinesAsync(day, TestContext.Current.CancellationToken)).Length;

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = await DrydockProcess.Run(_dir.Path, ["monitor", "--watch", "--every", "1s", "--checks", "3"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(run.Exit == 0, run.ToString());
        Assert.Contains("ALERT: (abuse) extraction: chi-square", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("retry 1 of 3 in 1 s", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("retry 2 of 3 in 2 s", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("retry 3 of 3 in 4 s", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("alert not delivered after 4 attempt(s) (unreachable: ConnectionError); given up (it is in the alerts log)", run.Stderr, StringComparison.Ordinal);
        // The checks went on while the webhook was retried: all three ran before it gave up (7 s of backoff).
        Assert.Contains("check 3:", run.Stdout, StringComparison.Ordinal);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(7), "the process left before the webhook's retries");
        Assert.Single(Directory.GetFiles(Folder, "alerts-*.jsonl"));
        Assert.Equal(1, CountOf(run.Stderr, $"{day}:{lines}: "));
    }

    [Fact]
    public async Task Watch_Restarted_WhileASignalStaysCrossed_AlertsOnce()
    {
        await Project("  window-hours: 24\n");
        var now = DateTimeOffset.UtcNow;
        await Ordinary(now);
        await SignalFixture.Rows(_dir.Path, [now.AddMinutes(-30)], at => SignalFixture.Row(at, SignalFixture.ScraperHour));

        // Two watches, one after the other, each in its own process (a restart): the burst stays crossed in both.
        var first = await DrydockProcess.Run(_dir.Path, ["monitor", "--watch", "--every", "1s", "--checks", "1"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(first.Exit == 0, first.ToString());
        Assert.Contains("ALERT: (abuse) extraction", first.Stderr, StringComparison.Ordinal);
        var state = Path.Combine(Folder, "alerts-state.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(state));
        Assert.Contains("\"extraction\"", await File.ReadAllTextAsync(state, TestContext.Current.CancellationToken), StringComparison.Ordinal);

        var second = await DrydockProcess.Run(_dir.Path, ["monitor", "--watch", "--every", "1s", "--checks", "2"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(second.Exit == 0, second.ToString());
        Assert.Matches(@"check 2: window 3200 requests, baseline 16800: crossed .*extraction \(abuse\)", second.Stdout);
        Assert.DoesNotContain("ALERT", second.Stderr, StringComparison.Ordinal);
        var log = Assert.Single(Directory.GetFiles(Folder, "alerts-*.jsonl"));
        Assert.Single(await File.ReadAllLinesAsync(log, TestContext.Current.CancellationToken));

        // Once the signal is quiet at a check, the state forgets it, and the next crossing alerts again.
        foreach (var file in Directory.GetFiles(Folder, "signals-*.jsonl")) File.Delete(file);
        await Ordinary(now);
        var quiet = await DrydockProcess.Run(_dir.Path, ["monitor", "--watch", "--checks", "1"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(quiet.Exit == 0, quiet.ToString());
        Assert.DoesNotContain("extraction", await File.ReadAllTextAsync(state, TestContext.Current.CancellationToken), StringComparison.Ordinal);
        await SignalFixture.Rows(_dir.Path, [now.AddMinutes(-30)], at => SignalFixture.Row(at, SignalFixture.ScraperHour));
        var again = await DrydockProcess.Run(_dir.Path, ["monitor", "--watch", "--checks", "1"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Contains("ALERT: (abuse) extraction", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, (await File.ReadAllLinesAsync(log, TestContext.Current.CancellationToken)).Length);
    }

    [Fact]
    public async Task Watch_CorruptAlertState_ExitTwo_NamingFileAndLine_NotReset()
    {
        await Project("  window-hours: 24\n");
        await Ordinary(DateTimeOffset.UtcNow);
        var state = Path.Combine(Folder, "alerts-state.json");
        const string Text = "{\n  \"at\": \"2026-12-07T01:00:00Z\",\n  \"crossing\": [\n    \"extraction\",\n    17\n  ]\n}\n";
        await File.WriteAllTextAsync(state, Text, TestContext.Current.CancellationToken);
        var wrong = await DrydockProcess.Run(_dir.Path, "monitor", "--watch", "--checks", "1");
        Assert.Equal(2, wrong.Exit);
        Assert.True(wrong.Stderr.Contains($"{state}:5: crossing: must be a list of signal names", StringComparison.Ordinal), wrong.Stderr);
        Assert.DoesNotContain("check 1", wrong.Stdout, StringComparison.Ordinal);

        await File.WriteAllTextAsync(state, "{\n  \"crossing\": [\"extraction\"\n", TestContext.Current.CancellationToken);
        var cut = await DrydockProcess.Run(_dir.Path, "monitor", "--watch", "--checks", "1");
        Assert.Equal(2, cut.Exit);
        Assert.Matches($@"{System.Text.RegularExpressions.Regex.Escape(state)}:[23]: not valid JSON", cut.Stderr);
        Assert.Equal("{\n  \"crossing\": [\"extraction\"\n", await File.ReadAllTextAsync(state, TestContext.Current.CancellationToken)); // left as it was
    }

    [Fact]
    public async Task Watch_BadSettings_ExitTwo_NamingFileLineAndField()
    {
        await Project("  webhook-retry: 3\n");
        var unknown = await DrydockProcess.Run(_dir.Path, "monitor", "--watch", "--checks", "1");
        Assert.Equal(2, unknown.Exit);
        Assert.Matches(@"drydock\.yaml:\d+: monitor\.webhook-retry", unknown.Stderr);

        await Project("  webhook: ftp://example.invalid/x\n");
        var scheme = await DrydockProcess.Run(_dir.Path, "monitor", "--watch", "--checks", "1");
        Assert.Equal(2, scheme.Exit);
        Assert.Matches(@"drydock\.yaml:\d+: monitor\.webhook: must be an http\(s\) URL", scheme.Stderr);

        await Project("  webhook-env: DRYDOCK_TEST_NO_SUCH_HOOK\n");
        var unset = await DrydockProcess.Run(_dir.Path, "monitor", "--watch", "--checks", "1");
        Assert.Equal(2, unset.Exit);
        Assert.Contains("DRYDOCK_TEST_NO_SUCH_HOOK, which is not set", unset.Stderr, StringComparison.Ordinal);

        var every = await DrydockProcess.Run(_dir.Path, "monitor", "--watch", "--every", "soon");
        Assert.Equal(2, every.Exit);
        Assert.Contains("--every 'soon' is not a duration", every.Stderr, StringComparison.Ordinal);
    }

    // A project whose drydock.yaml has a monitor: section with `extra`, and the gateway's log folder.
    private async Task Project(string extra)
    {
        await SignalFixture.Project(_dir.Path, extra);
        Directory.CreateDirectory(Folder);
    }

    // A week of ordinary hourly traffic as baseline and the last day as window: 100 requests an hour, two templates.
    private Task Ordinary(DateTimeOffset now) =>
        SignalFixture.Rows(_dir.Path, [.. Enumerable.Range(0, 24 * 8).Select(h => now.AddMinutes(-30 - (60 * h)))], at => SignalFixture.Row(at, SignalFixture.OrdinaryHour));

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    private static Task Until(Func<bool> condition, RunningDrydock process, int seconds = 60) =>
        SignalFixture.Until(() => Task.FromResult(condition()), TimeSpan.FromSeconds(seconds), TimeSpan.FromMilliseconds(100), () => $"not within {seconds} s:\n{process.Output}");
}
