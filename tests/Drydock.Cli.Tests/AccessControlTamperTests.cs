using Drydock.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace Drydock.Cli.Tests;

/// <summary>
/// The registry rows an access decision reads, edited directly in SQLite behind drydock's back, through the built CLI
/// in its own process: an actor's roles, public key, expiry or revocation, every actor row deleted, and the registrant
/// of a dataset are each refused as "edited outside drydock" (exit 2) before the verb runs, and the refusal is recorded.
/// </summary>
public sealed class AccessControlTamperTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly TempDir _outside = new();
    private readonly TempDir _state = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
        _outside.Dispose();
        _state.Dispose();
    }

    private Task<ProcessResult> Drydock(IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var env = new Dictionary<string, string?> { ["DRYDOCK_STATE_HOME"] = _state.Path, ["DRYDOCK_ACTOR"] = null, ["DRYDOCK_ACTOR_KEY"] = null, ["DRYDOCK_REDACTION_KEY"] = null, ["DRYDOCK_REGISTRY"] = null };
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>()) env[k] = v;
        return DrydockProcess.Run(_dir.Path, args, env, timeout: TimeSpan.FromSeconds(120), cancellationToken: TestContext.Current.CancellationToken);
    }

    private Task<ProcessResult> As(string actor, params string[] args) => Drydock(new Dictionary<string, string?> { ["DRYDOCK_ACTOR"] = actor }, args);

    private static void Ok(ProcessResult result) => Assert.True(result.Exit == 0, result.ToString());

    private static void Edited(ProcessResult result, string what = "actor record edited outside drydock")
    {
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains("refused:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(what, result.Stderr, StringComparison.Ordinal);
    }

    private string Registry => Path.Combine(_dir.Path, ".drydock", "registry.db");

    private object? Sql(string sql, params (string Name, object? Value)[] parameters)
    {
        using var db = new SqliteConnection($"Data Source={Registry};Pooling=False");
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command.ExecuteScalar();
    }

    private long RefusalsRecorded(string like) => (long)Sql("SELECT count(*) FROM access_decisions WHERE decision = 'refused' AND reason LIKE @like", ("@like", like))!;

    private async Task ProjectWithAdmin()
    {
        Ok(await Drydock(null, "init"));
        Ok(await Drydock(null, "actor", "bootstrap", "root", "--expires", "30d", "--reason", "first admin"));
        await File.AppendAllTextAsync(Path.Combine(_dir.Path, "drydock.yaml"), "\naccess: required\n", TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AnActorRowEditedInSqlite_RoleKeyExpiryOrRevocation_IsRefusedAtOnce_AndTheRefusalRecorded()
    {
        await ProjectWithAdmin();
        Ok(await As("root", "actor", "create", "alice", "--role", "viewer", "--expires", "30d", "--reason", "reads"));
        Ok(await As("root", "actor", "create", "bob", "--role", "auditor", "--expires", "2s", "--reason", "short audit"));
        Ok(await As("root", "actor", "create", "carol", "--role", "auditor", "--expires", "30d", "--reason", "audit"));
        var ownKey = Path.Combine(_outside.Path, "mallory.key");
        Ok(await Drydock(null, "actor", "keygen", "--output", ownKey));
        Ok(await As("root", "actor", "create", "mallory", "--role", "viewer", "--public-key", ownKey + ".pub", "--expires", "30d", "--reason", "reads"));
        Ok(await As("root", "actor", "revoke", "carol", "--reason", "left the team"));
        await Task.Delay(TimeSpan.FromSeconds(2.5), TestContext.Current.CancellationToken);
        Assert.Equal(2, (await As("alice", "keys", "create", "--name", "x", "--admin")).Exit); // a viewer

        // Alice made an admin by hand: refused at once, not only found by audit verify afterwards.
        var roles = (string)Sql("SELECT roles FROM actor_events WHERE name = 'alice'")!;
        Sql("UPDATE actor_events SET roles = '[\"admin\"]' WHERE name = 'alice'");
        Edited(await As("alice", "keys", "create", "--name", "x", "--admin"));
        Edited(await As("root", "actor", "list")); // any edited grant: no decision is taken on the grants at all
        Sql("UPDATE actor_events SET roles = @r WHERE name = 'alice'", ("@r", roles));
        Ok(await As("root", "actor", "list"));

        // Root's public key replaced by mallory's: mallory's key file would pass as root's.
        var rootKey = (string)Sql("SELECT public_key FROM actor_events WHERE name = 'root'")!;
        Sql("UPDATE actor_events SET public_key = (SELECT public_key FROM actor_events WHERE name = 'mallory') WHERE name = 'root'");
        Edited(await Drydock(new Dictionary<string, string?> { ["DRYDOCK_ACTOR_KEY"] = ownKey }, "keys", "create", "--name", "x", "--admin", "--actor", "root"));
        Sql("UPDATE actor_events SET public_key = @k WHERE name = 'root'", ("@k", rootKey));

        // Bob's expired grant extended by hand.
        var expires = (string)Sql("SELECT expires FROM actor_events WHERE name = 'bob'")!;
        Sql("UPDATE actor_events SET expires = '2099-01-01T00:00:00.000Z' WHERE name = 'bob'");
        Edited(await As("bob", "audit", "log"));
        Sql("UPDATE actor_events SET expires = @e WHERE name = 'bob'", ("@e", expires));
        Assert.Contains("expired", (await As("bob", "audit", "log")).Stderr, StringComparison.Ordinal);

        // Carol's revocation deleted: the grant before it would be active again.
        var revocation = (string)Sql("SELECT id FROM actor_events WHERE name = 'carol' AND action = 'revoke'")!;
        Sql("CREATE TABLE kept AS SELECT * FROM actor_events WHERE id = @id", ("@id", revocation));
        Sql("DELETE FROM actor_events WHERE id = @id", ("@id", revocation));
        Edited(await As("carol", "audit", "log"));
        Sql("INSERT INTO actor_events SELECT * FROM kept");
        Sql("DROP TABLE kept");
        Assert.Contains("was revoked", (await As("carol", "audit", "log")).Stderr, StringComparison.Ordinal);

        // Each refusal is an audit entry; with every row as drydock wrote it the chain holds and root works.
        Assert.Equal(5L, RefusalsRecorded("actor record edited outside drydock%"));
        Ok(await As("root", "audit", "verify"));
    }

    [Fact]
    public async Task EveryActorRowDeleted_AndAccessLineRemoved_DoesNotTurnAccessControlOff()
    {
        await ProjectWithAdmin();
        var yaml = Path.Combine(_dir.Path, "drydock.yaml");
        await File.WriteAllTextAsync(yaml, (await File.ReadAllTextAsync(yaml, TestContext.Current.CancellationToken)).Replace("access: required", "", StringComparison.Ordinal), TestContext.Current.CancellationToken);
        Sql("DELETE FROM actor_events");
        Edited(await Drydock(null, "keys", "create", "--name", "x", "--admin"));
        Assert.Equal(1L, RefusalsRecorded("actor record edited outside drydock%"));
        Assert.Equal(0L, (long)Sql("SELECT count(*) FROM api_key_events")!);
    }

    [Fact]
    public async Task ADatasetsRegistrantEditedInSqlite_CannotGetAroundSeparationOfDuties()
    {
        await ProjectWithAdmin();
        File.Copy(Path.Combine(AppContext.BaseDirectory, "samples", "support-tickets.jsonl"), Path.Combine(_dir.Path, "tickets.jsonl"));
        Ok(await As("root", "actor", "create", "alice", "--role", "data-owner", "--expires", "30d", "--reason", "owns the tickets"));
        Ok(await As("alice", "clean", "tickets.jsonl", "--output", "clean.jsonl"));
        var registered = await As("alice", "dataset", "register", "clean.jsonl.manifest.json");
        Ok(registered);
        var id = registered.Stdout.Split(' ')[0];

        Sql("UPDATE datasets SET registered_by = 'bob'");
        Edited(await As("alice", "approve", "dataset", id, "--role", "data-owner", "--decision", "approve"), "dataset record edited outside drydock");
        Assert.Equal(1L, RefusalsRecorded("dataset record edited outside drydock%"));
        Assert.Equal(0L, (long)Sql("SELECT count(*) FROM approvals")!);
    }
}
