using Drydock.Provenance.Audit;
using Drydock.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace Drydock.Cli.Tests;

/// <summary>
/// Every access decision of the built CLI checks the audit log's hash chain from the actor's grant to the head (only the
/// entries after the head it verified last): a registry put back from an older copy (an actor revoked since is active
/// in it), a log rewritten with every later hash recomputed, or an entry edited since the last check is refused (exit 2,
/// naming the entry), and the refusal is recorded.
/// </summary>
public sealed class AccessChainProcessTests : IDisposable
{
    private readonly ActorProject _project = new();

    public void Dispose() => _project.Dispose();

    private string Registry => _project.Registry;

    private Task<ProcessResult> As(string? actor, params string[] args) => _project.As(actor, args);

    private static void Ok(ProcessResult result) => ActorProject.Ok(result);

    private static void Refused(ProcessResult result, params string[] expected)
    {
        Assert.True(result.Exit == 2, result.ToString());
        // Refused by the grant's chain check, or before it by the audit witness (a log rolled back or rewritten since it
        // was witnessed: no write, the refusal's own included, lands on it).
        Assert.True(
            result.Stderr.Contains("the audit log does not hold from its grant to its head", StringComparison.Ordinal)
            || result.Stderr.Contains("refused: nothing was written: the audit log was", StringComparison.Ordinal),
            result.Stderr);
        foreach (var text in expected) Assert.True(result.Stderr.Contains(text, StringComparison.Ordinal), result.Stderr);
    }

    private async Task Project()
    {
        await File.WriteAllTextAsync(Path.Combine(_project.Dir.Path, "drydock.yaml"), "", TestContext.Current.CancellationToken);
        Ok(await As(null, "actor", "bootstrap", "root", "--expires", "30d", "--reason", "first admin"));
        await File.AppendAllTextAsync(Path.Combine(_project.Dir.Path, "drydock.yaml"), "access: required\n", TestContext.Current.CancellationToken);
        Ok(await As("root", "actor", "create", "alice", "--role", "viewer", "--expires", "30d", "--reason", "reads"));
        Ok(await As("alice", "model", "list"));
    }

    private SqliteConnection Open()
    {
        SqliteConnection.ClearAllPools();
        var db = new SqliteConnection($"Data Source={Registry};Pooling=False");
        db.Open();
        return db;
    }

    private long LastAllowed(string actor)
    {
        using var db = Open();
        using var query = db.CreateCommand();
        query.CommandText = $"SELECT MAX(seq) FROM audit_log WHERE action = 'access.allowed' AND actor = '{actor}'";
        return (long)query.ExecuteScalar()!;
    }

    // Changes what entry `seq` says; with `recompute`, every later entry is rewritten to follow it (a chain that verifies).
    private void Rewrite(long seq, bool recompute)
    {
        using var db = Open();
        var entries = new List<(long Seq, string At, string Actor, string Action, string Subject, string Details, string Prev)>();
        using (var read = db.CreateCommand())
        {
            read.CommandText = $"SELECT seq, at, actor, action, subject, details, prev_hash FROM audit_log WHERE seq >= {seq} ORDER BY seq";
            using var r = read.ExecuteReader();
            while (r.Read()) entries.Add((r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6)));
        }

        var prev = entries[0].Prev;
        foreach (var e in entries)
        {
            var details = e.Seq == seq ? e.Details.Replace("viewer", "admin", StringComparison.Ordinal) : e.Details;
            Assert.True(e.Seq != seq || details != e.Details, "the entry names the role");
            if (!recompute && e.Seq != seq) break;
            var hash = recompute ? AuditLog.Hash(prev, e.Seq, e.At, e.Actor, e.Action, e.Subject, details) : null;
            using var update = db.CreateCommand();
            update.CommandText = recompute ? "UPDATE audit_log SET details = $d, prev_hash = $p, hash = $h WHERE seq = $s" : "UPDATE audit_log SET details = $d WHERE seq = $s";
            update.Parameters.AddWithValue("$d", details);
            update.Parameters.AddWithValue("$s", e.Seq);
            if (recompute)
            {
                update.Parameters.AddWithValue("$p", prev);
                update.Parameters.AddWithValue("$h", hash);
                prev = hash!;
            }

            update.ExecuteNonQuery();
        }
    }

    private long Refusals(string actor)
    {
        using var db = Open();
        using var query = db.CreateCommand();
        query.CommandText = $"SELECT COUNT(*) FROM access_decisions WHERE decision = 'refused' AND actor = '{actor}' AND reason LIKE '%does not hold from its grant%'";
        return (long)query.ExecuteScalar()!;
    }

    [Fact]
    public async Task ARegistryPutBackFromAnOlderCopy_IsRefused_ForTheActorRevokedSince()
    {
        await Project();
        var copy = Path.Combine(_project.State.Path, "older.db");
        using (var db = Open())
        using (var backup = new SqliteConnection($"Data Source={copy};Pooling=False"))
        {
            backup.Open();
            db.BackupDatabase(backup);
        }

        Ok(await As("root", "actor", "revoke", "alice", "--reason", "left the team"));
        Ok(await As("root", "model", "list"));
        using (var older = new SqliteConnection($"Data Source={copy};Pooling=False"))
        using (var db = Open())
        {
            older.Open();
            older.BackupDatabase(db);
        }

        SqliteConnection.ClearAllPools();
        Refused(await As("alice", "model", "list"), "put back from an older copy");
        Refused(await As("root", "model", "list"));
    }

    [Fact]
    public async Task AnEntryEditedSinceTheLastCheck_IsRefused_NamingTheEntry()
    {
        await Project();

        // An entry written since the last check (alice's own decision) edited in place: its hash no longer matches.
        var edited = LastAllowed("alice");
        Rewrite(edited, recompute: false);
        Refused(await As("alice", "model", "list"), $"audit entry {edited} (access.allowed");
        Assert.Equal(1, Refusals("alice"));
    }

    [Fact]
    public async Task ALogRewrittenWithEveryLaterHashRecomputed_IsRefused_ByTheHeadVerifiedBefore()
    {
        await Project();
        Ok(await As("alice", "model", "list"));
        var rewritten = LastAllowed("alice") - 1; // an entry before the head verified at alice's last check
        Rewrite(rewritten, recompute: true);
        using (var db = Open())
        {
            using var count = db.CreateCommand();
            count.CommandText = "SELECT COUNT(*) FROM audit_log";
            Assert.True((long)count.ExecuteScalar()! > rewritten);
        }

        Refused(await As("alice", "model", "list"), "is not the one witnessed");
    }
}
