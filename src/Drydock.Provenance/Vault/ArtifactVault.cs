using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Datasets.Output;

namespace Drydock.Provenance.Vault;

/// <summary>One artifact in the vault (its metadata file); <see cref="Id"/> is the SHA-256 of the plaintext.</summary>
public sealed record VaultArtifact(string Id, string Name, string Kind, long Bytes, string Created, string CreatedBy, WrappedKey Key);

/// <summary>The outcome of checking one artifact.</summary>
public sealed record VaultCheck(string Id, string Name, bool Ok, string Message);

/// <summary>
/// Encrypted files at rest (datasets, checkpoints, logs) under one folder: <c>&lt;sha256&gt;.ddv</c> holds the
/// segmented AES-256-GCM ciphertext, <c>&lt;sha256&gt;.json</c> the name, kind, size and the data key wrapped by
/// a key-encryption key. Each artifact has its own random data key; rotation re-wraps data keys only.
/// </summary>
public sealed class ArtifactVault(string root, IKeyEncryptionKeys keys)
{
    /// <summary>Artifact kinds.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["dataset", "checkpoint", "log", "other"];

    /// <summary>The vault folder.</summary>
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>Encrypts <paramref name="path"/> into the vault (content-addressed: the same bytes give the same id).</summary>
    public VaultArtifact Put(string path, string kind, string? name, string actor, int segmentSize = SegmentedCipher.DefaultSegmentSize)
    {
        if (!Kinds.Contains(kind)) throw new ArgumentException($"unknown kind '{kind}'; use one of {string.Join(", ", Kinds.ToArray())}");
        Directory.CreateDirectory(Root);
        var dataKey = RandomNumberGenerator.GetBytes(32);
        var temporary = Path.Combine(Root, $".put.{Guid.NewGuid():N}.tmp");
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long bytes;
            using (var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
            using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1))
            {
                bytes = input.Length;
                SegmentedCipher.Encrypt(input, output, dataKey, hash, segmentSize);
                output.Flush(flushToDisk: true);
            }

            var id = Convert.ToHexStringLower(hash.GetHashAndReset());
            var existing = TryFind(id);
            if (existing is not null) return existing;
            var artifact = new VaultArtifact(id, name ?? Path.GetFileName(path), kind, bytes, DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"), actor, keys.Wrap(dataKey, id));
            File.Move(temporary, DataPath(id));
            WriteMetadata(artifact);
            return artifact;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>
    /// Decrypts an artifact to <paramref name="outputPath"/>, atomically: on any integrity failure nothing is written
    /// there. Every segment is authenticated; the data key is bound to the id, so metadata swapped between artifacts
    /// fails too.
    /// </summary>
    public VaultArtifact Get(string idOrPrefix, string outputPath)
    {
        var artifact = Find(idOrPrefix);
        using var file = new AtomicFile(outputPath);
        Decrypt(artifact, file.Stream, checkContentHash: false);
        file.Commit();
        return artifact;
    }

    /// <summary>Every artifact, by name.</summary>
    public IReadOnlyList<VaultArtifact> List()
    {
        if (!Directory.Exists(Root)) return [];
        return [.. Directory.EnumerateFiles(Root, "*.json").Select(ReadMetadata).OrderBy(a => a.Name, StringComparer.Ordinal).ThenBy(a => a.Id, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Decrypts every artifact (or one) without writing the plaintext anywhere, authenticating every segment and
    /// checking the content's SHA-256 against the id, and reports each.
    /// </summary>
    public IReadOnlyList<VaultCheck> Verify(string? idOrPrefix = null)
    {
        var artifacts = idOrPrefix is null ? List() : [Find(idOrPrefix)];
        var results = new List<VaultCheck>();
        foreach (var artifact in artifacts)
        {
            try
            {
                Decrypt(artifact, Stream.Null, checkContentHash: true);
                results.Add(new VaultCheck(artifact.Id, artifact.Name, true, "ok"));
            }
            catch (Exception e) when (e is VaultIntegrityException or KeyRingException or IOException)
            {
                results.Add(new VaultCheck(artifact.Id, artifact.Name, false, e.Message));
            }
        }

        return results;
    }

    /// <summary>Re-wraps every data key with <paramref name="target"/>'s current key; the ciphertext is not touched.</summary>
    public int Rewrap(IKeyEncryptionKeys target)
    {
        var count = 0;
        foreach (var artifact in List())
        {
            if (artifact.Key.KeyId == target.CurrentKeyId) continue;
            var dataKey = keys.Unwrap(artifact.Key, artifact.Id);
            try
            {
                WriteMetadata(artifact with { Key = target.Wrap(dataKey, artifact.Id) });
            }
            finally
            {
                CryptographicOperations.ZeroMemory(dataKey);
            }

            count++;
        }

        return count;
    }

    /// <summary>Finds an artifact by its id or an unambiguous prefix of at least 8 characters.</summary>
    public VaultArtifact Find(string idOrPrefix)
    {
        if (idOrPrefix.Length < 8 || !idOrPrefix.All(Uri.IsHexDigit)) throw new ArgumentException($"'{idOrPrefix}' is not an artifact id (at least 8 hex digits)");
        var matches = Directory.Exists(Root) ? Directory.EnumerateFiles(Root, idOrPrefix.ToLowerInvariant() + "*.json").ToList() : [];
        return matches.Count switch
        {
            0 => throw new FileNotFoundException($"no artifact {idOrPrefix} in {Root}"),
            1 => ReadMetadata(matches[0]),
            _ => throw new ArgumentException($"'{idOrPrefix}' matches {matches.Count} artifacts; give more digits"),
        };
    }

    private VaultArtifact? TryFind(string id) => File.Exists(MetadataPath(id)) ? ReadMetadata(MetadataPath(id)) : null;

    private void Decrypt(VaultArtifact artifact, Stream output, bool checkContentHash)
    {
        var dataKey = keys.Unwrap(artifact.Key, artifact.Id);
        try
        {
            using var hash = checkContentHash ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
            using (var input = new FileStream(DataPath(artifact.Id), FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
            {
                SegmentedCipher.Decrypt(input, output, dataKey, hash);
            }

            if (hash is not null && Convert.ToHexStringLower(hash.GetHashAndReset()) != artifact.Id)
            {
                throw new VaultIntegrityException($"artifact {artifact.Id[..12]} decrypted to content with another SHA-256 (its metadata was swapped)");
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    private string DataPath(string id) => Path.Combine(Root, id + ".ddv");

    private string MetadataPath(string id) => Path.Combine(Root, id + ".json");

    private void WriteMetadata(VaultArtifact a)
    {
        var node = new JsonObject
        {
            ["id"] = a.Id, ["name"] = a.Name, ["kind"] = a.Kind, ["bytes"] = a.Bytes, ["created"] = a.Created, ["createdBy"] = a.CreatedBy,
            ["keyId"] = a.Key.KeyId, ["wrappedKey"] = a.Key.Value,
        };
        using var file = new AtomicFile(MetadataPath(a.Id));
        file.Stream.Write(Encoding.UTF8.GetBytes(node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n"));
        file.Commit();
    }

    private static VaultArtifact ReadMetadata(string path)
    {
        VaultArtifact artifact;
        try
        {
            var n = JsonNode.Parse(File.ReadAllBytes(path))!.AsObject();
            artifact = new VaultArtifact((string)n["id"]!, (string)n["name"]!, (string)n["kind"]!, (long)n["bytes"]!, (string)n["created"]!, (string)n["createdBy"]!,
                new WrappedKey((string)n["keyId"]!, (string)n["wrappedKey"]!));
        }
        catch (Exception e) when (e is JsonException or NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new VaultIntegrityException($"{path}: unreadable artifact metadata ({e.GetType().Name})");
        }

        // The file name is the id: metadata moved or renamed onto another artifact is caught here.
        if (artifact.Id + ".json" != Path.GetFileName(path)) throw new VaultIntegrityException($"{path}: the metadata names artifact {artifact.Id[..Math.Min(12, artifact.Id.Length)]}, not this one");
        return artifact;
    }
}
