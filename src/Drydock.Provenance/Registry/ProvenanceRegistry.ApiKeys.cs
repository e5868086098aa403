using System.Security.Cryptography;
using System.Text.Json;
using Drydock.Provenance.Audit;

namespace Drydock.Provenance.Registry;

/// <summary>
/// A gateway API key as an audit entry records it: never the key, never its keyed hash, only a SHA-256 fingerprint of
/// that hash. <paramref name="Store"/> names the key store (derived from its pepper), so one registry can serve
/// several machines' stores.
/// </summary>
public sealed record ApiKeyState(string KeyId, string Store, string Name, string Tier, IReadOnlyList<string> Models, string Created, string? Expires, string? Revoked, string Fingerprint);

/// <summary>One change of an API key: <c>create</c>, <c>revoke</c> or <c>rotate</c> (revoked, replaced by a new key), with the key's state after it.</summary>
public sealed record ApiKeyEventRecord(string Id, string Action, ApiKeyState Key, string? Reason, string Actor, string At);

/// <summary>API key lifecycle events: each one a row with its entry in the hash-chained audit log.</summary>
public sealed partial class ProvenanceRegistry
{
    /// <summary>Records a key's creation, revocation or rotation (<paramref name="action"/>) with its state after the change.</summary>
    public ApiKeyEventRecord RecordApiKeyEvent(string action, ApiKeyState key, string? reason, string actor)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (action is not ("create" or "revoke" or "rotate")) throw new RegistryException($"api key action must be create, revoke or rotate, not '{action}'");
        var id = "ak-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        using var transaction = Database.BeginWrite();
        AuditLog.Append(Database, transaction, "api_key_events", id, new Dictionary<string, string?>
        {
            ["key_id"] = key.KeyId, ["action"] = action, ["store"] = key.Store, ["name"] = key.Name, ["tier"] = key.Tier, ["models"] = JsonSerializer.Serialize(key.Models.ToArray(), ProvenanceJson.Default.StringArray),
            ["created"] = key.Created, ["expires"] = key.Expires, ["revoked"] = key.Revoked, ["fingerprint"] = key.Fingerprint, ["reason"] = reason, ["actor"] = actor, ["at"] = RegistryDatabase.Now(),
        }, actor, $"api-key.{action}");
        Database.CommitWrite(transaction);
        return ApiKeyEvents().Single(e => e.Id == id);
    }

    /// <summary>Every API key event, oldest first.</summary>
    public IReadOnlyList<ApiKeyEventRecord> ApiKeyEvents()
    {
        using var command = Database.Command("SELECT id, key_id, action, store, name, tier, models, created, expires, revoked, fingerprint, reason, actor, at FROM api_key_events ORDER BY audit_seq", null);
        using var r = command.ExecuteReader();
        var list = new List<ApiKeyEventRecord>();
        string? Opt(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        while (r.Read())
        {
            var models = JsonSerializer.Deserialize(r.GetString(6), ProvenanceJson.Default.StringArray) ?? [];
            var key = new ApiKeyState(r.GetString(1), r.GetString(3), r.GetString(4), r.GetString(5), models, r.GetString(7), Opt(8), Opt(9), r.GetString(10));
            list.Add(new ApiKeyEventRecord(r.GetString(0), r.GetString(2), key, Opt(11), r.GetString(12), r.GetString(13)));
        }

        return list;
    }
}
