using Drydock.Provenance.Audit;
using Drydock.Provenance.Registry;
using NSec.Cryptography;

namespace Drydock.Provenance.Tests;

/// <summary>
/// The check an access decision makes before it reads the grants (on SQLite and PostgreSQL): an actor row edited,
/// deleted or inserted behind the audit log's back refuses VerifyActor at once.
/// </summary>
public sealed class ActorRecordCheckTests
{
    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void AnActorRowEditedDeletedOrInserted_RefusesVerifyActor(string backend)
    {
        using var t = new TestRegistry(backend);
        using var rootKey = Key.Create(SignatureAlgorithm.Ed25519);
        using var aliceKey = Key.Create(SignatureAlgorithm.Ed25519);
        t.Registry.GrantActor("root", ["admin"], rootKey.PublicKey, DateTimeOffset.UtcNow.AddDays(1), "first admin", "os:user", bootstrap: true);
        t.Registry.GrantActor("alice", ["viewer"], aliceKey.PublicKey, DateTimeOffset.UtcNow.AddDays(1), "reads", "root");
        t.Registry.RevokeActor("alice", "left", "root");
        t.Registry.RecordAccessDecision("root", "audit log", "admin", allowed: true, "ok", null);
        var challenge = "challenge"u8.ToArray();
        var signature = SignatureAlgorithm.Ed25519.Sign(rootKey, challenge);
        Assert.Null(t.Registry.ActorRecordsProblem());
        Assert.Equal("root", t.Registry.VerifyActor("root", challenge, signature, DateTimeOffset.UtcNow).Name);

        // The revocation deleted: alice would be active again.
        t.Tamper("DELETE FROM actor_events WHERE action = 'revoke'");
        Assert.Contains("row deleted outside drydock", t.Registry.ActorRecordsProblem(), StringComparison.Ordinal);
        var refused = Assert.Throws<ActorRefusedException>(() => t.Registry.VerifyActor("root", challenge, signature, DateTimeOffset.UtcNow));
        Assert.StartsWith("actor record edited outside drydock", refused.Message, StringComparison.Ordinal);

        // An edited role, and a row with no entry of its own.
        using var u = new TestRegistry(backend);
        u.Registry.GrantActor("root", ["viewer"], rootKey.PublicKey, DateTimeOffset.UtcNow.AddDays(1), "first", "os:user", bootstrap: true);
        u.Tamper("UPDATE actor_events SET roles = '[\"admin\"]'");
        Assert.Contains("row edited outside drydock", u.Registry.ActorRecordsProblem(), StringComparison.Ordinal);
        u.Tamper("UPDATE actor_events SET roles = '[\"viewer\"]'");
        Assert.Null(u.Registry.ActorRecordsProblem());
        u.Tamper("INSERT INTO actor_events (id, name, action, roles, public_key, key_id, expires, reason, actor, at, audit_seq) SELECT 'ac-forged', 'mallory', 'grant', '[\"admin\"]', public_key, key_id, expires, reason, actor, at, audit_seq FROM actor_events");
        Assert.Contains("no audit entry of its own", u.Registry.ActorRecordsProblem(), StringComparison.Ordinal);
        Assert.False(AuditLog.Verify(u.Db).Ok);
    }
}
