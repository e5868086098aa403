using System.Data.Common;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Gateway.Tests;
using Drydock.Tests.Shared;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Drydock.Cli.Tests;

/// <summary>
/// A running <c>drydock serve</c> (its own process) whose registry is edited behind its back while it serves: a canary
/// row deleted, a canary row edited (same count), the kill switch's row deleted; SQLite, and PostgreSQL where
/// DRYDOCK_TEST_POSTGRES names a server. Within its 2-second reload the gateway refuses every model request (503 naming
/// the problem, the way the kill switch refuses), <c>/readyz</c> answers 503 without naming it (it is unauthenticated)
/// and the log names it; the canary never passes and the contained model is never answered. Put back as drydock wrote
/// it, it serves again.
/// </summary>
public sealed class TamperedRegistryProcessTests : IDisposable
{
    private static readonly TimeSpan s_reload = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_slack = TimeSpan.FromSeconds(4);

    private readonly TempDir _dir = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private TestDatabase? _postgres;

    public TamperedRegistryProcessTests() => Directory.CreateDirectory(Path.Combine(_dir.Path, ".drydock"));

    public void Dispose()
    {
        _http.Dispose();
        SqliteConnection.ClearAllPools();
        _postgres?.Dispose();
        _dir.Dispose();
    }

    private async Task<string> Cli(params string[] args)
    {
        var result = await DrydockProcess.Run(_dir.Path, args);
        Assert.True(result.Exit == 0, $"drydock {string.Join(' ', args)}: {result}");
        return result.Stdout.Trim();
    }

    // The registry's database opened directly, as someone who can write it would.
    private DbConnection Open()
    {
        SqliteConnection.ClearAllPools();
        DbConnection db = _postgres is null ? new SqliteConnection($"Data Source={Path.Combine(_dir.Path, ".drydock", "registry.db")};Pooling=False") : new NpgsqlConnection(_postgres.ConnectionString);
        db.Open();
        return db;
    }

    private int Execute(string sql)
    {
        using var db = Open();
        using var command = db.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }

    public static TheoryData<string, string, string> Edits
    {
        get
        {
            var edits = new TheoryData<string, string, string>();
            foreach (var backend in TestDatabase.Backends)
            {
                edits.Add(backend, "canary-deleted", "row deleted outside drydock");
                edits.Add(backend, "canary-edited", "row edited outside drydock");
                edits.Add(backend, "kill-switch-deleted", "row deleted outside drydock");
            }

            return edits;
        }
    }

    private async Task<(HttpStatusCode Status, string Body)> Ask(int port, string key, string model, string text)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/v1/chat/completions")
        {
            Content = new StringContent(new JsonObject { ["model"] = model, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = text }) }.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private async Task<(HttpStatusCode Status, string Body)> Ready(int port)
    {
        using var response = await _http.GetAsync(new Uri($"http://127.0.0.1:{port}/readyz"), TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    // Asks until the condition holds, failing past the reload interval and the slack a loaded machine gets.
    private static async Task Until(string what, Func<Task<bool>> reached)
    {
        var clock = Stopwatch.StartNew();
        while (!await reached())
        {
            Assert.True(clock.Elapsed < s_reload + s_slack, $"{what}: not within {s_reload} (+{s_slack} slack)");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    [Theory]
    [MemberData(nameof(Edits))]
    public async Task ARegistryEditedWhileServing_StopsServing_AndReadyz_NamingIt(string backend, string edit, string named)
    {
        if (backend == "postgres") await File.WriteAllTextAsync(Path.Combine(_dir.Path, "drydock.yaml"), $"registry: \"{(_postgres = new TestDatabase()).ConnectionString}\"\n", TestContext.Current.CancellationToken);
        await using var upstream = await FakeUpstream.StartAsync();
        var key = await Cli("keys", "create", "--name", "app", "--tier", "internal");
        var code = await Cli("canary", "create", "--label", "tickets v5");
        await Cli("incident", "contain", "--model", "large", "--reason", "leaking");
        var port = DrydockProcess.FreePort();
        using var gateway = DrydockProcess.Start(_dir.Path, ["serve", "--upstream", upstream.BaseUrl, "--listen", $"http://127.0.0.1:{port}"]);
        await gateway.WaitUntilListening(new Uri($"http://127.0.0.1:{port}/healthz"), TimeSpan.FromSeconds(120));

        // Before: the canary is blocked, the contained model refused, the gateway ready.
        var leak = $"SAY:the recovery code is {code}.";
        var before = await Ask(port, key, "tiny", leak);
        Assert.Equal(HttpStatusCode.OK, before.Status);
        Assert.DoesNotContain(code, before.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Ask(port, key, "large", "hello")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Ready(port)).Status);

        var sha = "";
        switch (edit)
        {
            case "canary-deleted": Assert.Equal(1, Execute("DELETE FROM canaries")); break;
            case "canary-edited":
                using (var db = Open())
                {
                    using var read = db.CreateCommand();
                    read.CommandText = "SELECT sha256 FROM canaries";
                    sha = (string)read.ExecuteScalar()!;
                }

                Assert.Equal(1, Execute($"UPDATE canaries SET sha256 = '{new string('0', 64)}'"));
                break;
            default: Assert.Equal(1, Execute("DELETE FROM deployments WHERE action = 'disable'")); break;
        }

        // Every model request is refused naming the problem, and nothing the registry no longer says is let through.
        await Until("a model request refused after the edit", async () => (await Ask(port, key, "tiny", "hello")).Status == HttpStatusCode.ServiceUnavailable);
        foreach (var model in new[] { "tiny", "large" })
        {
            var refused = await Ask(port, key, model, leak);
            Assert.True(refused.Status == HttpStatusCode.ServiceUnavailable, $"{model}: {(int)refused.Status} {refused.Body}");
            Assert.Contains("registry_state_broken", refused.Body, StringComparison.Ordinal);
            // The model caller is told that, not what (no row, no entry number); the gateway's log names it (below).
            Assert.Contains("the gateway's log names the problem", refused.Body.Replace("\\u0027", "'", StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.DoesNotContain(named, refused.Body, StringComparison.Ordinal);
            Assert.DoesNotContain(code, refused.Body, StringComparison.Ordinal);
        }

        // /readyz (unauthenticated) says what is wrong, not which row; the gateway's log names it.
        var ready = await Ready(port);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.Status);
        Assert.Contains("\"auditedState\":false", ready.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(named, ready.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("audit entry", ready.Body, StringComparison.Ordinal);
        Assert.Contains("model requests are refused", gateway.Output, StringComparison.Ordinal);
        Assert.Contains(named, gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(code, gateway.Output, StringComparison.Ordinal);

        // Put back as drydock wrote it: served again within the reload, the canary still blocked.
        if (edit != "canary-edited") return;
        Assert.Equal(1, Execute($"UPDATE canaries SET sha256 = '{sha}'"));
        await Until("served again once put back", async () => (await Ask(port, key, "tiny", "hello")).Status == HttpStatusCode.OK);
        var after = await Ask(port, key, "tiny", leak);
        Assert.Equal(HttpStatusCode.OK, after.Status);
        Assert.DoesNotContain(code, after.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await Ready(port)).Status);
    }
}
