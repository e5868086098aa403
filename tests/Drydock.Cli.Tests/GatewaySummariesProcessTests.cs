using System.Text.Json.Nodes;
using Drydock.Gateway.Tests;
using Drydock.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace Drydock.Cli.Tests;

/// <summary>
/// The gateway writes the registry's hourly signal summaries itself (<c>monitor.publish-seconds</c>), with no
/// <c>drydock monitor --watch --publish</c> beside it: a real <c>drydock serve</c> takes traffic, and the built CLI in a
/// second project (another machine, as far as it knows) reads the summaries with <c>monitor --from-registry</c>.
/// SQLite (where a registry held locked by another writer is logged and written later, while requests are answered) and
/// PostgreSQL where DRYDOCK_TEST_POSTGRES names a server.
/// </summary>
public sealed class GatewaySummariesProcessTests : IDisposable
{
    private readonly TempDir _gateway = new();
    private readonly TempDir _elsewhere = new();
    private TestDatabase? _postgres;

    public static TheoryData<string> Backends => TestDatabase.Backends;

    public void Dispose()
    {
        _postgres?.Dispose();
        SqliteConnection.ClearAllPools();
        _gateway.Dispose();
        _elsewhere.Dispose();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Gateway_WritesTheSummariesItself_ReadFromAnotherProject(string backend)
    {
        var registry = backend == "sqlite" ? Path.Combine(_gateway.Path, ".drydock", "registry.db") : (_postgres = new TestDatabase()).ConnectionString;
        var env = new Dictionary<string, string?> { ["DRYDOCK_REGISTRY"] = backend == "sqlite" ? null : registry };
        await using var upstream = await FakeUpstream.StartAsync();
        Assert.Equal(0, (await DrydockProcess.Run(_gateway.Path, "init")).Exit);
        Assert.Equal(0, (await DrydockProcess.Run(_elsewhere.Path, "init")).Exit);
        await File.AppendAllTextAsync(Path.Combine(_gateway.Path, "drydock.yaml"), "\nmonitor:\n  bucket-seconds: 1\n  flush-seconds: 1\n  publish-seconds: 1\n", TestContext.Current.CancellationToken);
        var created = await DrydockProcess.Run(_gateway.Path, ["keys", "create", "--name", "app", "--tier", "internal"], env, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(created.Exit == 0, created.ToString());
        var key = created.Stdout.Trim();
        var url = $"http://127.0.0.1:{DrydockProcess.FreePort()}";
        using var gateway = DrydockProcess.Start(_gateway.Path, ["serve", "--upstream", upstream.BaseUrl, "--listen", url], env);
        await gateway.WaitUntilListening(new Uri(url + "/healthz"));
        using var http = new HttpClient();
        var start = DateTimeOffset.UtcNow;

        if (backend == "sqlite")
        {
            // Another writer holds the registry: the gateway's writer cannot write (it waits its busy timeout, then
            // logs and tries again at its next tick), and every request is answered meanwhile.
            using var holder = new SqliteConnection($"Data Source={registry};Pooling=False");
            holder.Open();
            using (var begin = holder.CreateCommand())
            {
                begin.CommandText = "BEGIN IMMEDIATE";
                begin.ExecuteNonQuery();
            }

            Assert.Equal(20, await Send(http, url, key, 20));
            await Until(() => gateway.Output.Contains("signal summaries not written to the registry", StringComparison.Ordinal), "the failed write was not logged", TimeSpan.FromSeconds(40));
            Assert.Equal(10, await Send(http, url, key, 10));
            using var rollback = holder.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            rollback.ExecuteNonQuery();
        }
        else
        {
            Assert.Equal(30, await Send(http, url, key, 30));
        }

        // Read where the gateway's log folder is not: whole hours around the run (a run across an hour's end is in two).
        var from = DateTimeOffset.FromUnixTimeSeconds(start.ToUnixTimeSeconds() / 3600 * 3600);
        string[] read = ["monitor", "--from-registry", "--registry", registry, "--format", "json", "--from", SignalFixture.Iso(from), "--to", SignalFixture.Iso(from.AddHours(2)), "--baseline-from", SignalFixture.Iso(from.AddDays(-7)), "--baseline-to", SignalFixture.Iso(from)];
        ProcessResult? seen = null;
        await Until(
            async () =>
            {
                seen = await DrydockProcess.Run(_elsewhere.Path, read, cancellationToken: TestContext.Current.CancellationToken);
                return seen.Exit == 0 && (long)JsonNode.Parse(seen.Stdout)!["window"]!["requests"]! == 30;
            },
            "the registry's summaries never held the 30 requests",
            TimeSpan.FromSeconds(60),
            () => seen?.ToString() + "\n--- gateway\n" + gateway.Output);
        Assert.Contains("signal summaries: ", gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(key, gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Password", gateway.Output, StringComparison.OrdinalIgnoreCase);
        Assert.False(Directory.Exists(Path.Combine(_elsewhere.Path, ".drydock", "gateway", "requests")) && Directory.GetFiles(Path.Combine(_elsewhere.Path, ".drydock", "gateway", "requests"), "signals-*").Length > 0);
    }

    [Fact]
    public async Task Gateway_DeletesSummariesOlderThanTheRetention_KeepsTheRest()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        Assert.Equal(0, (await DrydockProcess.Run(_gateway.Path, "init")).Exit);
        await File.AppendAllTextAsync(Path.Combine(_gateway.Path, "drydock.yaml"), "\nmonitor:\n  publish-seconds: 1\n  summary-retention-days: 9\n", TestContext.Current.CancellationToken);
        var hour = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 3600 * 3600;
        var old = hour - (30 * 24 * 3600);   // past the 9 days kept
        var kept = hour - (204 * 3600);      // 8.5 days back: kept, and before the hours the writer recomputes
        var path = Path.Combine(_gateway.Path, ".drydock", "registry.db");
        using (var registry = Drydock.Provenance.Registry.ProvenanceRegistry.Open(path))
        {
            registry.ReplaceSignalSummaries(old, [.. new[] { old, kept }.Select(h => (h, "support", "internal", "ddk_app", "{\"at\":" + h + ",\"alias\":\"support\",\"tier\":\"internal\",\"key\":\"ddk_app\",\"requests\":5}"))]);
        }

        SqliteConnection.ClearAllPools();
        var key = (await DrydockProcess.Run(_gateway.Path, "keys", "create", "--name", "app", "--tier", "internal")).Stdout.Trim();
        var url = $"http://127.0.0.1:{DrydockProcess.FreePort()}";
        using var gateway = DrydockProcess.Start(_gateway.Path, ["serve", "--upstream", upstream.BaseUrl, "--listen", url]);
        await gateway.WaitUntilListening(new Uri(url + "/healthz"));
        using var http = new HttpClient();
        Assert.Equal(3, await Send(http, url, key, 3));
        List<long> hours = [];
        await Until(
            () =>
            {
                using (var registry = Drydock.Provenance.Registry.ProvenanceRegistry.Open(path))
                {
                    hours = [.. registry.SignalSummaries(0, long.MaxValue).Select(s => s.Hour)];
                }

                SqliteConnection.ClearAllPools();
                return !hours.Contains(old);
            },
            "the summary past the retention was not deleted",
            TimeSpan.FromSeconds(60));
        Assert.Contains(kept, hours);
    }

    [Fact]
    public async Task PublishSettings_Bad_AreRefusedAtStart_NamingFileLineAndField()
    {
        Assert.Equal(0, (await DrydockProcess.Run(_gateway.Path, "init")).Exit);
        await File.AppendAllTextAsync(Path.Combine(_gateway.Path, "drydock.yaml"), "\nmonitor:\n  publish-seconds: -5\n", TestContext.Current.CancellationToken);
        var serve = await DrydockProcess.Run(_gateway.Path, "serve", "--upstream", "http://127.0.0.1:9", "--listen", $"http://127.0.0.1:{DrydockProcess.FreePort()}");
        Assert.Equal(2, serve.Exit);
        Assert.Matches(@"drydock\.yaml:\d+: monitor\.publish-seconds", serve.Stderr);

        // A retention shorter than the periods compared by default would delete what they compare.
        var yaml = Path.Combine(_gateway.Path, "drydock.yaml");
        await File.WriteAllTextAsync(yaml, (await File.ReadAllTextAsync(yaml, TestContext.Current.CancellationToken)).Replace("publish-seconds: -5", "summary-retention-days: 3", StringComparison.Ordinal), TestContext.Current.CancellationToken);
        var shortRetention = await DrydockProcess.Run(_gateway.Path, "monitor");
        Assert.Equal(2, shortRetention.Exit);
        Assert.Matches(@"drydock\.yaml:\d+: monitor\.summary-retention-days", shortRetention.Stderr);
    }

    private static async Task<int> Send(HttpClient http, string url, string key, int count)
    {
        var ok = 0;
        for (var i = 0; i < count; i++)
        {
            if (await SignalFixture.Chat(http, url, key, $"What is the delivery status of order number {1000 + i} placed last week", cancellationToken: TestContext.Current.CancellationToken)) ok++;
        }

        return ok;
    }

    private static Task Until(Func<bool> done, string failure, TimeSpan within) => Until(() => Task.FromResult(done()), failure, within, () => "");

    private static Task Until(Func<Task<bool>> done, string failure, TimeSpan within, Func<string> detail) =>
        SignalFixture.Until(done, within, TimeSpan.FromMilliseconds(500), () => failure + "\n" + detail());
}
