using Drydock.Provenance.Audit;
using Drydock.Provenance.Registry;

namespace Drydock.Provenance.Tests;

/// <summary>Each test changes the database directly, as someone with write access to it could, and expects verify to say where.</summary>
public sealed class AuditTamperTests
{
    private static readonly ApprovalPolicy s_policy = new(["data-owner"], "confidential");

    // Entries: 1 source, 2 dataset, 3 threat model, 4 threat-model approval, 5 dataset approval, 6 second dataset approval.
    private static TestRegistry Populated(string backend)
    {
        var t = new TestRegistry(backend);
        var (m, j) = Manifests.Make(Manifests.Hex('a'), Manifests.Hex('0'));
        var id = t.Registry.RegisterDataset(m, j, "tickets", [], null, "alice").Dataset.Id;
        var threat = t.Registry.RegisterThreatModel("support-bot", "project: support-bot\n", "carol");
        t.Registry.Approve("threat-model", threat.Id, "security-reviewer", "approve", null, "carol", s_policy);
        t.Registry.Approve("dataset", id, "data-owner", "reject", "pii left", "bob", s_policy);
        t.Registry.Approve("dataset", id, "data-owner", "reject", "still", "dave", s_policy);
        Assert.True(AuditLog.Verify(t.Db).Ok);
        return t;
    }

    private static void AssertBad(TestRegistry t, long seq, string problem, string? head = null)
    {
        var result = AuditLog.Verify(t.Db, head);
        Assert.False(result.Ok);
        Assert.Equal(seq, result.FirstBadSeq);
        Assert.Contains(problem, result.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void EditedEntry(string backend)
    {
        using var t = Populated(backend);
        t.Tamper("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2");
        AssertBad(t, 2, "edited");
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void DeletedEntry(string backend)
    {
        using var t = Populated(backend);
        t.Tamper("DELETE FROM audit_log WHERE seq = 3");
        AssertBad(t, 3, "missing");
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void InsertedEntry_WithTheFollowingRenumbered(string backend)
    {
        using var t = Populated(backend);
        var prev = AuditLog.Query(t.Db, new AuditFilter(Limit: 100)).Single(e => e.Seq == 2).Hash;
        t.Tamper("UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 3");
        t.Tamper("UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000");
        var forged = AuditLog.Hash(prev, 3, "2026-01-01T00:00:00.000Z", "mallory", "dataset.approve", "approvals/ap-forged", "[]");
        t.Tamper($"INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) VALUES (3, '2026-01-01T00:00:00.000Z', 'mallory', 'dataset.approve', 'approvals/ap-forged', '[]', '{prev}', '{forged}')");
        AssertBad(t, 4, "does not follow"); // the forged entry chains, but the one after it still points at entry 2
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void ReorderedEntries(string backend)
    {
        using var t = Populated(backend);
        t.Tamper("UPDATE audit_log SET seq = 100 WHERE seq = 2");
        t.Tamper("UPDATE audit_log SET seq = 2 WHERE seq = 3");
        t.Tamper("UPDATE audit_log SET seq = 3 WHERE seq = 100");
        AssertBad(t, 2, "does not follow");
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void AppendedEntry_ThatDoesNotChain(string backend)
    {
        using var t = Populated(backend);
        t.Tamper($"INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) VALUES (7, 'x', 'mallory', 'x', 'x/y', '[]', '{Manifests.Hex('0')}', '{Manifests.Hex('1')}')");
        AssertBad(t, 7, "does not follow");
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void TruncatedTail_IsFoundAgainstAPublishedHead(string backend)
    {
        using var t = Populated(backend);
        var head = AuditLog.Verify(t.Db).Head;
        t.Tamper("DELETE FROM approvals WHERE audit_seq = 6");
        t.Tamper("DELETE FROM audit_log WHERE seq = 6");
        Assert.True(AuditLog.Verify(t.Db).Ok); // a consistent prefix: only an anchor can tell
        AssertBad(t, 6, "not at the published head", head);
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void TruncatedTail_IsFoundAgainstTheWitness_WhichNeverMovesBack(string backend)
    {
        using var t = Populated(backend);
        using var state = new Drydock.Tests.Shared.TempDir();
        var before = Environment.GetEnvironmentVariable("DRYDOCK_STATE_HOME");
        Environment.SetEnvironmentVariable("DRYDOCK_STATE_HOME", state.Path);
        try
        {
            Assert.Null(AuditWitness.Check(t.Db)); // none yet
            Assert.Null(AuditWitness.Advance(t.Db, DateTimeOffset.UtcNow));
            Assert.Null(AuditWitness.Check(t.Db));
            var witnessed = File.ReadAllBytes(AuditWitness.PathOf(t.Db));

            t.Tamper("DELETE FROM approvals WHERE audit_seq = 6");
            t.Tamper("DELETE FROM audit_log WHERE seq = 6");
            Assert.True(AuditLog.Verify(t.Db).Ok);
            Assert.Contains("rolled back", AuditWitness.Check(t.Db), StringComparison.Ordinal);
            // Advancing again does not launder the rollback: the witness stays where it was.
            Assert.Contains("rolled back", AuditWitness.Advance(t.Db, DateTimeOffset.UtcNow), StringComparison.Ordinal);
            Assert.Equal(witnessed, File.ReadAllBytes(AuditWitness.PathOf(t.Db)));

            // A write on the cut log is refused before it commits, naming the witnessed entry: nothing is written.
            var refused = Assert.Throws<RegistryException>(() => t.Registry.RegisterThreatModel("other", "project: other\n", "carol"));
            Assert.Contains("refused: nothing was written: the audit log was rewritten: witnessed entry 6 is not the one witnessed", refused.Message, StringComparison.Ordinal);
            Assert.Equal(5L, AuditWitness.Head(t.Db).Seq);
            Assert.Equal(witnessed, File.ReadAllBytes(AuditWitness.PathOf(t.Db)));
        }
        finally
        {
            Environment.SetEnvironmentVariable("DRYDOCK_STATE_HOME", before);
        }
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void RowEdited_BehindTheLogsBack(string backend)
    {
        using var t = Populated(backend);
        t.Tamper("UPDATE approvals SET decision = 'approve' WHERE audit_seq = 5");
        AssertBad(t, 5, "row edited outside drydock");
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void RowDeleted_BehindTheLogsBack(string backend)
    {
        using var t = Populated(backend);
        t.Tamper("DELETE FROM approvals WHERE audit_seq = 5");
        AssertBad(t, 5, "row deleted outside drydock");
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void RowInserted_BehindTheLogsBack(string backend)
    {
        using var t = Populated(backend);
        t.Tamper("INSERT INTO approvals (id, subject_kind, subject_id, role, decision, comment, actor, at, audit_seq) VALUES ('ap-forged', 'dataset', 'ds-aaaaaaaaaaaa', 'data-owner', 'approve', NULL, 'mallory', 'x', 5)");
        AssertBad(t, 5, "no audit entry of its own");
    }
}
