using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NSec.Cryptography;

namespace Drydock.Provenance.Signing;

/// <summary>A subject of an in-toto statement: a file name (relative to the envelope) and its SHA-256.</summary>
public sealed record Subject(string Name, string Sha256);

/// <summary>The outcome of <see cref="Dsse.Verify"/>.</summary>
/// <param name="Ok">True when a trusted key signed it and every subject matches.</param>
/// <param name="Problems">What failed, in order.</param>
/// <param name="KeyId">The key that signed it, when one verified.</param>
/// <param name="PredicateType">The statement's predicate type.</param>
/// <param name="Subjects">The statement's subjects.</param>
public sealed record VerifyResult(bool Ok, IReadOnlyList<string> Problems, string? KeyId, string? PredicateType, IReadOnlyList<Subject> Subjects);

/// <summary>
/// in-toto v1 statements in DSSE envelopes (the format OpenSSF model signing and SLSA provenance use): the signature
/// covers <c>PAE(payloadType, payload)</c> = <c>"DSSEv1" SP len(type) SP type SP len(body) SP body</c>.
/// </summary>
public static class Dsse
{
    /// <summary>The payload type of in-toto statements.</summary>
    public const string PayloadType = "application/vnd.in-toto+json";

    /// <summary>Predicate type of a dataset manifest.</summary>
    public const string DatasetPredicate = "https://drydock.dev/attestation/dataset-manifest/v1";

    /// <summary>Predicate type of a model version record.</summary>
    public const string ModelPredicate = "https://drydock.dev/attestation/model-version/v1";

    /// <summary>Predicate type of a checked training plan.</summary>
    public const string TrainingPlanPredicate = "https://drydock.dev/attestation/training-plan/v1";

    /// <summary>Predicate type of a release-gate decision.</summary>
    public const string GatePredicate = "https://drydock.dev/attestation/release-gate/v1";

    /// <summary>Builds an in-toto v1 statement.</summary>
    public static byte[] Statement(IEnumerable<Subject> subjects, string predicateType, Action<Utf8JsonWriter> writePredicate)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("_type", "https://in-toto.io/Statement/v1");
            w.WriteStartArray("subject");
            foreach (var s in subjects)
            {
                w.WriteStartObject();
                w.WriteString("name", s.Name);
                w.WriteStartObject("digest");
                w.WriteString("sha256", s.Sha256);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("predicateType", predicateType);
            w.WritePropertyName("predicate");
            writePredicate(w);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Signs a payload into a DSSE envelope (indented JSON).</summary>
    public static byte[] Sign(byte[] payload, SigningKey key, string payloadType = PayloadType)
    {
        var signature = key.Sign(Pae(payloadType, payload));
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("payloadType", payloadType);
            w.WriteString("payload", Convert.ToBase64String(payload));
            w.WriteStartArray("signatures");
            w.WriteStartObject();
            w.WriteString("keyid", key.KeyId);
            w.WriteString("sig", Convert.ToBase64String(signature));
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }

        return [.. buffer.WrittenSpan, (byte)'\n'];
    }

    /// <summary>The DSSE pre-authentication encoding.</summary>
    public static byte[] Pae(string payloadType, byte[] payload)
    {
        var type = Encoding.UTF8.GetBytes(payloadType);
        var prefix = Encoding.UTF8.GetBytes($"DSSEv1 {type.Length} {payloadType} {payload.Length} ");
        return [.. prefix, .. payload];
    }

    /// <summary>
    /// Verifies an envelope against trusted public keys, then each subject's SHA-256 against the file of that name
    /// relative to <paramref name="baseDirectory"/> (skipped when null).
    /// </summary>
    public static VerifyResult Verify(ReadOnlySpan<byte> envelope, IReadOnlyList<PublicKey> trusted, string? baseDirectory)
    {
        var problems = new List<string>();
        string payloadType;
        byte[] payload;
        List<(string KeyId, byte[] Sig)> signatures = [];
        try
        {
            using var doc = JsonDocument.Parse(envelope.ToArray());
            var root = doc.RootElement;
            payloadType = root.GetProperty("payloadType").GetString() ?? "";
            payload = Convert.FromBase64String(root.GetProperty("payload").GetString() ?? "");
            foreach (var s in root.GetProperty("signatures").EnumerateArray())
            {
                signatures.Add((s.TryGetProperty("keyid", out var id) ? id.GetString() ?? "" : "", Convert.FromBase64String(s.GetProperty("sig").GetString() ?? "")));
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
        {
            return new VerifyResult(false, [$"not a DSSE envelope: {e.Message}"], null, null, []);
        }

        string? signer = null;
        var pae = Pae(payloadType, payload);
        foreach (var (keyId, sig) in signatures)
        {
            foreach (var key in trusted)
            {
                if (SigningKey.Verify(key, pae, sig))
                {
                    signer = SigningKey.IdOf(key);
                    break;
                }
            }

            if (signer is not null) break;
        }

        if (signatures.Count == 0) problems.Add("the envelope has no signature");
        else if (signer is null) problems.Add($"no signature verifies with a trusted key (signed by {string.Join(", ", signatures.Select(s => s.KeyId).ToArray())}; trusted: {string.Join(", ", trusted.Select(SigningKey.IdOf).ToArray())})");
        if (payloadType != PayloadType) problems.Add($"payload type is '{payloadType}', not {PayloadType}");

        string? predicateType = null;
        var subjects = new List<Subject>();
        try
        {
            using var statement = JsonDocument.Parse(payload);
            predicateType = statement.RootElement.GetProperty("predicateType").GetString();
            foreach (var s in statement.RootElement.GetProperty("subject").EnumerateArray())
            {
                subjects.Add(new Subject(s.GetProperty("name").GetString() ?? "", s.GetProperty("digest").GetProperty("sha256").GetString() ?? ""));
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            problems.Add($"the payload is not an in-toto statement: {e.Message}");
        }

        if (baseDirectory is not null)
        {
            var root = Path.GetFullPath(baseDirectory);
            foreach (var subject in subjects)
            {
                var path = Path.GetFullPath(Path.Combine(root, subject.Name));
                if (subject.Name.Length == 0 || Path.IsPathRooted(subject.Name))
                {
                    problems.Add($"subject '{subject.Name}' is not a path relative to the envelope");
                }
                else if (OutsideOrLinked(root, path) is { } why)
                {
                    problems.Add($"subject '{subject.Name}' {why}; a signed file must be the file itself, inside the signed folder");
                }
                else if (!File.Exists(path))
                {
                    problems.Add($"subject '{subject.Name}' is missing");
                }
                else if (Detection.Configuration.RegularFiles.Problem(path) is { } notRegular)
                {
                    problems.Add($"subject '{subject.Name}' is {notRegular}");
                }
                else if (Sha256Of(path) != subject.Sha256)
                {
                    problems.Add($"subject '{subject.Name}' does not match its digest (the file changed after signing)");
                }
            }
        }

        return new VerifyResult(problems.Count == 0, problems, signer, predicateType, subjects);
    }

    // Why a subject's path is not plainly a file under root: it leaves root ("../"), or it or a folder on the way is a
    // symbolic link (a signed file swapped for a link to a copy elsewhere would verify today and follow the copy tomorrow).
    private static string? OutsideOrLinked(string root, string path)
    {
        var relative = Path.GetRelativePath(root, path);
        if (relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal) || Path.IsPathRooted(relative)) return "leaves the envelope's folder";
        var current = root;
        foreach (var part in relative.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            if (new FileInfo(current).LinkTarget is not null) return current == path ? "is a symbolic link" : $"lies under a symbolic link ({Path.GetRelativePath(root, current)})";
        }

        return null;
    }

    /// <summary>SHA-256 of a file, lower-case hex.</summary>
    public static string Sha256Of(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
