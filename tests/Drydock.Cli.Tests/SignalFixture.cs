using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// What the monitoring process tests share: a project's <c>monitor:</c> section, rows written into the gateway's
/// signal log, chat requests sent through a running gateway, times as <c>drydock monitor</c>'s options take them, and
/// waiting for what a running process does.
/// </summary>
internal static class SignalFixture
{
    /// <summary>An ordinary hour of one key (100 requests, two templates), without its <c>"at"</c> (see <see cref="Row"/>).</summary>
    public const string OrdinaryHour = """{"alias":"support","tier":"internal","key":"ddk_app","requests":100,"tokens":4000,"latencyMs":20000,"answers":100,"refusals":5,"promptLength":[0,0,0,0,0,10,40,40,10,0,0,0],"latency":[0,0,0,0,0,0,0,60,40,0,0,0],"templates":{"0000aaaa":50,"0000bbbb":50}}""";

    /// <summary>An hour of a scraping key (800 requests, all scored high for extraction, a new template), without its <c>"at"</c>.</summary>
    public const string ScraperHour = """{"alias":"support","tier":"internal","key":"ddk_scraper","requests":800,"answers":800,"extractionScored":800,"extractionHigh":800,"extractionMax":0.93,"templates":{"0000cccc":800}}""";

    /// <summary>The gateway's request log folder of <paramref name="project"/>, where the signal log's day files are.</summary>
    public static string Folder(string project) => Path.Combine(project, ".drydock", "gateway", "requests");

    /// <summary>A project (initialised when it has no drydock.yaml) whose <c>monitor:</c> section is <paramref name="settings"/>.</summary>
    public static async Task Project(string project, string settings)
    {
        var yaml = Path.Combine(project, "drydock.yaml");
        if (!File.Exists(yaml)) Assert.Equal(0, (await DrydockProcess.Run(project, "init")).Exit);
        var text = await File.ReadAllTextAsync(yaml, TestContext.Current.CancellationToken);
        var at = text.IndexOf("\nmonitor:\n", StringComparison.Ordinal);
        await File.WriteAllTextAsync(yaml, (at < 0 ? text : text[..at]) + "\nmonitor:\n" + settings, TestContext.Current.CancellationToken);
    }

    /// <summary>Appends a row for each of <paramref name="times"/> (made by <paramref name="row"/> from its Unix time) to the signal log's day files.</summary>
    public static async Task Rows(string project, IEnumerable<DateTimeOffset> times, Func<long, string> row)
    {
        var folder = Folder(project);
        Directory.CreateDirectory(folder);
        foreach (var day in times.GroupBy(t => t.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)))
        {
            var text = new StringBuilder();
            foreach (var t in day) text.Append(row(t.ToUnixTimeSeconds())).Append('\n');
            await File.AppendAllTextAsync(Path.Combine(folder, $"signals-{day.Key}.jsonl"), text.ToString(), TestContext.Current.CancellationToken);
        }
    }

    /// <summary>A row of the signal log: <paramref name="hour"/> (such as <see cref="OrdinaryHour"/>) at <paramref name="at"/>.</summary>
    public static string Row(long at, string hour) => "{\"at\":" + at.ToString(CultureInfo.InvariantCulture) + "," + hour[1..];

    /// <summary>A time as <c>--from</c>, <c>--to</c> and the baseline options take it.</summary>
    public static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>Sends one chat request for <paramref name="model"/> through the gateway at <paramref name="url"/>; whether it was answered 2xx.</summary>
    public static async Task<bool> Chat(HttpClient http, string url, string key, string prompt, string model = "tiny", CancellationToken cancellationToken = default)
    {
        var body = new JsonObject { ["model"] = model, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }) };
        using var request = new HttpRequestMessage(HttpMethod.Post, url + "/v1/chat/completions") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.SendAsync(request, cancellationToken);
        return response.IsSuccessStatusCode;
    }

    /// <summary>Polls <paramref name="done"/> every <paramref name="every"/> until it holds; fails with <paramref name="failure"/> after <paramref name="within"/>.</summary>
    public static async Task Until(Func<Task<bool>> done, TimeSpan within, TimeSpan every, Func<string> failure)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await done())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail(failure());
            await Task.Delay(every, TestContext.Current.CancellationToken);
        }
    }
}
