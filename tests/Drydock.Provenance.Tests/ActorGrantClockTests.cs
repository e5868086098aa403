using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;
using NSec.Cryptography;

namespace Drydock.Provenance.Tests;

/// <summary>
/// A grant's lifetime and an earlier grant's expiry are decided by the registry's clock: a stepped clock years from
/// now moves a grant from active to expired in an instant, with no waiting for it to run out.
/// </summary>
public sealed class ActorGrantClockTests
{
    private static readonly byte[] s_challenge = "challenge"u8.ToArray();

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void AGrantsLifetimeAndExpiry_FollowTheRegistrysClock(string backend)
    {
        using var t = new TestRegistry(backend);
        var clock = new SteppedClock(new DateTimeOffset(2031, 3, 1, 10, 0, 0, TimeSpan.Zero));
        using var registry = new ProvenanceRegistry(RegistryDatabase.Open(t.Location)) { Time = clock };
        using var rootKey = Key.Create(SignatureAlgorithm.Ed25519);
        using var aliceKey = Key.Create(SignatureAlgorithm.Ed25519);
        registry.GrantActor("root", ["admin"], rootKey.PublicKey, clock.GetUtcNow().AddDays(1), "first admin", "os:user", bootstrap: true);

        // A lifetime is measured from the clock: an expiry before it, or further than the longest lifetime, is refused.
        Assert.Throws<RegistryException>(() => registry.GrantActor("alice", ["viewer"], aliceKey.PublicKey, clock.GetUtcNow().AddMinutes(-1), "late", "root"));
        Assert.Throws<RegistryException>(() => registry.GrantActor("alice", ["viewer"], aliceKey.PublicKey, clock.GetUtcNow() + ActorRoles.MaxLifetime + TimeSpan.FromMinutes(1), "long", "root"));
        registry.GrantActor("alice", ["viewer"], aliceKey.PublicKey, clock.GetUtcNow().AddHours(1), "an hour", "root");
        Assert.Equal("alice", Verify(registry, aliceKey, clock).Name);
        var again = Assert.Throws<RegistryException>(() => registry.GrantActor("alice", ["viewer"], aliceKey.PublicKey, clock.GetUtcNow().AddDays(1), "again", "root"));
        Assert.Contains("already has an active grant", again.Message, StringComparison.Ordinal);

        // An hour and a second on, the grant has expired: refused, and it may be granted again.
        clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        Assert.Contains("expired", Assert.Throws<ActorRefusedException>(() => Verify(registry, aliceKey, clock)).Message, StringComparison.Ordinal);
        registry.GrantActor("alice", ["viewer"], aliceKey.PublicKey, clock.GetUtcNow().AddDays(1), "renewed", "root");
        Assert.Equal("active", registry.FindActor("alice")!.State(clock.GetUtcNow()));
        Assert.Equal("alice", Verify(registry, aliceKey, clock).Name);
    }

    private static ActorGrant Verify(ProvenanceRegistry registry, Key key, TimeProvider clock) =>
        registry.VerifyActor("alice", s_challenge, SignatureAlgorithm.Ed25519.Sign(key, s_challenge), clock.GetUtcNow());
}
