using System.Diagnostics;
using System.Text;
using Drydock.Provenance.Signing;
using Drydock.Tests.Shared;

namespace Drydock.Provenance.Tests;

public sealed class SigningTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Pae_MatchesTheDsseSpecification()
    {
        var pae = Dsse.Pae("http://example.com/HelloWorld", Encoding.UTF8.GetBytes("hello world"));
        Assert.Equal("DSSEv1 29 http://example.com/HelloWorld 11 hello world", Encoding.UTF8.GetString(pae));
    }

    private (SigningKey Key, string Envelope) SignDataset()
    {
        var key = SigningKey.Create(Path.Combine(_dir.Path, "keys", "signing.key"));
        var data = _dir.File("clean.jsonl", "{\"text\":\"hello\"}\n");
        var statement = Dsse.Statement([new Subject("clean.jsonl", Dsse.Sha256Of(data))], Dsse.DatasetPredicate, w =>
        {
            w.WriteStartObject();
            w.WriteString("datasetId", "ds-1");
            w.WriteEndObject();
        });
        var envelope = _dir.File("clean.jsonl.dsse.json", Dsse.Sign(statement, key));
        return (key, envelope);
    }

    [Fact]
    public void SignedEnvelope_Verifies_WithTheSubjectDigests()
    {
        var (key, envelope) = SignDataset();
        using (key)
        {
            var result = Dsse.Verify(File.ReadAllBytes(envelope), [key.PublicKey], _dir.Path);
            Assert.True(result.Ok, string.Join("; ", result.Problems));
            Assert.Equal(key.KeyId, result.KeyId);
            Assert.Equal(Dsse.DatasetPredicate, result.PredicateType);
            Assert.Equal("clean.jsonl", Assert.Single(result.Subjects).Name);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir.Path, "keys", "signing.key")));
        }
    }

    [Fact]
    public void ChangedSubject_ForgedPayload_AndUntrustedKey_AllFail()
    {
        var (key, envelope) = SignDataset();
        using (key)
        {
            File.AppendAllText(Path.Combine(_dir.Path, "clean.jsonl"), "{\"text\":\"poison\"}\n");
            var changed = Dsse.Verify(File.ReadAllBytes(envelope), [key.PublicKey], _dir.Path);
            Assert.Contains(changed.Problems, p => p.Contains("does not match its digest", StringComparison.Ordinal));

            var text = File.ReadAllText(envelope);
            var payload = System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("payload").GetString()!;
            var forged = Encoding.UTF8.GetString(Convert.FromBase64String(payload)).Replace("ds-1", "ds-2", StringComparison.Ordinal);
            var forgedEnvelope = Encoding.UTF8.GetBytes(text.Replace(payload, Convert.ToBase64String(Encoding.UTF8.GetBytes(forged)), StringComparison.Ordinal));
            Assert.Contains(Dsse.Verify(forgedEnvelope, [key.PublicKey], null).Problems, p => p.StartsWith("no signature verifies", StringComparison.Ordinal));

            using var other = SigningKey.Create(Path.Combine(_dir.Path, "other", "signing.key"));
            Assert.False(Dsse.Verify(File.ReadAllBytes(Path.Combine(_dir.Path, "clean.jsonl.dsse.json")), [other.PublicKey], null).Ok);
            Assert.False(Dsse.Verify("not json"u8, [key.PublicKey], null).Ok);
        }
    }

    [Fact]
    public void SigningKey_IsNeverOverwritten_AndReloads()
    {
        var path = Path.Combine(_dir.Path, "keys", "signing.key");
        string id;
        using (var key = SigningKey.Create(path)) id = key.KeyId;
        Assert.Throws<KeyRingException>(() => SigningKey.Create(path));
        using var loaded = SigningKey.Load(path);
        Assert.Equal(id, loaded.KeyId);
        Assert.Equal(id, SigningKey.IdOf(SigningKey.LoadPublic(path + ".pub")));
    }

    [Fact]
    public void OpenSsl_VerifiesOurSignature_OverThePae()
    {
        var (key, envelope) = SignDataset();
        using (key)
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(envelope));
            var payload = Convert.FromBase64String(doc.RootElement.GetProperty("payload").GetString()!);
            var signature = Convert.FromBase64String(doc.RootElement.GetProperty("signatures")[0].GetProperty("sig").GetString()!);
            var pae = _dir.File("pae.bin", Dsse.Pae(Dsse.PayloadType, payload));
            var sig = _dir.File("sig.bin", signature);
            var start = new ProcessStartInfo("openssl", ["pkeyutl", "-verify", "-pubin", "-inkey", Path.Combine(_dir.Path, "keys", "signing.key.pub"), "-rawin", "-in", pae, "-sigfile", sig])
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
            };
            Process? process;
            try
            {
                process = Process.Start(start);
            }
            catch (System.ComponentModel.Win32Exception)
            {
                Assert.Skip("openssl is not installed");
                return;
            }

            using (process)
            {
                var output = process!.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
                process.WaitForExit();
                Assert.True(process.ExitCode == 0, output);
                Assert.Contains("Signature Verified Successfully", output, StringComparison.Ordinal);
            }
        }
    }
}
