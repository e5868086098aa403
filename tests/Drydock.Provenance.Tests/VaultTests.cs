using System.Security.Cryptography;
using Drydock.Provenance.Vault;
using Drydock.Tests.Shared;

namespace Drydock.Provenance.Tests;

public sealed class VaultTests : IDisposable
{
    private const int Segment = 1024;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private (ArtifactVault Vault, KeyRing Ring) Open()
    {
        var ring = KeyRing.Open(Path.Combine(_dir.Path, "keys", "keyring.json"), create: true);
        return (new ArtifactVault(Path.Combine(_dir.Path, "vault"), ring), ring);
    }

    private string Data(string name, int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return _dir.File(name, bytes);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(Segment - 1)]
    [InlineData(Segment)]
    [InlineData(Segment + 1)]
    [InlineData(3 * Segment + 512)]
    public void PutThenGet_GivesTheSameBytes(int length)
    {
        var (vault, _) = Open();
        var path = Data("in.bin", length);
        var artifact = vault.Put(path, "dataset", null, "alice", Segment);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))), artifact.Id);
        var output = Path.Combine(_dir.Path, "out.bin");
        vault.Get(artifact.Id[..10], output);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(output));
        Assert.NotEqual(File.ReadAllBytes(path).Length == 0 ? [1] : File.ReadAllBytes(path), File.ReadAllBytes(Path.Combine(vault.Root, artifact.Id + ".ddv")));
        Assert.All(vault.Verify(), r => Assert.True(r.Ok, r.Message));
    }

    public static TheoryData<string> Tamperings => new() { "flip-byte", "truncate-mid", "truncate-at-segment", "append-segment", "swap-segments", "drop-segment", "header" };

    [Theory]
    [MemberData(nameof(Tamperings))]
    public void TamperedCiphertext_IsAnError_AndNoPlaintextIsWritten(string how)
    {
        var (vault, _) = Open();
        var artifact = vault.Put(Data("in.bin", 4 * Segment), "checkpoint", null, "alice", Segment);
        var file = Path.Combine(vault.Root, artifact.Id + ".ddv");
        var bytes = File.ReadAllBytes(file);
        const int sealedSize = Segment + 16;
        var header = SegmentedCipher.HeaderSize;
        byte[] Slice(int segment) => bytes.AsSpan(header + segment * sealedSize, sealedSize).ToArray();
        bytes = how switch
        {
            "flip-byte" => Flip(bytes, header + sealedSize + 7),
            "truncate-mid" => bytes[..(bytes.Length - 100)],
            "truncate-at-segment" => bytes[..(header + 2 * sealedSize)],
            "append-segment" => [.. bytes, .. Slice(3)],
            "swap-segments" => [.. bytes[..header], .. Slice(1), .. Slice(0), .. bytes[(header + 2 * sealedSize)..]],
            "drop-segment" => [.. bytes[..(header + sealedSize)], .. bytes[(header + 2 * sealedSize)..]],
            "header" => Flip(bytes, 14),
            _ => throw new ArgumentException(how),
        };
        File.WriteAllBytes(file, bytes);

        var output = Path.Combine(_dir.Path, "out.bin");
        Assert.Throws<VaultIntegrityException>(() => vault.Get(artifact.Id, output));
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp", SearchOption.AllDirectories));
        Assert.False(Assert.Single(vault.Verify()).Ok);
    }

    [Fact]
    public void SwappedMetadata_IsAnError()
    {
        var (vault, _) = Open();
        var a = vault.Put(Data("a.bin", 3000), "log", null, "alice", Segment);
        var b = vault.Put(Data("b.bin", 5000), "log", null, "alice", Segment);
        var metaA = Path.Combine(vault.Root, a.Id + ".json");
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(metaA))!;
        node["wrappedKey"] = b.Key.Value;
        File.WriteAllText(metaA, node.ToJsonString());
        Assert.Throws<VaultIntegrityException>(() => vault.Get(a.Id, Path.Combine(_dir.Path, "out.bin")));
    }

    [Fact]
    public void Rotate_RewrapsKeysWithoutTouchingCiphertext()
    {
        var (vault, ring) = Open();
        var artifact = vault.Put(Data("in.bin", 5000), "dataset", null, "alice", Segment);
        var cipher = File.ReadAllBytes(Path.Combine(vault.Root, artifact.Id + ".ddv"));
        var old = ring.CurrentKeyId;
        ring.AddKey();
        Assert.Equal(1, vault.Rewrap(ring));
        ring.RemoveKey(old);
        ring.Save();

        var reopened = new ArtifactVault(vault.Root, KeyRing.Open(ring.Path!, create: false));
        var rewrapped = Assert.Single(reopened.List());
        Assert.Equal(ring.CurrentKeyId, rewrapped.Key.KeyId);
        Assert.Equal(cipher, File.ReadAllBytes(Path.Combine(vault.Root, artifact.Id + ".ddv")));
        reopened.Get(artifact.Id, Path.Combine(_dir.Path, "out.bin"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir.Path, "in.bin")), File.ReadAllBytes(Path.Combine(_dir.Path, "out.bin")));
    }

    [Fact]
    public void KeyRing_IsOwnerOnly_AndAReadableOneIsRefused()
    {
        var (_, ring) = Open();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ring.Path!));
        File.SetUnixFileMode(ring.Path!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var error = Assert.Throws<KeyRingException>(() => KeyRing.Open(ring.Path!, create: false));
        Assert.Contains("chmod 600", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WrongKey_GivesAClearErrorWithoutKeyMaterial()
    {
        var (vault, ring) = Open();
        var artifact = vault.Put(Data("in.bin", 100), "dataset", null, "alice", Segment);
        var ringText = File.ReadAllText(ring.Path!);
        var otherRing = KeyRing.Open(Path.Combine(_dir.Path, "other", "keyring.json"), create: true);
        var error = Assert.Throws<KeyRingException>(() => new ArtifactVault(vault.Root, otherRing).Get(artifact.Id, Path.Combine(_dir.Path, "out.bin")));
        Assert.Contains(artifact.Key.KeyId, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(ringText[(ringText.IndexOf("\"key\"", StringComparison.Ordinal) + 8)..][..20], error.Message, StringComparison.Ordinal);
    }

    private static byte[] Flip(byte[] bytes, int at)
    {
        var copy = (byte[])bytes.Clone();
        copy[at] ^= 0x40;
        return copy;
    }
}
