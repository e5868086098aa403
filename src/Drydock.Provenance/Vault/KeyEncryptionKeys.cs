using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Drydock.Provenance.Vault;

/// <summary>A data key wrapped by a key-encryption key: the KEK's id and base64(nonce ‖ ciphertext ‖ tag).</summary>
public sealed record WrappedKey(string KeyId, string Value);

/// <summary>
/// Wraps and unwraps data keys. The local key ring and an environment variable implement it; a cloud KMS can too
/// (wrap = KMS Encrypt, unwrap = KMS Decrypt), without the vault changing.
/// </summary>
public interface IKeyEncryptionKeys
{
    /// <summary>The key new data keys are wrapped with.</summary>
    string CurrentKeyId { get; }

    /// <summary>Wraps <paramref name="dataKey"/>, binding it to <paramref name="context"/> (the artifact id).</summary>
    WrappedKey Wrap(ReadOnlySpan<byte> dataKey, string context);

    /// <summary>Unwraps a data key; throws <see cref="VaultIntegrityException"/> when it does not authenticate.</summary>
    byte[] Unwrap(WrappedKey wrapped, string context);
}

/// <summary>
/// Key-encryption keys (AES-256-GCM key wrapping) from a key-ring file (JSON, created with mode 0600; several keys,
/// one current, so rotation keeps old artifacts readable until they are re-wrapped) or from one base64 key in the
/// <c>DRYDOCK_VAULT_KEK</c> environment variable.
/// </summary>
public sealed class KeyRing : IKeyEncryptionKeys
{
    /// <summary>The environment variable that can hold a base64 256-bit key-encryption key.</summary>
    public const string EnvironmentVariable = "DRYDOCK_VAULT_KEK";

    private readonly Dictionary<string, byte[]> _keys;
    private readonly List<(string Id, string Created)> _order;

    private KeyRing(string? path, Dictionary<string, byte[]> keys, List<(string, string)> order, string current)
    {
        Path = path;
        _keys = keys;
        _order = order;
        CurrentKeyId = current;
    }

    /// <summary>The key-ring file, or null for a key from the environment.</summary>
    public string? Path { get; }

    /// <inheritdoc />
    public string CurrentKeyId { get; private set; }

    /// <summary>Key ids, oldest first.</summary>
    public IReadOnlyList<string> KeyIds => [.. _order.Select(o => o.Id)];

    /// <summary>The key from <c>DRYDOCK_VAULT_KEK</c> when set, else the key-ring file (created when <paramref name="create"/>).</summary>
    public static KeyRing Open(string path, bool create)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            byte[] key;
            try
            {
                key = Convert.FromBase64String(fromEnvironment.Trim());
            }
            catch (FormatException)
            {
                throw new KeyRingException($"{EnvironmentVariable} is not base64");
            }

            if (key.Length != 32) throw new KeyRingException($"{EnvironmentVariable} must hold 32 bytes (base64), not {key.Length}");
            var id = "env-" + Convert.ToHexStringLower(SHA256.HashData(key))[..12];
            return new KeyRing(null, new() { [id] = key }, [(id, "")], id);
        }

        if (!File.Exists(path))
        {
            if (!create) throw new KeyRingException($"no key ring at {path} and {EnvironmentVariable} is not set (run 'drydock init' to create one)");
            var ring = new KeyRing(path, [], [], "");
            ring.AddKey();
            ring.Save();
            return ring;
        }

        return Load(path);
    }

    /// <summary>Creates a new current key (the old ones stay, to unwrap what they wrapped).</summary>
    public string AddKey()
    {
        var id = "kek-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        _keys[id] = RandomNumberGenerator.GetBytes(32);
        _order.Add((id, DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ")));
        CurrentKeyId = id;
        return id;
    }

    /// <summary>Removes a key that is not current.</summary>
    public void RemoveKey(string id)
    {
        if (id == CurrentKeyId) throw new KeyRingException("the current key cannot be removed");
        _keys.Remove(id);
        _order.RemoveAll(o => o.Id == id);
    }

    /// <summary>Writes the ring atomically with mode 0600.</summary>
    public void Save()
    {
        if (Path is null) throw new KeyRingException($"the key comes from {EnvironmentVariable}; rotate it there");
        var root = new JsonObject { ["current"] = CurrentKeyId };
        var keys = new JsonArray();
        foreach (var (id, created) in _order)
        {
            keys.Add((JsonNode)new JsonObject { ["id"] = id, ["created"] = created, ["key"] = Convert.ToBase64String(_keys[id]) });
        }

        root["keys"] = keys;
        var bytes = Encoding.UTF8.GetBytes(root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        KeyFiles.WriteSecret(Path, bytes);
    }

    /// <inheritdoc />
    public WrappedKey Wrap(ReadOnlySpan<byte> dataKey, string context)
    {
        var nonce = RandomNumberGenerator.GetBytes(12);
        var blob = new byte[12 + dataKey.Length + 16];
        nonce.CopyTo(blob, 0);
        using var aes = new AesGcm(_keys[CurrentKeyId], 16);
        aes.Encrypt(nonce, dataKey, blob.AsSpan(12, dataKey.Length), blob.AsSpan(12 + dataKey.Length), Associated(CurrentKeyId, context));
        return new WrappedKey(CurrentKeyId, Convert.ToBase64String(blob));
    }

    /// <inheritdoc />
    public byte[] Unwrap(WrappedKey wrapped, string context)
    {
        if (!_keys.TryGetValue(wrapped.KeyId, out var kek)) throw new KeyRingException($"key-encryption key {wrapped.KeyId} is not in the key ring");
        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(wrapped.Value);
        }
        catch (FormatException)
        {
            throw new VaultIntegrityException("the wrapped data key is not base64");
        }

        if (blob.Length != 12 + 32 + 16) throw new VaultIntegrityException("the wrapped data key has the wrong length");
        var key = new byte[32];
        try
        {
            using var aes = new AesGcm(kek, 16);
            aes.Decrypt(blob.AsSpan(0, 12), blob.AsSpan(12, 32), blob.AsSpan(44, 16), key, Associated(wrapped.KeyId, context));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new VaultIntegrityException("the wrapped data key failed authentication (wrong key-encryption key, or the metadata was modified)");
        }

        return key;
    }

    private static byte[] Associated(string keyId, string context) => Encoding.UTF8.GetBytes($"drydock-vault-dek\n{keyId}\n{context}");

    private static KeyRing Load(string path)
    {
        KeyFiles.CheckPrivate(path);
        try
        {
            var root = JsonNode.Parse(File.ReadAllBytes(path))!.AsObject();
            var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            var order = new List<(string, string)>();
            foreach (var node in root["keys"]!.AsArray())
            {
                var id = (string)node!["id"]!;
                var key = Convert.FromBase64String((string)node["key"]!);
                if (key.Length != 32) throw new KeyRingException($"{path}: key {id} is not 32 bytes");
                keys[id] = key;
                order.Add((id, (string?)node["created"] ?? ""));
            }

            var current = (string)root["current"]!;
            if (!keys.ContainsKey(current)) throw new KeyRingException($"{path}: the current key {current} is not in the ring");
            return new KeyRing(path, keys, order, current);
        }
        catch (Exception e) when (e is JsonException or FormatException or NullReferenceException or InvalidOperationException)
        {
            throw new KeyRingException($"{path}: not a valid key ring ({e.GetType().Name})");
        }
    }
}
