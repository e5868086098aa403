using System.Text.Json;
using Drydock.Provenance.Registry;
using Drydock.Provenance.Signing;
using NSec.Cryptography;

namespace Drydock.Provenance.Audit;

/// <summary>
/// A signed checkpoint of the audit log's head (entry number and hash), kept in a file outside the registry. The
/// chain alone cannot show that entries were removed from its end together with their rows (a rollback); a log
/// that no longer holds the signed head entry, or holds another one there, fails <see cref="Check"/>. A checkpoint
/// only moves forward: it is never replaced while the log fails it.
/// </summary>
public static class AuditCheckpoint
{
    /// <summary>The in-toto predicate type of a checkpoint.</summary>
    public const string Predicate = "https://drydock.dev/attestation/audit-head/v1";

    /// <summary>The log's last entry number and hash (0 and <see cref="AuditLog.Genesis"/> when empty).</summary>
    public static (long Seq, string Hash) Head(RegistryDatabase db)
    {
        ArgumentNullException.ThrowIfNull(db);
        using var command = db.Command("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", null);
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetString(1)) : (0, AuditLog.Genesis);
    }

    /// <summary>
    /// Signs the current head into <paramref name="path"/> (atomically) when the log holds the checkpoint there now;
    /// returns the problem, and leaves the file as it is, when it does not.
    /// </summary>
    public static string? Write(RegistryDatabase db, string path, SigningKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (Check(db, path, [key.PublicKey]) is { } problem) return problem;
        var (seq, hash) = Head(db);
        var statement = Dsse.Statement([new Subject("audit-log", hash)], Predicate, w =>
        {
            w.WriteStartObject();
            w.WriteNumber("seq", seq);
            w.WriteString("hash", hash);
            w.WriteString("at", RegistryDatabase.Now());
            w.WriteEndObject();
        });
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        Drydock.Datasets.Output.AtomicFile.Write(path, Dsse.Sign(statement, key));
        return null;
    }

    /// <summary>
    /// Checks the log against the checkpoint at <paramref name="path"/>: null when there is none or the log holds its
    /// head entry unchanged; otherwise what is wrong (a bad signature, entries removed from the end, a rewritten chain).
    /// </summary>
    public static string? Check(RegistryDatabase db, string path, IReadOnlyList<PublicKey> trusted)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (!File.Exists(path)) return null;
        var verified = Dsse.Verify(File.ReadAllBytes(path), trusted, null);
        if (!verified.Ok || verified.PredicateType != Predicate) return $"the signed audit checkpoint {path} does not verify ({string.Join("; ", verified.Problems.DefaultIfEmpty($"predicate {verified.PredicateType}"))})";
        long seq;
        string hash;
        try
        {
            using var envelope = JsonDocument.Parse(File.ReadAllBytes(path));
            using var statement = JsonDocument.Parse(Convert.FromBase64String(envelope.RootElement.GetProperty("payload").GetString()!));
            var predicate = statement.RootElement.GetProperty("predicate");
            (seq, hash) = (predicate.GetProperty("seq").GetInt64(), predicate.GetProperty("hash").GetString()!);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return $"the signed audit checkpoint {path} cannot be read: {e.Message}";
        }

        if (seq == 0) return null;
        using var command = db.Command("SELECT hash FROM audit_log WHERE seq = @seq", null, ("seq", seq));
        var found = command.ExecuteScalar() as string;
        var (last, _) = Head(db);
        if (found is null) return $"the log ends at entry {last}, but entry {seq} was signed at checkpoint {path} (entries were removed from the end: the registry was rolled back or truncated)";
        if (!string.Equals(found, hash, StringComparison.Ordinal)) return $"entry {seq} is not the one signed at checkpoint {path} ({Short(found)}, not {Short(hash)}: the chain was rewritten)";
        return null;
    }

    private static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;
}
