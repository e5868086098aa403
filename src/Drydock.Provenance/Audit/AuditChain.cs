using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Provenance.Registry;

namespace Drydock.Provenance.Audit;

/// <summary>
/// The hash chain from an actor's grant to the head, checked on every access decision without walking the whole log:
/// the last head verified is kept outside the project (beside the audit witness, one owner-only file per registry
/// identity), and each check verifies only the entries after it — that the verified entry is still there with the hash
/// it had, and that every entry since follows it and matches its own hash. A log rewritten at or before the verified
/// head, or a registry put back from an older copy, no longer holds that entry as it was and is refused.
/// </summary>
public static class AuditChain
{
    /// <summary>The file keeping the last verified head of a registry's audit log.</summary>
    public static string PathOf(RegistryDatabase db)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (AuditWitness.FolderProblem(db) is { } problem) throw new KeyRingException(problem);
        return Path.Combine(AuditWitness.Folder, "chain-id-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(db.Identity)))[..16] + ".json");
    }

    /// <summary>
    /// Verifies the chain from entry <paramref name="from"/> (the actor's grant), or from the last verified head when it
    /// is kept, to the head, and records the head as verified. Returns why the chain does not hold (naming the entry),
    /// or null.
    /// </summary>
    public static string? Check(RegistryDatabase db, long from)
    {
        ArgumentNullException.ThrowIfNull(db);
        var path = PathOf(db);
        var kept = Read(path);
        var start = kept?.Seq ?? from;
        var (head, problem) = Walk(db, start, kept?.Hash);
        if (problem is not null) return problem;

        // Entries deleted from the end of the log (with their rows) leave the chain whole: the witness names them.
        if (AuditWitness.Check(db) is { } behind) return behind;
        if (head.Seq > (kept?.Seq ?? 0)) Write(path, db, head.Seq, head.Hash);
        return null;
    }

    /// <summary>
    /// Verifies entries <paramref name="from"/> to the head: <paramref name="from"/> is there (with
    /// <paramref name="expectedHash"/>, when given), each entry matches its hash, and each follows the one before.
    /// Returns the head and null, or why not.
    /// </summary>
    public static ((long Seq, string Hash) Head, string? Problem) Walk(RegistryDatabase db, long from, string? expectedHash)
    {
        ArgumentNullException.ThrowIfNull(db);
        using var command = db.Command("SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log WHERE seq >= @from ORDER BY seq", null, ("from", from));
        using var r = command.ExecuteReader();
        (long Seq, string Hash) previous = (0, "");
        while (r.Read())
        {
            var (seq, at, actor, action, subject, details, prev, hash) = (r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6), r.GetString(7));
            if (previous.Seq == 0)
            {
                if (seq != from) return (default, $"audit entry {from} is missing (deleted, or the registry was put back from an older copy)");
                if (expectedHash is not null && !string.Equals(hash, expectedHash, StringComparison.OrdinalIgnoreCase))
                {
                    return (default, $"audit entry {from} is not the entry verified before (the log was rewritten at or before it, or the registry was put back from an older copy)");
                }
            }
            else if (seq != previous.Seq + 1)
            {
                return (default, $"audit entries {previous.Seq + 1}..{seq - 1} are missing (deleted)");
            }
            else if (prev != previous.Hash)
            {
                return (default, $"audit entry {seq} does not follow entry {previous.Seq} (an entry was inserted, deleted or rewritten)");
            }

            if (AuditLog.Hash(prev, seq, at, actor, action, subject, details) != hash) return (default, $"audit entry {seq} ({action} {subject}) was edited: its content does not match its hash");
            previous = (seq, hash);
        }

        return previous.Seq == 0
            ? (default, $"audit entry {from} is missing: the log holds fewer entries than when it was verified (the registry was put back from an older copy)")
            : (previous, null);
    }

    private static (long Seq, string Hash)? Read(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(path));
            if (json?["entries"]?.GetValue<long>() is long seq && json["head"]?.GetValue<string>() is { Length: 64 } hash && seq > 0) return (seq, hash);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            // fall through
        }

        throw new KeyRingException($"{path}: the verified head of the audit log cannot be read; run 'drydock audit verify', then remove the file");
    }

    private static void Write(string path, RegistryDatabase db, long seq, string hash)
    {
        if (!OperatingSystem.IsWindows()) Directory.CreateDirectory(AuditWitness.Folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        else Directory.CreateDirectory(AuditWitness.Folder);
        var json = new JsonObject
        {
            ["registry"] = db.Display,
            ["entries"] = seq,
            ["head"] = hash,
            ["at"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        }.ToJsonString();
        Datasets.Output.AtomicFile.Write(path, Encoding.UTF8.GetBytes(json + "\n"), ownerOnly: true);
    }
}
