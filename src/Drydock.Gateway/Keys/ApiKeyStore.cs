using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Datasets.Output;

namespace Drydock.Gateway.Keys;

/// <summary>A gateway API key's record: never the key itself, only its keyed hash.</summary>
public sealed record ApiKey(string Id, string Name, string Tier, IReadOnlyList<string> Models, string Created, string? Expires, string? Revoked, string Hash)
{
    /// <summary>True when the key may be used at <paramref name="now"/>.</summary>
    public bool Active(DateTimeOffset now) => Revoked is null && (Expires is null || DateTimeOffset.Parse(Expires, System.Globalization.CultureInfo.InvariantCulture) > now);
}

/// <summary>
/// The local key store (<c>.drydock/keys/api-keys.json</c>, mode 0600): keys look like <c>ddk_&lt;id&gt;_&lt;secret&gt;</c>;
/// the store holds the id (for lookup and logs) and HMAC-SHA256(pepper, key), the pepper being a separate 0600
/// file. Verification is constant-time. Writes are atomic; the store is re-read when it changes on disk (checked at
/// most once a second), so a revocation reaches a running gateway within a second.
/// </summary>
public sealed class ApiKeyStore
{
    private readonly string _path;
    private readonly byte[] _pepper;
    private readonly Lock _lock = new();
    private Dictionary<string, ApiKey> _keys = [];
    private DateTime _loadedAt;
    private long _checkedAt = long.MinValue;

    private ApiKeyStore(string path, byte[] pepper)
    {
        _path = path;
        _pepper = pepper;
        Reload();
    }

    /// <summary>Opens (creating the pepper if needed) the store in <paramref name="folder"/>.</summary>
    public static ApiKeyStore Open(string folder)
    {
        var pepperPath = Path.Combine(folder, "api-keys.pepper");
        if (!File.Exists(pepperPath)) AtomicFile.Write(pepperPath, RandomNumberGenerator.GetBytes(32), ownerOnly: true);
        return new ApiKeyStore(Path.Combine(folder, "api-keys.json"), File.ReadAllBytes(pepperPath));
    }

    /// <summary>Creates a key; returns the key (shown once) and its record.</summary>
    public (string Key, ApiKey Record) Create(string name, string tier, IReadOnlyList<string> models, TimeSpan? lifetime)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var key = $"ddk_{id}_{Base64Url(RandomNumberGenerator.GetBytes(32))}";
        var now = DateTimeOffset.UtcNow;
        var record = new ApiKey(id, name, tier, models, Stamp(now), lifetime is { } l ? Stamp(now + l) : null, null, Hash(key));
        lock (_lock)
        {
            Reload();
            _keys[id] = record;
            Save();
        }

        return (key, record);
    }

    /// <summary>Every key record.</summary>
    public IReadOnlyList<ApiKey> List()
    {
        lock (_lock)
        {
            ReloadIfChanged();
            return [.. _keys.Values.OrderBy(k => k.Created, StringComparer.Ordinal)];
        }
    }

    /// <summary>Revokes a key by id; false when there is none.</summary>
    public bool Revoke(string id)
    {
        lock (_lock)
        {
            Reload();
            if (!_keys.TryGetValue(id, out var key)) return false;
            _keys[id] = key with { Revoked = Stamp(DateTimeOffset.UtcNow) };
            Save();
            return true;
        }
    }

    /// <summary>Revokes a key and creates its replacement with the same name, tier, models and lifetime.</summary>
    public (string Key, ApiKey Record)? Rotate(string id)
    {
        ApiKey old;
        lock (_lock)
        {
            Reload();
            if (!_keys.TryGetValue(id, out old!)) return null;
        }

        TimeSpan? lifetime = old.Expires is null ? null : DateTimeOffset.Parse(old.Expires, System.Globalization.CultureInfo.InvariantCulture) - DateTimeOffset.Parse(old.Created, System.Globalization.CultureInfo.InvariantCulture);
        var created = Create(old.Name, old.Tier, old.Models, lifetime);
        Revoke(id);
        return created;
    }

    /// <summary>The active key record for a presented key, or null (unknown, wrong, revoked or expired).</summary>
    public ApiKey? Authenticate(string? presented)
    {
        if (presented is null || !presented.StartsWith("ddk_", StringComparison.Ordinal) || presented.Length > 200) return null;
        var parts = presented.Split('_');
        if (parts.Length != 3) return null;
        ApiKey? record;
        lock (_lock)
        {
            ReloadIfChanged();
            _keys.TryGetValue(parts[1], out record);
        }

        var expected = record?.Hash ?? new string('0', 64);
        var matches = CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(presented)), Encoding.ASCII.GetBytes(expected));
        return matches && record!.Active(DateTimeOffset.UtcNow) ? record : null;
    }

    /// <summary>A key for another purpose of this gateway, derived from the store's pepper (as secret as it, no new file).</summary>
    internal byte[] DeriveKey(string purpose) => HMACSHA256.HashData(_pepper, Encoding.UTF8.GetBytes("drydock " + purpose));

    private string Hash(string key) => Convert.ToHexStringLower(HMACSHA256.HashData(_pepper, Encoding.UTF8.GetBytes(key)));

    private void ReloadIfChanged()
    {
        var now = Environment.TickCount64;
        if (now - _checkedAt < 1000) return;
        _checkedAt = now;
        if (File.Exists(_path) && File.GetLastWriteTimeUtc(_path) != _loadedAt) Reload();
    }

    private void Reload()
    {
        _keys = [];
        if (!File.Exists(_path)) return;
        _loadedAt = File.GetLastWriteTimeUtc(_path);
        var root = JsonNode.Parse(File.ReadAllBytes(_path))!.AsArray();
        foreach (var n in root)
        {
            var k = new ApiKey((string)n!["id"]!, (string)n["name"]!, (string)n["tier"]!, [.. n["models"]!.AsArray().Select(m => (string)m!)], (string)n["created"]!,
                (string?)n["expires"], (string?)n["revoked"], (string)n["hash"]!);
            _keys[k.Id] = k;
        }
    }

    private void Save()
    {
        var array = new JsonArray();
        foreach (var k in _keys.Values.OrderBy(k => k.Created, StringComparer.Ordinal))
        {
            var models = new JsonArray();
            foreach (var m in k.Models) models.Add((JsonNode?)JsonValue.Create(m));
            array.Add((JsonNode)new JsonObject
            {
                ["id"] = k.Id, ["name"] = k.Name, ["tier"] = k.Tier, ["models"] = models, ["created"] = k.Created, ["expires"] = k.Expires, ["revoked"] = k.Revoked, ["hash"] = k.Hash,
            });
        }

        AtomicFile.Write(_path, Encoding.UTF8.GetBytes(array.ToJsonString(new JsonSerializerOptions { WriteIndented = true })), ownerOnly: true);
        _loadedAt = File.GetLastWriteTimeUtc(_path);
    }

    private static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '-');
}
