using System.Text.Json.Nodes;
using Drydock.Gateway.Tests;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// The monitor's alerts in the gateway's own log, as operators read it: a real <c>drydock serve</c> and a
/// <c>drydock monitor --watch</c> in processes of their own over the same log folder. The burst the watch alerts on is
/// logged by the gateway as one structured line (signals, figures, key ids, incident ids); a line of the alerts log
/// that is not an alert is named with its file and line, and none of its text reaches the gateway's log.
/// </summary>
public sealed class GatewayAlertLogProcessTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private const string ScraperId = "5c7a9e01";

    private string Folder => SignalFixture.Folder(_dir.Path);

    [Fact]
    public async Task Serve_LogsEachAlertOfTheWatch_AsOneStructuredLine_WithoutRawText()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await SignalFixture.Project(_dir.Path, "  window-hours: 24\n  incidents: true\n");
        Directory.CreateDirectory(Folder);
        var now = DateTimeOffset.UtcNow;
        await SignalFixture.Rows(_dir.Path, [.. Enumerable.Range(0, 24 * 8).Select(h => now.AddMinutes(-30 - (60 * h)))], at => SignalFixture.Row(at, SignalFixture.OrdinaryHour));
        // An alert raised before the gateway started is not logged again.
        var earlier = """{"source":"drydock monitor","at":"2026-12-01T00:00:00Z","kinds":["drift"],"signals":[{"signal":"traffic","kind":"drift","test":"ratio","baseline":1,"window":5,"statistic":5,"pValue":null,"threshold":3}],"window":{"from":"2026-11-30T00:00:00Z","to":"2026-12-01T00:00:00Z","requests":10},"keys":[],"incidents":[]}""";
        var alerts = Path.Combine(Folder, $"alerts-{now.UtcDateTime:yyyy-MM-dd}.jsonl");
        await File.WriteAllTextAsync(alerts, earlier + "\n", TestContext.Current.CancellationToken);

        var url = $"http://127.0.0.1:{DrydockProcess.FreePort()}";
        using var gateway = DrydockProcess.Start(_dir.Path, ["serve", "--upstream", upstream.BaseUrl, "--listen", url]);
        await gateway.WaitUntilListening(new Uri(url + "/healthz"));

        // The burst, then one check of the watch in its own process: it raises the alert and opens the incidents.
        // The scraping key has an id of the shape the gateway gives its keys (8 hex digits).
        await SignalFixture.Rows(_dir.Path, [now.AddMinutes(-30)], at => SignalFixture.Row(at, SignalFixture.ScraperHour.Replace("ddk_scraper", ScraperId, StringComparison.Ordinal)));
        var watch = await DrydockProcess.Run(_dir.Path, ["monitor", "--watch", "--every", "1s", "--checks", "1"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(watch.Exit == 0, watch.ToString());
        Assert.Contains("ALERT: (abuse) extraction", watch.Stderr, StringComparison.Ordinal);
        var raised = JsonNode.Parse((await File.ReadAllLinesAsync(alerts, TestContext.Current.CancellationToken))[^1])!;
        var incidents = raised["incidents"]!.AsArray().Select(i => (string)i!).ToList();
        Assert.Equal(2, incidents.Count);

        // A hand-edited line with text in it: named by file and line, its text never logged.
        await File.AppendAllTextAsync(alerts, """{"note":"jane.doe@example.com SECRET-7731"}""" + "\n" + """{"kinds":["abuse"],"signals":[{"signal":"jane.doe@example.com","test":"SECRET-7731"}]}""" + "\n", TestContext.Current.CancellationToken);

        await SignalFixture.Until(() => Task.FromResult(gateway.Output.Contains($"{alerts}:3:", StringComparison.Ordinal) && gateway.Output.Contains("monitoring alert: (abuse) ?", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200), () => $"the gateway's log has no alert:\n{gateway.Output}");
        var lines = gateway.Output.Split('\n').Where(l => l.Contains("monitoring alert", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(lines, l => l.Contains("extraction", StringComparison.Ordinal));
        var entry = JsonNode.Parse(line)!; // one structured line: a JSON object with its fields
        Assert.Equal("Warning", (string)entry["level"]!);
        Assert.Equal(50, (int)entry["event"]!);
        Assert.Contains("abuse", (string)entry["Kinds"]!, StringComparison.Ordinal);
        Assert.Contains("drift", (string)entry["Kinds"]!, StringComparison.Ordinal);
        Assert.Matches(@"extraction \(chi-square [0-9.]+ against 0\.001; baseline 0, window [0-9.]+\)", (string)entry["Signals"]!);
        Assert.Contains("templates (", (string)entry["Signals"]!, StringComparison.Ordinal);
        Assert.Contains($"{ScraperId} (800 high of 800)", (string)entry["Keys"]!, StringComparison.Ordinal);
        Assert.Equal(string.Join(",", incidents), (string)entry["Incidents"]!);
        Assert.Equal("3200", (string)entry["Requests"]!);

        // The alert from before the start is not logged; the edited lines are named and their text is not logged.
        Assert.DoesNotContain(lines, l => l.Contains("traffic (ratio", StringComparison.Ordinal));
        Assert.Contains($"monitoring alerts log {alerts}:3: not an alert of drydock monitor; line skipped", gateway.Output, StringComparison.Ordinal);
        Assert.Contains("monitoring alert: (abuse) ? (? - against -", gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("jane.doe", gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET-7731", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_LogsTheAlertsOfAWatchOverTheRegistry()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await SignalFixture.Project(_dir.Path, "  window-hours: 24\n");
        var now = DateTimeOffset.UtcNow;
        await SignalFixture.Rows(_dir.Path, Enumerable.Range(1, 24 * 8).Select(h => now.AddHours(-h)), at => SignalFixture.Row(at, SignalFixture.OrdinaryHour));
        await SignalFixture.Rows(_dir.Path, [now], at => SignalFixture.Row(at, SignalFixture.ScraperHour.Replace("ddk_scraper", ScraperId, StringComparison.Ordinal)));
        var publish = await DrydockProcess.Run(_dir.Path, ["monitor", "--watch", "--publish", "--checks", "1"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(publish.Exit == 0, publish.ToString());

        var url = $"http://127.0.0.1:{DrydockProcess.FreePort()}";
        using var gateway = DrydockProcess.Start(_dir.Path, ["serve", "--upstream", upstream.BaseUrl, "--listen", url]);
        await gateway.WaitUntilListening(new Uri(url + "/healthz"));

        // A watch over the registry's summaries on the gateway's machine: its alert is in the gateway's log.
        var watch = await DrydockProcess.Run(_dir.Path, ["monitor", "--watch", "--from-registry", "--checks", "1"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(watch.Exit == 0, watch.ToString());
        Assert.Contains("ALERT: ", watch.Stderr, StringComparison.Ordinal);
        Assert.NotEmpty(Directory.GetFiles(Folder, "alerts-*.jsonl"));
        await SignalFixture.Until(() => Task.FromResult(gateway.Output.Contains("monitoring alert: (", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200), () => $"the gateway's log has no alert:\n{gateway.Output}");
        var line = Assert.Single(gateway.Output.Split('\n'), l => l.Contains("monitoring alert: (", StringComparison.Ordinal));
        Assert.Matches(@"extraction \(chi-square [0-9.]+ against 0\.001;", line);
        Assert.Contains($"keys {ScraperId} (", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_StartedAgain_LogsTheAlertsRaisedWhileItWasDown()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await SignalFixture.Project(_dir.Path, "  window-hours: 24\n");
        Directory.CreateDirectory(Folder);
        var url = $"http://127.0.0.1:{DrydockProcess.FreePort()}";
        using (var first = DrydockProcess.Start(_dir.Path, ["serve", "--upstream", upstream.BaseUrl, "--listen", url]))
        {
            await first.WaitUntilListening(new Uri(url + "/healthz"));
        }

        // Raised while no gateway runs: the next start logs it, once.
        var alerts = Path.Combine(Folder, $"alerts-{DateTime.UtcNow:yyyy-MM-dd}.jsonl");
        await File.AppendAllTextAsync(alerts, """{"kinds":["abuse"],"signals":[{"signal":"canary-hits","test":"count","statistic":1,"threshold":1}],"keys":[{"key":"1a2b3c4d","extractionHigh":2,"requests":9}],"incidents":["in-0123456789ab"]}""" + "\n", TestContext.Current.CancellationToken);
        using var second = DrydockProcess.Start(_dir.Path, ["serve", "--upstream", upstream.BaseUrl, "--listen", url]);
        await second.WaitUntilListening(new Uri(url + "/healthz"));
        await SignalFixture.Until(() => Task.FromResult(second.Output.Contains("monitoring alert: (abuse) canary-hits", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200), () => $"the gateway's log has no alert:\n{second.Output}");
        Assert.Contains("alerts raised while it was not running are logged now", second.Output, StringComparison.Ordinal);
        // Where it had read to is kept in the monitor's own folder; the request log's folder holds logs only.
        Assert.Single(Directory.GetFiles(Path.Combine(_dir.Path, ".drydock", "monitor"), "relay-*.json"));
        Assert.All(Directory.GetFiles(Folder), f => Assert.EndsWith(".jsonl", f, StringComparison.Ordinal));
        await Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken); // two more reads: not logged again
        Assert.Single(second.Output.Split('\n'), l => l.Contains("monitoring alert: (abuse) canary-hits", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Serve_SkipsLinesOfAnyShape_KeepsServing_AndNeverLogsSecretsOrWords()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await SignalFixture.Project(_dir.Path, "  window-hours: 24\n");
        Directory.CreateDirectory(Folder);
        var url = $"http://127.0.0.1:{DrydockProcess.FreePort()}";
        using var gateway = DrydockProcess.Start(_dir.Path, ["serve", "--upstream", upstream.BaseUrl, "--listen", url]);
        await gateway.WaitUntilListening(new Uri(url + "/healthz"));

        // Lines that are JSON objects with "kinds" and "signals" but other shapes inside (each once ended the process),
        // then lines whose fields hold secrets and words where the monitor writes names and ids.
        const string gatewayKey = "ddk_1a2b3c4d_Qm9vbXN0aWNrLXNlY3JldC12YWx1ZS1vZi0zMi1ieXRlcw";
        const string awsKey = "AKIAQ3EGRL5TFZ6XW7NB";
        const string githubToken = "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";
        string[] bad =
        [
            """{"kinds":["abuse"],"signals":[1]}""",
            """{"kinds":["abuse"],"signals":[],"window":[1]}""",
            """{"kinds":["abuse"],"signals":[],"keys":["abc"]}""",
            """{"kinds":["abuse"],"kinds":["x"],"signals":[]}""",
            """{"kinds":["abuse"],"signals":[{"signal":"extraction","test":"chi-square"}],"keys":[null,[2]]}""",
        ];
        var secret = $$"""{"kinds":["please-rotate-all-keys-now"],"signals":[{"signal":"the-admin-password-is-hunter2","test":"x"}],"keys":[{"key":"{{gatewayKey}}","extractionHigh":1,"requests":1},{"key":"{{awsKey}}"},{"key":"{{githubToken}}"}],"incidents":["{{githubToken}}","in-{{awsKey}}"]}""";
        var shaped = """{"kinds":["abuse"],"signals":[{"signal":"canary-hits","test":"count","statistic":1,"threshold":1}],"keys":[{"key":"1a2b3c4d","extractionHigh":2,"requests":9},{"key":"sub_0123456789abcdef01234567"}],"incidents":["in-0123456789ab"]}""";
        var alerts = Path.Combine(Folder, $"alerts-{DateTime.UtcNow:yyyy-MM-dd}.jsonl");
        await File.AppendAllTextAsync(alerts, string.Join("\n", [.. bad, secret, shaped]) + "\n", TestContext.Current.CancellationToken);

        await SignalFixture.Until(() => Task.FromResult(gateway.HasExited || gateway.Output.Contains("monitoring alert: (abuse) canary-hits", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200), () => $"the gateway's log has no alert:\n{gateway.Output}");
        Assert.False(gateway.HasExited, $"the gateway ended on a line of the alerts log:\n{gateway.Output}");
        using var http = new HttpClient();
        using var health = await http.GetAsync(new Uri(url + "/healthz"), TestContext.Current.CancellationToken);
        Assert.True(health.IsSuccessStatusCode, $"/healthz answered {(int)health.StatusCode}");

        var output = gateway.Output;
        for (var line = 1; line <= bad.Length; line++)
            Assert.Contains($"monitoring alerts log {alerts}:{line}: not an alert of drydock monitor; line skipped", output, StringComparison.Ordinal);

        // Names only from the monitor's own lists and ids only in the shapes drydock makes them; anything else is '?'.
        Assert.Contains("monitoring alert: (?) ? (? - against -; baseline -, window -); window ? to ?, - requests; keys ? (1 high of 1), ? (- high of -), ? (- high of -); incidents ?,?", output, StringComparison.Ordinal);
        Assert.Contains("monitoring alert: (abuse) canary-hits (count 1 against 1; baseline -, window -); window ? to ?, - requests; keys 1a2b3c4d (2 high of 9), sub_0123456789abcdef01234567 (- high of -); incidents in-0123456789ab", output, StringComparison.Ordinal);
        foreach (var text in new[] { gatewayKey, "Qm9vbXN0aWNr", awsKey, githubToken, "u8jzPde0", "hunter2", "admin-password", "rotate", "please" })
            Assert.DoesNotContain(text, output, StringComparison.Ordinal);
    }
}
