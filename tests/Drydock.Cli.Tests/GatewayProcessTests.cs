using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Gateway.Tests;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// The gateway and the project's state as operators have them: <c>drydock init</c> and two <c>drydock serve</c>
/// processes on one project, in front of a scripted model server.
/// </summary>
public sealed class GatewayProcessTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Init_MakesTheProjectStateOwnerOnly()
    {
        if (OperatingSystem.IsWindows()) return;
        var result = await DrydockProcess.Run(_dir.Path, "init");
        Assert.True(result.Exit == 0, result.ToString());
        const UnixFileMode owner = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        var state = Path.Combine(_dir.Path, ".drydock");
        Assert.Equal(owner, File.GetUnixFileMode(state));
        Assert.Equal(owner, File.GetUnixFileMode(Path.Combine(state, "keys")));
        Assert.All(Directory.GetFiles(Path.Combine(state, "keys")).Where(f => !f.EndsWith(".pub", StringComparison.Ordinal)), f => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f)));
    }

    [Fact]
    public async Task TwoGatewaysOnOneProject_WriteEveryRequestLineWhole()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        Assert.Equal(0, (await DrydockProcess.Run(_dir.Path, "init")).Exit);
        var created = await DrydockProcess.Run(_dir.Path, "keys", "create", "--name", "app", "--tier", "internal");
        Assert.True(created.Exit == 0, created.ToString());
        var key = created.Stdout.Trim();
        var urls = new[] { $"http://127.0.0.1:{DrydockProcess.FreePort()}", $"http://127.0.0.1:{DrydockProcess.FreePort()}" };
        using var first = DrydockProcess.Start(_dir.Path, ["serve", "--upstream", upstream.BaseUrl, "--listen", urls[0]]);
        using var second = DrydockProcess.Start(_dir.Path, ["serve", "--upstream", upstream.BaseUrl, "--listen", urls[1]]);
        await first.WaitUntilListening(new Uri(urls[0] + "/healthz"));
        await second.WaitUntilListening(new Uri(urls[1] + "/healthz"));

        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        const int each = 150;
        await Parallel.ForEachAsync(Enumerable.Range(0, 2 * each), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, cancellationToken) =>
        {
            var body = new StringContent($$"""{"model":"tiny","messages":[{"role":"user","content":"hello {{i}}"}]}""", Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(urls[i % 2] + "/v1/chat/completions", body, cancellationToken);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
        });

        // Every line of both gateways is in the day's file, whole: none written over by the other process.
        var folder = Path.Combine(_dir.Path, ".drydock", "gateway", "requests");
        var lines = new List<string>();
        for (var wait = 0; wait < 100 && lines.Count < 2 * each; wait++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            lines = [.. Directory.GetFiles(folder, "requests-*.jsonl").SelectMany(f => File.ReadAllLines(f)).Where(l => l.Length > 0)];
        }

        Assert.Equal(2 * each, lines.Count);
        foreach (var line in lines) Assert.Equal(200, (int?)JsonNode.Parse(line)?["status"]);
    }
}
