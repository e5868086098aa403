using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// The newest audit entries deleted from the registry's database together with the rows they recorded (SQLite, and
/// PostgreSQL where DRYDOCK_TEST_POSTGRES names a server) while <c>drydock serve</c> runs (its own process) and wrote
/// them: the chain that is left is whole, but the audit witness outside the project, moved by every write of every
/// process, still names the entry removed. <c>drydock audit verify</c> (the built CLI) fails naming it; the gateway's
/// background walk logs it, <c>/readyz</c> says so and the admin API refuses. An untouched registry still verifies.
/// </summary>
public sealed class AuditTailProcessTests : IAsyncLifetime
{
    private const string Walk = "periodic walk of the whole audit log found a problem; admin and model requests are refused until it is put back: ";

    private readonly ServedProject _served = new();

    public static TheoryData<string> Backends => TestDatabase.Backends;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _served.DisposeAsync();

    private ActorProject Project => _served.Project;

    private RunningDrydock Gateway => _served.Gateway;

    private static void Ok(ProcessResult result) => ActorProject.Ok(result);

    // A project whose gateway walks the whole log every second, with an administrator key and four application keys;
    // the gateway revokes three of them, so the newest entries are the gateway's own.
    private async Task<string> ServeAndRevoke(string backend)
    {
        await _served.WriteYaml(backend, "gateway:\n  chain-walk-every: 1\n");
        var ops = await Project.As(null, "keys", "create", "--name", "ops", "--admin");
        Ok(ops);
        for (var i = 1; i <= 4; i++) Ok(await Project.As(null, "keys", "create", "--name", $"app{i}", "--tier", "internal"));
        await _served.Serve(null);
        var key = ops.Stdout.Trim();
        for (var i = 1; i <= 3; i++) Status(await Revoke(key, KeyId($"app{i}")), HttpStatusCode.OK, "revoked");
        return key;
    }

    private DbConnection Open() => _served.Open();

    private object? Scalar(string sql) => _served.Scalar(sql);

    private long Entries() => _served.Entries();

    private string KeyId(string name) => _served.KeyId(name);

    // What someone who can write the database does: the newest entries and every row they recorded, deleted in one go,
    // so the chain that is left is whole and every row has its entry.
    private void Truncate(int newest)
    {
        var keep = Entries() - newest;
        using var db = Open();
        using var transaction = db.BeginTransaction();
        foreach (var table in RegistryDatabase.Tables.Keys.Append("audit_log"))
        {
            using var command = db.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = table == "audit_log" ? $"DELETE FROM audit_log WHERE seq > {keep}" : $"DELETE FROM {table} WHERE audit_seq > {keep}";
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private Task<(HttpStatusCode Status, string Body)> Revoke(string key, string id) => _served.Revoke(key, id);

    private async Task<(HttpStatusCode Status, JsonNode Body)> Ready()
    {
        var (status, body) = await _served.Get("/readyz");
        return (status, JsonNode.Parse(body)!);
    }

    private static void Status((HttpStatusCode Status, string Body) reply, HttpStatusCode status, params string[] expected) => ServedProject.Status(reply, status, expected);

    private Task WaitFor(string text) => _served.WaitFor(text);

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task TheNewestEntryDeleted_IsFoundByAuditVerifyAndByTheRunningGateway(string backend) => await Truncated(backend, 1);

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task SeveralNewestEntriesDeleted_AreFoundByAuditVerifyAndByTheRunningGateway(string backend) => await Truncated(backend, 3);

    private async Task Truncated(string backend, int newest)
    {
        var ops = await ServeAndRevoke(backend);
        var witnessed = Entries();
        Truncate(newest);
        Assert.Equal(witnessed - newest, Entries());
        var named = $"it held {witnessed} entries";

        // The built CLI, against the witness: exit 1, naming the witnessed position.
        var verify = await Project.As(null, "audit", "verify");
        Assert.True(verify.Exit == 1, verify.ToString());
        Assert.Contains("the audit log was rolled back", verify.Stderr, StringComparison.Ordinal);
        Assert.Contains(named, verify.Stderr, StringComparison.Ordinal);
        Assert.Contains($"witnessed entry {witnessed} is missing", verify.Stderr, StringComparison.Ordinal);

        // A CLI write on the cut log is refused (exit 2, naming the witnessed entry) and leaves nothing written: an
        // entry written past the cut would fail audit verify later all the same, so none is.
        var before = Entries();
        var write = await Project.As(null, "incident", "contain", "--model", "tiny", "--reason", "written past the cut");
        Assert.True(write.Exit == 2, write.ToString());
        Assert.Contains("refused: nothing was written: the audit log was ", write.Stderr, StringComparison.Ordinal);
        Assert.Contains($"witnessed entry {witnessed} ", write.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Entries());
        Assert.Equal(0L, Convert.ToInt64(Scalar("SELECT COUNT(*) FROM incident_events WHERE note = 'written past the cut'"), CultureInfo.InvariantCulture));

        // The running gateway: its background walk logs it, /readyz says so, and the admin API refuses.
        await WaitFor(Walk + "the audit log was rolled back: " + named);
        var (status, body) = await Ready();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.False(body["checks"]!["auditLog"]!.GetValue<bool>());
        // /readyz is unauthenticated: it says what is wrong, not which entry (the gateway's log names it, above).
        Assert.DoesNotContain("witnessed entry", body.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain($"{witnessed} entries", body.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("the gateway's log names it", body["auditLog"]!.GetValue<string>(), StringComparison.Ordinal);
        var app4 = KeyId("app4");
        Status(await Revoke(ops, app4), HttpStatusCode.ServiceUnavailable, "audit_log_broken", named);
        Assert.Equal(0L, Convert.ToInt64(Scalar($"SELECT COUNT(*) FROM api_key_events WHERE key_id = '{app4}' AND action = 'revoke'"), CultureInfo.InvariantCulture));
    }

    public static TheoryData<string, string> IdentityEdits => new()
    {
        { "sqlite", "DELETE FROM registry_identity" },
        { "sqlite", "UPDATE registry_identity SET value = 'a-new-identity'" },
        { "postgres", "DELETE FROM registry_identity" },
    };

    // The identity row names one witness; deleting or changing it (which anyone who can write the database can) must not
    // start a fresh witness: the one named by the log's first entry still holds the position.
    [Theory]
    [MemberData(nameof(IdentityEdits))]
    public async Task TheNewestEntriesDeleted_AndTheIdentityRowEdited_AreStillFound(string backend, string edit)
    {
        var ops = await ServeAndRevoke(backend);
        var witnessed = Entries();
        Truncate(2);
        using (var db = Open())
        {
            using var command = db.CreateCommand();
            command.CommandText = edit;
            command.ExecuteNonQuery();
        }

        var verify = await Project.As(null, "audit", "verify");
        Assert.True(verify.Exit == 1, verify.ToString());
        Assert.Contains($"witnessed entry {witnessed} is missing", verify.Stderr, StringComparison.Ordinal);
        await WaitFor(Walk + "the audit log was rolled back: " + $"it held {witnessed} entries");
        Status(await Revoke(ops, KeyId("app4")), HttpStatusCode.ServiceUnavailable, "audit_log_broken");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task AnUntouchedRegistry_StillVerifies_WhileTheGatewayWrites(string backend)
    {
        var ops = await ServeAndRevoke(backend);
        var verify = await Project.As(null, "audit", "verify");
        Ok(verify);
        Assert.Contains($"audit log ok: {Entries()} entries", verify.Stdout, StringComparison.Ordinal);

        // A walk after the gateway's writes holds; /readyz reports the log as held; decisions go on.
        await _served.WaitFor("the whole audit log was walked:", Gateway.Output.Length);
        Assert.DoesNotContain(Walk, Gateway.Output, StringComparison.Ordinal);
        var (_, body) = await Ready();
        Assert.True(body["checks"]!["auditLog"]!.GetValue<bool>(), body.ToJsonString());
        Status(await Revoke(ops, KeyId("app4")), HttpStatusCode.OK, "revoked");
        Ok(await Project.As(null, "audit", "verify"));
    }
}
