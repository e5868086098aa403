using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Drydock.Gateway.Tests;
using Drydock.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace Drydock.Cli.Tests;

/// <summary>
/// A flood of refusals at a running <c>drydock serve</c>'s admin API (its own process, its real clock): tokens refused
/// by role are throttled as refused keys are (at most one entry per subject a minute, at most 61 a minute in all, the
/// rest counted), and a gateway killed with SIGKILL loses none of the counts not yet recorded: the next gateway of the
/// registry records them at start.
/// </summary>
public sealed partial class RefusalFloodProcessTests : IAsyncLifetime
{
    private readonly ActorProject _project = new();
    private FakeUpstream _upstream = null!;
    private TestIssuer _issuer = null!;
    private RunningDrydock? _gateway;
    private string _url = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _issuer = await TestIssuer.StartAsync();
        Assert.Equal(0, (await _project.As(null, "init")).Exit);
        await File.AppendAllTextAsync(Path.Combine(_project.Dir.Path, "drydock.yaml"), $"""

            gateway:
              identity:
                issuer: {_issuer.Issuer}
                audience: {TestIssuer.Audience}
                jwks-url: {_issuer.JwksUrl}
                roles:
                  watchers: viewer

            """, TestContext.Current.CancellationToken);
        ActorProject.Ok(await _project.As(null, "keys", "create", "--name", "app", "--tier", "internal"));
    }

    public async ValueTask DisposeAsync()
    {
        _gateway?.Dispose();
        await _issuer.DisposeAsync();
        await _upstream.DisposeAsync();
        _project.Dispose();
    }

    private async Task Serve()
    {
        _url = $"http://127.0.0.1:{DrydockProcess.FreePort()}";
        _gateway = DrydockProcess.Start(_project.Dir.Path, ["serve", "--upstream", _upstream.BaseUrl, "--listen", _url], _project.Env(null));
        await _gateway.WaitUntilListening(new Uri(_url + "/healthz"));
    }

    private async Task Contain(HttpClient http, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/contain") { Content = new StringContent("""{"model":"support"}""", Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private List<(string Actor, string Reason)> Refusals()
    {
        SqliteConnection.ClearAllPools();
        using var db = new SqliteConnection($"Data Source={_project.Registry};Pooling=False");
        db.Open();
        using var query = db.CreateCommand();
        query.CommandText = "SELECT actor, reason FROM access_decisions WHERE decision = 'refused' ORDER BY audit_seq";
        using var r = query.ExecuteReader();
        var list = new List<(string, string)>();
        while (r.Read()) list.Add((r.GetString(0), r.GetString(1)));
        return list;
    }

    [GeneratedRegex(@"refused (\d+) time\(s\)")]
    private static partial Regex Count();

    private static long CountOf(string reason) => Count().Match(reason) is { Success: true } m ? long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 1;

    // One viewer token 100 times, then 80 viewers once each: 180 refusals of POST /admin/contain (it needs incident-responder or admin).
    private async Task<long> Flood()
    {
        using var http = new HttpClient { BaseAddress = new Uri(_url) };
        var same = _issuer.Token(["watchers"], subject: "vic");
        long sent = 0;
        for (var i = 0; i < 100; i++, sent++) await Contain(http, same);
        for (var i = 0; i < 80; i++, sent++) await Contain(http, _issuer.Token(["watchers"], subject: $"viewer{i:d3}"));
        return sent;
    }

    [Fact]
    public async Task AFloodOfTokensRefusedByRole_IsAtMost61EntriesAMinute()
    {
        await Serve();
        await Flood();
        var entries = Refusals();
        Assert.True(entries.Count <= 61, $"{entries.Count} entries for 180 refusals in under a minute");
        Assert.Equal(60, entries.Count(e => e.Actor.StartsWith("oidc:sub_", StringComparison.Ordinal)));
        Assert.Equal(entries.Count, entries.Select(e => e.Actor).Distinct().Count());
        Assert.All(entries, e => Assert.Contains("needs one of the roles incident-responder, admin", e.Reason, StringComparison.Ordinal));
    }

    // The counts not yet recorded in this gateway's file beside the audit witness (0 while there is none).
    private (string? File, long Count) Pending()
    {
        foreach (var file in Directory.GetFiles(_project.State.Path, "refused-id-*.json"))
        {
            try
            {
                var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(file))!;
                return (file, json["pending"]!.AsArray().Sum(e => (long)e!["count"]!));
            }
            catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
            {
                // being replaced: read again
            }
        }

        return (null, 0);
    }

    [Fact]
    public async Task AGatewayKilledWithSigkill_LosesNoCountOfRefusals_TheNextOneRecordsThem()
    {
        await Serve();
        var sent = await Flood();
        var recorded = Refusals().Count;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Pending().Count != sent - recorded && DateTime.UtcNow < deadline) await Task.Delay(200, TestContext.Current.CancellationToken);
        var (file, pending) = Pending();
        Assert.Equal(sent - recorded, pending);

        _gateway!.Dispose(); // SIGKILL: nothing is flushed
        _gateway = null;
        Assert.Equal(recorded, Refusals().Count);
        await Serve();
        var all = Refusals();
        Assert.Equal(sent, all.Sum(e => CountOf(e.Reason)));
        Assert.Contains(all, e => e.Actor == "refused:others" && e.Reason.Contains("recorded at the next start", StringComparison.Ordinal));
        Assert.False(File.Exists(file));
        Assert.True(all.Count <= 2 * 61, $"{all.Count} entries");
    }
}
