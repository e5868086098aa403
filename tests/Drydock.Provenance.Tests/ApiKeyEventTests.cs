using Drydock.Provenance.Audit;
using Drydock.Provenance.Registry;

namespace Drydock.Provenance.Tests;

/// <summary>API key lifecycle events are registry rows under the audit chain: read back as written, an edit found by verify.</summary>
public sealed class ApiKeyEventTests
{
    private static ApiKeyState Key(string? revoked) => new("7c1e09aa", "store-1", "app", "internal", ["tiny", "large"], "2026-12-06T10:00:00Z", "2027-01-05T10:00:00Z", revoked, new string('f', 64));

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void KeyEvents_AreAuditEntries_AndARevocationEditedAway_FailsVerify(string backend)
    {
        using var t = new TestRegistry(backend);
        t.Registry.RecordApiKeyEvent("create", Key(null), null, "alice");
        var revoked = t.Registry.RecordApiKeyEvent("revoke", Key("2026-12-06T11:00:00Z"), "left the team", "bob");
        Assert.Throws<RegistryException>(() => t.Registry.RecordApiKeyEvent("unrevoke", Key(null), null, "mallory"));

        using var other = t.OpenAnother();
        var events = other.ApiKeyEvents();
        Assert.Equal(["create", "revoke"], events.Select(e => e.Action));
        Assert.Equal(["tiny", "large"], events[1].Key.Models);
        Assert.Equal(("left the team", "bob", "2026-12-06T11:00:00Z"), (events[1].Reason, events[1].Actor, events[1].Key.Revoked));
        Assert.Equal(["api-key.revoke"], AuditLog.Query(t.Db, new AuditFilter(Subject: revoked.Id)).Select(e => e.Action));
        Assert.True(AuditLog.Verify(t.Db).Ok);

        t.Tamper($"UPDATE api_key_events SET revoked = NULL WHERE id = '{revoked.Id}'");
        var verified = AuditLog.Verify(t.Db);
        Assert.False(verified.Ok);
        Assert.Contains($"api_key_events/{revoked.Id} differs", verified.Problem, StringComparison.Ordinal);
    }
}
