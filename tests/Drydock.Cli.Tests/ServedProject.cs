using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Drydock.Gateway.Tests;
using Drydock.Tests.Shared;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Drydock.Cli.Tests;

/// <summary>
/// A project (<see cref="ActorProject"/>) on SQLite or PostgreSQL, a local upstream and a running <c>drydock serve</c>
/// (its own process), with the database opened directly as someone who can write it would, and the admin and model
/// calls the tampered-registry tests make (<see cref="AuditTailProcessTests"/>, <see cref="AdminChainProcessTests"/>).
/// </summary>
internal sealed class ServedProject : IAsyncDisposable
{
    private FakeUpstream? _upstream;
    private RunningDrydock? _gateway;
    private TestDatabase? _postgres;

    public ActorProject Project { get; } = new();

    public string Url { get; private set; } = "";

    public RunningDrydock Gateway => _gateway ?? throw new InvalidOperationException("not served yet");

    public string Yaml => Path.Combine(Project.Dir.Path, "drydock.yaml");

    /// <summary>Writes drydock.yaml: the registry (a new PostgreSQL database for <c>postgres</c>), then <paramref name="rest"/>.</summary>
    public async Task WriteYaml(string backend, string rest = "")
    {
        var registry = backend == "sqlite" ? "" : $"registry: \"{(_postgres = new TestDatabase()).ConnectionString}\"\n";
        await File.WriteAllTextAsync(Yaml, registry + rest, TestContext.Current.CancellationToken);
    }

    /// <summary>Starts <c>drydock serve</c> as <paramref name="actor"/> against a local upstream, and waits until it listens.</summary>
    public async Task Serve(string? actor)
    {
        _upstream = await FakeUpstream.StartAsync();
        Url = $"http://127.0.0.1:{DrydockProcess.FreePort()}";
        _gateway = DrydockProcess.Start(Project.Dir.Path, ["serve", "--upstream", _upstream.BaseUrl, "--listen", Url], Project.Env(actor));
        await _gateway.WaitUntilListening(new Uri(Url + "/healthz"));
    }

    public DbConnection Open()
    {
        SqliteConnection.ClearAllPools();
        DbConnection db = _postgres is null ? new SqliteConnection($"Data Source={Project.Registry};Pooling=False") : new NpgsqlConnection(_postgres.ConnectionString);
        db.Open();
        return db;
    }

    public object? Scalar(string sql)
    {
        using var db = Open();
        using var command = db.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    public int Execute(string sql)
    {
        using var db = Open();
        using var command = db.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }

    public long Count(string sql) => Convert.ToInt64(Scalar(sql), CultureInfo.InvariantCulture);

    public long Entries() => Count("SELECT COUNT(*) FROM audit_log");

    public string KeyId(string name) => (string)Scalar($"SELECT key_id FROM api_key_events WHERE name = '{name}' ORDER BY audit_seq LIMIT 1")!;

    public Task<(HttpStatusCode Status, string Body)> Revoke(string key, string id) =>
        Send(HttpMethod.Post, "/admin/keys/revoke", key, $$"""{"id":"{{id}}","reason":"test"}""");

    public Task<(HttpStatusCode Status, string Body)> Ask(string key) => Ask(key, "hello");

    /// <summary>A chat request with <paramref name="content"/> (the local upstream echoes it back).</summary>
    public Task<(HttpStatusCode Status, string Body)> Ask(string key, string content) =>
        Send(HttpMethod.Post, "/v1/chat/completions", key, new System.Text.Json.Nodes.JsonObject
        {
            ["model"] = "tiny",
            ["messages"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["role"] = "user", ["content"] = content }),
        }.ToJsonString());

    public Task<(HttpStatusCode Status, string Body)> Get(string path, string? key = null) => Send(HttpMethod.Get, path, key, null);

    private async Task<(HttpStatusCode Status, string Body)> Send(HttpMethod method, string path, string? key, string? json)
    {
        using var http = new HttpClient { BaseAddress = new Uri(Url) };
        using var request = new HttpRequestMessage(method, path);
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    public static void Status((HttpStatusCode Status, string Body) reply, HttpStatusCode status, params string[] expected)
    {
        Assert.True(reply.Status == status, $"{(int)reply.Status} {reply.Body}");
        foreach (var text in expected) Assert.Contains(text, reply.Body, StringComparison.Ordinal);
    }

    /// <summary>Waits (up to 30 s) until the gateway's output from <paramref name="from"/> on holds <paramref name="text"/>.</summary>
    public async Task WaitFor(string text, int from = 0)
    {
        for (var i = 0; i < 300 && !Gateway.Output[from..].Contains(text, StringComparison.Ordinal); i++) await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.Contains(text, Gateway.Output[from..], StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        _gateway?.Dispose();
        if (_upstream is not null) await _upstream.DisposeAsync();
        _postgres?.Dispose();
        Project.Dispose();
    }
}
