using System.Net;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// The admin API of a running <c>drydock serve</c> (its own process) relies on the registry's audit chain as the CLI's
/// role checks do: an audit entry edited in the registry's database (SQLite, and PostgreSQL where DRYDOCK_TEST_POSTGRES
/// names a server) or a grant forged there is refused (503 audit_log_broken, in the gateway's log; nothing is appended to the broken log),
/// a model caller is refused with a generic reason (503 registry_state_broken; the detail is in the gateway's log), and an
/// administrator key acts as itself (<c>adminkey:ID</c>), never by the grant of a registry actor its name names.
/// </summary>
public sealed class AdminChainProcessTests : IAsyncLifetime
{
    private readonly ServedProject _served = new();

    public static TheoryData<string> Backends => TestDatabase.Backends;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _served.DisposeAsync();

    private RunningDrydock Gateway => _served.Gateway;

    private Task<ProcessResult> As(string? actor, params string[] args) => _served.Project.As(actor, args);

    private static void Ok(ProcessResult result) => ActorProject.Ok(result);

    // A project with access control on: root (admin) and alice (incident-responder, her administrator key named after her).
    private async Task<(string Alice, string Ops)> Project(string backend, string gatewayYaml = "")
    {
        await _served.WriteYaml(backend, gatewayYaml);
        Ok(await As(null, "actor", "bootstrap", "root", "--expires", "30d", "--reason", "first admin"));
        await File.AppendAllTextAsync(_served.Yaml, "access: required\n", TestContext.Current.CancellationToken);
        Ok(await As("root", "actor", "create", "alice", "--role", "incident-responder", "--expires", "30d", "--reason", "on call"));
        var alice = (await As("root", "keys", "create", "--name", "alice", "--admin")).Stdout.Trim();
        var ops = (await As("root", "keys", "create", "--name", "ops", "--admin")).Stdout.Trim();
        Ok(await As("root", "keys", "create", "--name", "app1", "--tier", "internal"));
        Ok(await As("root", "keys", "create", "--name", "app2", "--tier", "internal"));
        await _served.Serve("root");
        return (alice, ops);
    }

    private object? Scalar(string sql) => _served.Scalar(sql);

    private int Execute(string sql) => _served.Execute(sql);

    private Task<(HttpStatusCode Status, string Body)> Revoke(string key, string id) => _served.Revoke(key, id);

    private Task<(HttpStatusCode Status, string Body)> Ask(string key) => _served.Ask(key);

    private Task<(HttpStatusCode Status, string Body)> Get(string path) => _served.Get(path);

    private string KeyId(string name) => _served.KeyId(name);

    private long BrokenRefusals() => Convert.ToInt64(Scalar("SELECT COUNT(*) FROM access_decisions WHERE decision = 'refused' AND reason LIKE '%audit log does not verify%'"), System.Globalization.CultureInfo.InvariantCulture);

    private static void Status((HttpStatusCode Status, string Body) reply, HttpStatusCode status, params string[] expected) => ServedProject.Status(reply, status, expected);

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task AnEditedAuditEntryOrAForgedGrant_IsRefusedByTheAdminApi(string backend)
    {
        var (alice, ops) = await Project(backend);
        var app3 = (await As("root", "keys", "create", "--name", "app3", "--tier", "internal")).Stdout.Trim();
        Status(await Revoke(alice, KeyId("app1")), HttpStatusCode.OK, "revoked");
        Status(await Ask(app3), HttpStatusCode.OK);

        // An entry written since the gateway's last check (the CLI's own access decision) edited in place: refused,
        // for every key, the state-changing route and the reads alike, until it is put back.
        Ok(await As("root", "model", "list"));
        var seq = Convert.ToInt64(Scalar("SELECT MAX(seq) FROM audit_log WHERE action = 'access.allowed'"), System.Globalization.CultureInfo.InvariantCulture);
        var details = (string)Scalar($"SELECT details FROM audit_log WHERE seq = {seq}")!;
        Assert.Equal(1, Execute($"UPDATE audit_log SET details = '{details.Replace("model list", "model lisT", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal)}' WHERE seq = {seq}"));
        var app2 = KeyId("app2");
        Status(await Revoke(alice, app2), HttpStatusCode.ServiceUnavailable, "audit_log_broken", $"audit entry {seq}", "was edited");
        Status(await Revoke(ops, app2), HttpStatusCode.ServiceUnavailable, "audit_log_broken");
        Assert.Equal(0L, Convert.ToInt64(Scalar($"SELECT COUNT(*) FROM api_key_events WHERE key_id = '{app2}' AND action = 'revoke'"), System.Globalization.CultureInfo.InvariantCulture));
        // Refused, but not recorded on the log whose chain check just failed: an entry appended there would move the
        // audit witness past the edit, and putting back the copy from before it would read as a rollback.
        Assert.Equal(0, BrokenRefusals());
        Assert.Contains("audit log does not verify", Gateway.Output, StringComparison.Ordinal);

        // What the decision's own walk found refuses model requests at once (no background walk has run: its default
        // turn is ten minutes away), and /readyz says so without naming the entry.
        // A model caller is told that, never where: the entry is named in the gateway's log and to an admin caller only.
        Generic(await Ask(app3), seq);
        var ready = await Get("/readyz");
        Status(ready, HttpStatusCode.ServiceUnavailable, "\"auditLog\":false");
        Assert.DoesNotContain("audit entry", ready.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("periodic walk", Gateway.Output, StringComparison.Ordinal);
        Assert.Contains($"model requests are refused (503 registry_state_broken) until the registry's state matches its audit log again: the audit log does not verify: audit entry {seq}", Gateway.Output, StringComparison.Ordinal);

        // Put back as drydock wrote it: the next decision walks the whole log, which holds; admin and model requests are served.
        Assert.Equal(1, Execute($"UPDATE audit_log SET details = '{details.Replace("'", "''", StringComparison.Ordinal)}' WHERE seq = {seq}"));
        Status(await Revoke(ops, app2), HttpStatusCode.OK, "revoked");
        Status(await Ask(app3), HttpStatusCode.OK);
        Status(await Get("/readyz"), HttpStatusCode.OK);

        // A grant written straight into the database (no audit entry): refused.
        Assert.Equal(1, Execute(
            "INSERT INTO actor_events (id, name, action, roles, public_key, key_id, expires, reason, actor, at, audit_seq) " +
            "SELECT 'ac-forged', 'ops', 'grant', '[\"admin\"]', public_key, key_id, expires, 'forged', 'root', at, audit_seq FROM actor_events WHERE name = 'alice'"));
        Status(await Revoke(ops, KeyId("app1")), HttpStatusCode.ServiceUnavailable, "audit_log_broken", "actor record edited outside drydock");
        Status(await Revoke(alice, KeyId("app1")), HttpStatusCode.ServiceUnavailable, "audit_log_broken", "actor record edited outside drydock");
        Generic(await Ask(app3), seq);
        Assert.Contains("actor record edited outside drydock", Gateway.Output, StringComparison.Ordinal);
    }

    // The 503 a model caller (an API key of a model tier) gets while the registry's state does not match its audit log:
    // a generic reason, with no audit entry number, row id or record named.
    private static void Generic((HttpStatusCode Status, string Body) reply, long seq)
    {
        Status(reply, HttpStatusCode.ServiceUnavailable, "registry_state_broken", "log names the problem");
        foreach (var detail in new[] { "audit entry", $"{seq}", "actor record", "edited", "witness", "ac-forged" }) Assert.DoesNotContain(detail, reply.Body, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task AnOldEntryEditedWhileTheGatewayRuns_IsFoundByThePeriodicWalk_WithoutAnAdminRequest(string backend)
    {
        // An access decision of the CLI, then one admin API decision: the gateway's verified head lies beyond it.
        var (alice, ops) = await ProjectWithModelList(backend);
        var app3 = (await As("root", "keys", "create", "--name", "app3", "--tier", "internal")).Stdout.Trim();
        Status(await Revoke(alice, KeyId("app1")), HttpStatusCode.OK, "revoked");
        Status(await Ask(app3), HttpStatusCode.OK);

        // That entry, now before the verified head, edited in place (its later hashes not recomputed): the decisions walk
        // only what was written since their head, so it is the background walk of the whole log (every second here) that
        // finds it, logged with no admin request made.
        var seq = Convert.ToInt64(Scalar("SELECT MIN(seq) FROM audit_log WHERE action = 'access.allowed' AND details LIKE '%model list%'"), System.Globalization.CultureInfo.InvariantCulture);
        var details = (string)Scalar($"SELECT details FROM audit_log WHERE seq = {seq}")!;
        Assert.Equal(1, Execute($"UPDATE audit_log SET details = '{details.Replace("model list", "model lisT", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal)}' WHERE seq = {seq}"));
        var found = $"periodic walk of the whole audit log found a problem; admin and model requests are refused until it is put back: audit entry {seq}:";
        for (var i = 0; i < 300 && !Gateway.Output.Contains(found, StringComparison.Ordinal); i++) await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.Contains(found, Gateway.Output, StringComparison.Ordinal);

        // Model requests are refused too (the entry named in the gateway's log only), and /readyz says so.
        Generic(await Ask(app3), seq);
        var ready = await Get("/readyz");
        Status(ready, HttpStatusCode.ServiceUnavailable, "\"auditedState\":false", "\"auditLog\":false", "log names");
        Assert.DoesNotContain($"entry {seq}", ready.Body, StringComparison.Ordinal);
        Assert.Contains("model requests are refused", Gateway.Output, StringComparison.Ordinal);

        // Every admin API decision after it is refused, naming the entry, until it is put back.
        var app2 = KeyId("app2");
        Status(await Revoke(ops, app2), HttpStatusCode.ServiceUnavailable, "audit_log_broken", $"audit entry {seq}", "was edited");
        Status(await Revoke(alice, app2), HttpStatusCode.ServiceUnavailable, "audit_log_broken", $"audit entry {seq}");
        Assert.Equal(0L, Convert.ToInt64(Scalar($"SELECT COUNT(*) FROM api_key_events WHERE key_id = '{app2}' AND action = 'revoke'"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, Execute($"UPDATE audit_log SET details = '{details.Replace("'", "''", StringComparison.Ordinal)}' WHERE seq = {seq}"));
        Status(await Revoke(ops, app2), HttpStatusCode.OK, "revoked");

        // The background walk holds again at its next turn (it may not have held before the edit was made).
        const string held = "the whole audit log was walked:";
        for (var i = 0; i < 300 && !Gateway.Output.Contains(held, StringComparison.Ordinal); i++) await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.Contains(held, Gateway.Output, StringComparison.Ordinal);
        for (var i = 0; i < 300 && (await Ask(app3)).Status != HttpStatusCode.OK; i++) await Task.Delay(100, TestContext.Current.CancellationToken);
        Status(await Ask(app3), HttpStatusCode.OK);
        Status(await Get("/readyz"), HttpStatusCode.OK);
    }

    private async Task<(string Alice, string Ops)> ProjectWithModelList(string backend)
    {
        var keys = await Project(backend, "gateway:\n  chain-walk-every: 1\n");
        Ok(await As("root", "model", "list"));
        return keys;
    }

    [Fact]
    public async Task AnAdministratorKeyNamedAfterAnActor_ActsAsTheKey_NeverByThatActorsGrant()
    {
        var (alice, ops) = await Project("sqlite");
        Ok(await As("root", "actor", "create", "vera", "--role", "viewer", "--expires", "30d", "--reason", "reads"));
        var vera = (await As("root", "keys", "create", "--name", "vera", "--admin")).Stdout.Trim();
        Ok(await As("root", "actor", "revoke", "alice", "--reason", "left the team"));

        // Each key acts as itself (the admin tier), whatever person its name names: a name is no signed identity.
        Status(await Revoke(vera, KeyId("app1")), HttpStatusCode.OK, "revoked");
        Status(await Revoke(alice, KeyId("app2")), HttpStatusCode.OK, "revoked");
        var actors = (string?)Scalar("SELECT group_concat(actor, ',') FROM (SELECT actor FROM incident_events WHERE action = 'contained' ORDER BY audit_seq)");
        Assert.Equal($"adminkey:{vera.Split('_')[1]},adminkey:{alice.Split('_')[1]}", actors);
        Assert.Equal(0L, Scalar("SELECT COUNT(*) FROM audit_log WHERE actor IN ('admin:vera', 'admin:alice', 'vera', 'alice') AND action LIKE 'incident%'"));
        Assert.DoesNotContain(alice, Gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(vera, Gateway.Output, StringComparison.Ordinal);

        // A revoked key is what stops it (not a grant of the same name).
        Ok(await As("root", "keys", "revoke", KeyId("alice"), "--reason", "left the team"));
        Status(await Revoke(alice, KeyId("app1")), HttpStatusCode.Unauthorized, "invalid_api_key");
        Status(await Revoke(ops, KeyId("app1")), HttpStatusCode.OK);
    }
}
