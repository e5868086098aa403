using Drydock.Provenance.Audit;
using Drydock.Provenance.Registry;
using NSec.Cryptography;

namespace Drydock.Provenance.Tests;

/// <summary>Actor grants and access decisions: audit entries, bootstrap once, signatures checked against the recorded key.</summary>
public sealed class ActorGrantTests
{
    private static Key NewKey() => Key.Create(SignatureAlgorithm.Ed25519);

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void Grants_BootstrapOnce_VerifyOnlyWithTheRecordedKey_AndAnEditedGrantFailsVerify(string backend)
    {
        using var t = new TestRegistry(backend);
        using var rootKey = NewKey();
        using var aliceKey = NewKey();
        var root = t.Registry.GrantActor("root", ["admin"], rootKey.PublicKey, DateTimeOffset.UtcNow.AddDays(1), "first admin", "os:user", bootstrap: true);
        Assert.Equal(["admin"], root.Roles);
        Assert.Throws<RegistryException>(() => t.Registry.GrantActor("again", ["admin"], aliceKey.PublicKey, DateTimeOffset.UtcNow.AddDays(1), "x", "os:user", bootstrap: true));
        Assert.Throws<RegistryException>(() => t.Registry.GrantActor("alice", ["wizard"], aliceKey.PublicKey, DateTimeOffset.UtcNow.AddDays(1), "x", "root"));
        Assert.Throws<RegistryException>(() => t.Registry.GrantActor("alice", ["viewer"], aliceKey.PublicKey, DateTimeOffset.UtcNow.AddDays(400), "x", "root"));
        Assert.Throws<RegistryException>(() => t.Registry.GrantActor("Alice!", ["viewer"], aliceKey.PublicKey, DateTimeOffset.UtcNow.AddDays(1), "x", "root"));
        var alice = t.Registry.GrantActor("alice", ["viewer", "auditor"], aliceKey.PublicKey, DateTimeOffset.UtcNow.AddDays(1), "audits", "root");
        Assert.Throws<RegistryException>(() => t.Registry.GrantActor("alice", ["viewer"], aliceKey.PublicKey, DateTimeOffset.UtcNow.AddDays(1), "again", "root"));
        // One key, one actor: alice's key for a second name would let her sign as two people; a name with a line end is no name.
        Assert.Contains("is held by actor 'alice'", Assert.Throws<RegistryException>(() => t.Registry.GrantActor("alice2", ["security-reviewer"], aliceKey.PublicKey, DateTimeOffset.UtcNow.AddDays(1), "x", "root")).Message, StringComparison.Ordinal);
        using var otherKey = NewKey();
        Assert.Throws<RegistryException>(() => t.Registry.GrantActor("alice\n", ["viewer"], otherKey.PublicKey, DateTimeOffset.UtcNow.AddDays(1), "x", "root"));

        var challenge = "challenge"u8.ToArray();
        var now = DateTimeOffset.UtcNow;
        Assert.Equal("alice", t.Registry.VerifyActor("alice", challenge, SignatureAlgorithm.Ed25519.Sign(aliceKey, challenge), now).Name);
        var forged = Assert.Throws<ActorRefusedException>(() => t.Registry.VerifyActor("root", challenge, SignatureAlgorithm.Ed25519.Sign(aliceKey, challenge), now));
        Assert.Contains("actor 'root': the signature does not verify", forged.Message, StringComparison.Ordinal);
        Assert.Contains("expired", Assert.Throws<ActorRefusedException>(() => t.Registry.VerifyActor("alice", challenge, SignatureAlgorithm.Ed25519.Sign(aliceKey, challenge), now.AddDays(2))).Message, StringComparison.Ordinal);

        t.Registry.RevokeActor("alice", "left", "root");
        Assert.Contains("was revoked", Assert.Throws<ActorRefusedException>(() => t.Registry.VerifyActor("alice", challenge, SignatureAlgorithm.Ed25519.Sign(aliceKey, challenge), now)).Message, StringComparison.Ordinal);
        Assert.Contains("not known", Assert.Throws<ActorRefusedException>(() => t.Registry.VerifyActor("mallory", challenge, challenge, now)).Message, StringComparison.Ordinal);

        t.Registry.RecordAccessDecision("alice", "vault get", null, allowed: false, "revoked", null);
        Assert.Equal(["access.refused", "actor.revoke", "actor.grant", "actor.bootstrap"], AuditLog.Query(t.Db, new AuditFilter()).Select(e => e.Action));
        Assert.True(AuditLog.Verify(t.Db).Ok);

        // A role added behind the log's back is found.
        t.Tamper($"UPDATE actor_events SET roles = '[\"admin\"]' WHERE name = 'alice' AND action = 'grant'");
        Assert.False(AuditLog.Verify(t.Db).Ok);
        _ = alice;
    }
}
