using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Drydock.Gateway.Tests;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// Key and canary changes made by the built CLI in one process reach a gateway (<c>drydock serve</c>) running in
/// another, within the time docs/gateway.md promises: a key created, revoked, rotated or revoked by
/// <c>incident contain --key</c> within one second (through the key file, and at once through Redis to a gateway
/// on another key folder); a canary within two seconds. An edited or put-back key file is refused by the running
/// gateway, the CLI, <c>audit verify</c> and a new <c>serve</c>.
/// </summary>
public sealed class KeysAcrossProcessesTests : IDisposable
{
    // What docs/gateway.md promises, and the slack a loaded two-core machine gets on top of it (process start-up is
    // not in it: the clock starts when the CLI process has exited).
    private static readonly TimeSpan s_keyPromise = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_canaryPromise = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_slack = TimeSpan.FromSeconds(3);

    private readonly TempDir _dir = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    // Key verbs act on a project (found like git finds a repository): the scratch folder is one.
    public KeysAcrossProcessesTests() => Directory.CreateDirectory(Path.Combine(_dir.Path, ".drydock"));

    public void Dispose()
    {
        _http.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private static string Redis()
    {
        var address = Environment.GetEnvironmentVariable("DRYDOCK_TEST_REDIS");
        if (address is not null) return address;
        if (Environment.GetEnvironmentVariable("DRYDOCK_REQUIRE_REDIS") == "1") Assert.Fail("DRYDOCK_TEST_REDIS is not set but DRYDOCK_REQUIRE_REDIS=1");
        Assert.Skip("DRYDOCK_TEST_REDIS is not set (./test.sh starts Redis and sets it)");
        return "";
    }

    private async Task<string> Cli(string dir, params string[] args)
    {
        var result = await DrydockProcess.Run(dir, args);
        Assert.True(result.Exit == 0, $"drydock {string.Join(' ', args)}: {result}");
        return result.Stdout.Trim();
    }

    private static async Task<RunningDrydock> Serve(string dir, FakeUpstream upstream, int port, params string[] more)
    {
        var gateway = DrydockProcess.Start(dir, ["serve", "--upstream", upstream.BaseUrl, "--listen", $"http://127.0.0.1:{port}", .. more]);
        await gateway.WaitUntilListening(new Uri($"http://127.0.0.1:{port}/healthz"), TimeSpan.FromSeconds(120));
        return gateway;
    }

    private async Task<(HttpStatusCode Status, string Body)> Ask(int port, string key, string text = "hello")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/v1/chat/completions")
        {
            Content = new StringContent(new JsonObject { ["model"] = "tiny", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = text }) }.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    // Asks until the answer is what is expected; returns how long that took, failing past the promise and its slack.
    private async Task<TimeSpan> Until(string what, TimeSpan promise, Func<Task<bool>> reached)
    {
        var clock = Stopwatch.StartNew();
        while (!await reached())
        {
            Assert.True(clock.Elapsed < promise + s_slack, $"{what}: not within {promise} (+{s_slack} slack) of the CLI's exit");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{what}: {clock.Elapsed.TotalMilliseconds:F0} ms after the CLI exited");
        return clock.Elapsed;
    }

    private Task<TimeSpan> Accepted(int port, string key, string what) => Until(what, s_keyPromise, async () => (await Ask(port, key)).Status == HttpStatusCode.OK);

    private Task<TimeSpan> Refused(int port, string key, string what) => Until(what, s_keyPromise, async () => (await Ask(port, key)).Status == HttpStatusCode.Unauthorized);

    private static string Id(string key) => key.Split('_')[1];

    [Fact]
    public async Task CreateRevokeRotateAndContain_FromTheCli_ReachARunningGateway_WithinASecond_AndAreAuditEntries()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var dir = _dir.Path;
        var first = await Cli(dir, "keys", "create", "--name", "app", "--tier", "internal");
        var port = DrydockProcess.FreePort();
        using var gateway = await Serve(dir, upstream, port);
        Assert.Equal(HttpStatusCode.OK, (await Ask(port, first)).Status);

        var created = await Cli(dir, "keys", "create", "--name", "late", "--tier", "internal");
        await Accepted(port, created, "a key created after serve started");

        await Cli(dir, "keys", "revoke", Id(first), "--reason", "left the team");
        await Refused(port, first, "a revoked key");
        Assert.Equal(HttpStatusCode.OK, (await Ask(port, created)).Status);

        var rotated = await Cli(dir, "keys", "rotate", Id(created));
        await Accepted(port, rotated, "the replacement of a rotated key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await Ask(port, created)).Status); // one write: old and new change together

        var contained = await Cli(dir, "incident", "contain", "--key", Id(rotated), "--reason", "seen on a paste site");
        await Refused(port, rotated, "a key revoked by incident contain --key");
        Assert.Matches("in-[0-9a-f]{12}: key [0-9a-f]{8} revoked", contained);

        Assert.Contains("key store ok: 3 keys", await Cli(dir, "audit", "verify"), StringComparison.Ordinal);
        var log = await Cli(dir, "audit", "log", "--limit", "100");
        Assert.Equal(3, Regex.Count(log, @"api-key\.create "));
        Assert.Equal(2, Regex.Count(log, @"api-key\.revoke ")); // keys revoke and incident contain --key
        Assert.Equal(1, Regex.Count(log, @"api-key\.rotate "));
        var json = await Cli(dir, "audit", "log", "--action", "api-key.revoke", "--format", "json");
        Assert.Contains("left the team", json, StringComparison.Ordinal);
        Assert.Contains("incident in-", json, StringComparison.Ordinal);
        foreach (var key in new[] { first, created, rotated }) Assert.DoesNotContain(key.Split('_')[2], log + json + gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARevocationWithRedis_ReachesAGatewayOnAnotherKeyFolder_AtOnce()
    {
        var redis = Redis();
        await using var upstream = await FakeUpstream.StartAsync();
        var dir = _dir.Path;
        var key = await Cli(dir, "keys", "create", "--name", "app", "--tier", "internal");
        var other = await Cli(dir, "keys", "create", "--name", "other", "--tier", "internal");

        // A second machine: its own copy of the key folder (taken before the revocation), the same registry and Redis.
        var machine = Path.Combine(dir, "machine-b");
        Directory.CreateDirectory(Path.Combine(machine, ".drydock"));
        CopyFolder(Path.Combine(dir, ".drydock", "keys"), Path.Combine(machine, ".drydock", "keys"));
        var registry = Path.Combine(dir, ".drydock", "registry.db");
        var portA = DrydockProcess.FreePort();
        using var a = await Serve(dir, upstream, portA, "--redis", redis);
        var portB = DrydockProcess.FreePort();
        using var b = await Serve(machine, upstream, portB, "--redis", redis, "--registry", registry);
        Assert.Equal(HttpStatusCode.OK, (await Ask(portB, key)).Status);

        await Cli(dir, "keys", "revoke", Id(key), "--redis", redis);
        await Refused(portB, key, "a revocation through Redis, at a gateway whose key file still has the key active");
        await Refused(portA, key, "a revocation through Redis and the key file");
        Assert.Equal(HttpStatusCode.OK, (await Ask(portB, other)).Status);

        await Cli(dir, "incident", "contain", "--key", Id(other), "--redis", redis);
        await Refused(portB, other, "incident contain --key with --redis, at the other gateway");

        var unreachable = await DrydockProcess.Run(dir, "keys", "revoke", Id(key), "--redis", "127.0.0.1:1,connectTimeout=500");
        Assert.Equal(2, unreachable.Exit);
        Assert.Contains("NOT in Redis", unreachable.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACanaryCreatedWhileTheGatewayRuns_IsWatchedFor_WithinTwoSeconds()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var dir = _dir.Path;
        var key = await Cli(dir, "keys", "create", "--name", "app", "--tier", "internal");
        var port = DrydockProcess.FreePort();
        using var gateway = await Serve(dir, upstream, port);

        var code = await Cli(dir, "canary", "create", "--label", "tickets v4");
        Assert.Matches("^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$", code);
        await Until("a canary created after serve started", s_canaryPromise, async () =>
        {
            var (status, body) = await Ask(port, key, $"SAY:the recovery code is {code}.");
            Assert.Equal(HttpStatusCode.OK, status);
            return body.Contains("[response blocked by policy]", StringComparison.Ordinal);
        });
        var (_, body) = await Ask(port, key, $"SAY:the recovery code is {code}.");
        Assert.DoesNotContain(code, body, StringComparison.Ordinal);
        Assert.Contains("canary-leak", await Cli(dir, "incident", "list"), StringComparison.Ordinal);
    }

    public static TheoryData<string> Edits => new("un-revoke", "tier", "expiry", "hash", "add");

    [Theory]
    [MemberData(nameof(Edits))]
    public async Task AnEditedKeyFile_IsRefused_ByTheCli_AuditVerify_AndServe(string edit)
    {
        var dir = _dir.Path;
        var key = await Cli(dir, "keys", "create", "--name", "app", "--tier", "public", "--expires", "1d");
        var revoked = await Cli(dir, "keys", "create", "--name", "gone", "--tier", "public");
        await Cli(dir, "keys", "revoke", Id(revoked));
        var path = Path.Combine(dir, ".drydock", "keys", "api-keys.json");
        var file = JsonNode.Parse(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken))!.AsObject();
        var keys = file["keys"]!.AsArray();
        var app = keys.Single(k => (string?)k!["id"] == Id(key))!;
        switch (edit)
        {
            case "un-revoke": keys.Single(k => (string?)k!["id"] == Id(revoked))!["revoked"] = null; break;
            case "tier": app["tier"] = "internal"; break;
            case "expiry": app["expires"] = null; break;
            case "hash": app["hash"] = new string('a', 64); break;
            default: keys.Add(app.DeepClone()); keys[^1]!["id"] = "0badc0de"; break;
        }

        await File.WriteAllTextAsync(path, file.ToJsonString(), TestContext.Current.CancellationToken);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var listed = await DrydockProcess.Run(dir, "keys", "list");
        Assert.Equal(2, listed.Exit);
        Assert.Contains("fails its integrity check", listed.Stderr, StringComparison.Ordinal);
        var verified = await DrydockProcess.Run(dir, "audit", "verify");
        Assert.Equal(1, verified.Exit);
        Assert.Contains("FAILED: key store", verified.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, (await DrydockProcess.Run(dir, "keys", "create", "--name", "more")).Exit);
        var served = await DrydockProcess.Run(dir, ["serve", "--upstream", "http://127.0.0.1:9/v1", "--listen", $"http://127.0.0.1:{DrydockProcess.FreePort()}"], timeout: TimeSpan.FromMinutes(2), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(2, served.Exit);
        Assert.Contains("fails its integrity check", served.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AKeyFilePutBackOrEdited_WhileTheGatewayRuns_StopsEveryKey_AndAuditVerifyAndServeReportIt()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var dir = _dir.Path;
        var key = await Cli(dir, "keys", "create", "--name", "app", "--tier", "internal");
        var bystander = await Cli(dir, "keys", "create", "--name", "bystander", "--tier", "internal");
        var path = Path.Combine(dir, ".drydock", "keys", "api-keys.json");
        var before = await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken);
        var port = DrydockProcess.FreePort();
        using var gateway = await Serve(dir, upstream, port);
        await Cli(dir, "keys", "revoke", Id(key));
        await Refused(port, key, "a revoked key");

        // The copy from before the revocation is a valid file (its integrity code is right): put back, it is refused.
        await File.WriteAllBytesAsync(path + ".tmp", before, TestContext.Current.CancellationToken);
        File.SetUnixFileMode(path + ".tmp", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(path + ".tmp", path, overwrite: true);
        await Refused(port, bystander, "every key, once the key file is put back");
        Assert.Equal(HttpStatusCode.Unauthorized, (await Ask(port, key)).Status);
        using (var ready = await _http.GetAsync(new Uri($"http://127.0.0.1:{port}/readyz"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Contains("\"keys\":false", await ready.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        }

        Assert.Contains("key file refused", gateway.Output, StringComparison.Ordinal);
        var verified = await DrydockProcess.Run(dir, "audit", "verify");
        Assert.Equal(1, verified.Exit);
        Assert.Contains($"key {Id(key)} (app): revoked is (none)", verified.Stderr, StringComparison.Ordinal);
        var again = await DrydockProcess.Run(dir, ["serve", "--upstream", upstream.BaseUrl, "--listen", $"http://127.0.0.1:{DrydockProcess.FreePort()}"], timeout: TimeSpan.FromMinutes(2), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(2, again.Exit);
        Assert.Contains("does not match the audit log", again.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyFiles_AreOwnerOnly()
    {
        var dir = _dir.Path;
        await Cli(dir, "keys", "create", "--name", "app");
        var folder = Path.Combine(dir, ".drydock", "keys");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        foreach (var name in new[] { "api-keys.json", "api-keys.pepper", "api-keys.lock" })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder, name)));
        }

        File.SetUnixFileMode(Path.Combine(folder, "api-keys.pepper"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var refused = await DrydockProcess.Run(dir, "keys", "list");
        Assert.Equal(2, refused.Exit);
        Assert.Contains("readable or writable by others", refused.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AKeyFileFromBeforeIntegrityCodes_IsRefused_UntilSealed()
    {
        var dir = _dir.Path;
        var key = await Cli(dir, "keys", "create", "--name", "app", "--tier", "internal");
        var path = Path.Combine(dir, ".drydock", "keys", "api-keys.json");
        await File.WriteAllTextAsync(path, JsonNode.Parse(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken))!["keys"]!.ToJsonString(), TestContext.Current.CancellationToken); // as an older drydock wrote it
        File.Delete(Path.Combine(dir, ".drydock", "registry.db")); // and no audit entries from then
        var refused = await DrydockProcess.Run(dir, "keys", "list");
        Assert.Equal(2, refused.Exit);
        Assert.Contains("drydock keys seal", refused.Stderr, StringComparison.Ordinal);

        Assert.Contains($"sealed 1 keys (0 revoked): {Id(key)}", await Cli(dir, "keys", "seal"), StringComparison.Ordinal);
        Assert.Contains("key store ok: 1 keys", await Cli(dir, "audit", "verify"), StringComparison.Ordinal);
        Assert.Contains(Id(key), await Cli(dir, "keys", "list"), StringComparison.Ordinal);
        Assert.Equal(2, (await DrydockProcess.Run(dir, "keys", "seal")).Exit); // a file with its code is never sealed again
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        File.SetUnixFileMode(to, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var file in Directory.GetFiles(from))
        {
            var target = Path.Combine(to, Path.GetFileName(file));
            File.Copy(file, target);
            File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
