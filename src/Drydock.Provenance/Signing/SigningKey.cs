using System.Security.Cryptography;
using NSec.Cryptography;

namespace Drydock.Provenance.Signing;

/// <summary>
/// An Ed25519 key pair (NSec). The private key is a PKCS#8 PEM file with mode 0600, the public key a PEM file
/// beside it (<c>.pub</c>), so other tools (OpenSSL, sigstore's model signing) can read both. The key id is
/// <c>ed25519:</c> plus the first 16 hex digits of the SHA-256 of the raw public key.
/// </summary>
public sealed class SigningKey : IDisposable
{
    private static readonly SignatureAlgorithm s_algorithm = SignatureAlgorithm.Ed25519;
    private readonly Key _key;

    private SigningKey(Key key)
    {
        _key = key;
        KeyId = IdOf(key.PublicKey);
    }

    /// <summary>The key id.</summary>
    public string KeyId { get; }

    /// <summary>The public half.</summary>
    public PublicKey PublicKey => _key.PublicKey;

    /// <summary>Creates a key pair at <paramref name="privatePath"/> and <c>privatePath.pub</c>; refuses to overwrite.</summary>
    public static SigningKey Create(string privatePath)
    {
        if (File.Exists(privatePath)) throw new KeyRingException($"{privatePath} already exists; a signing key is never overwritten");
        var key = Key.Create(s_algorithm, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        KeyFiles.WriteSecret(privatePath, key.Export(KeyBlobFormat.PkixPrivateKeyText));
        File.WriteAllBytes(privatePath + ".pub", key.PublicKey.Export(KeyBlobFormat.PkixPublicKeyText));
        return new SigningKey(key);
    }

    /// <summary>Loads a private key file.</summary>
    public static SigningKey Load(string privatePath)
    {
        if (!File.Exists(privatePath)) throw new KeyRingException($"no signing key at {privatePath} (run 'drydock init' to create one)");
        KeyFiles.CheckPrivate(privatePath);
        if (!Key.TryImport(s_algorithm, File.ReadAllBytes(privatePath), KeyBlobFormat.PkixPrivateKeyText, out var key, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.None }) || key is null)
        {
            throw new KeyRingException($"{privatePath} is not an Ed25519 private key (PKCS#8 PEM)");
        }

        return new SigningKey(key);
    }

    /// <summary>Loads a public key file (PEM).</summary>
    public static PublicKey LoadPublic(string path)
    {
        if (!PublicKey.TryImport(s_algorithm, File.ReadAllBytes(path), KeyBlobFormat.PkixPublicKeyText, out var key) || key is null)
        {
            throw new KeyRingException($"{path} is not an Ed25519 public key (PEM)");
        }

        return key;
    }

    /// <summary>The key id of a public key.</summary>
    public static string IdOf(PublicKey key) => "ed25519:" + Convert.ToHexStringLower(SHA256.HashData(key.Export(KeyBlobFormat.RawPublicKey)))[..16];

    /// <summary>Signs <paramref name="data"/>.</summary>
    public byte[] Sign(ReadOnlySpan<byte> data) => s_algorithm.Sign(_key, data);

    /// <summary>Checks a signature.</summary>
    public static bool Verify(PublicKey key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) => s_algorithm.Verify(key, data, signature);

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();
}
