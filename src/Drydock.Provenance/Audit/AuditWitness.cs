using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Drydock.Provenance.Registry;

namespace Drydock.Provenance.Audit;

/// <summary>
/// A record, kept outside the project, of how far a registry's audit log reached when it was last verified: its entry
/// count and head hash. The hash chain shows edits and removals inside the log, but a copy of the whole
/// <c>.drydock</c> folder put back (registry, key file and all) is a consistent older state that the chain alone
/// cannot tell from the present, and neither can it tell a log whose newest entries (and their rows) were deleted from
/// one that never held them. The witness can: the log must still hold the witnessed entry with the witnessed hash.
/// Every write that appends to the log moves the witness up to the new head once it is committed
/// (<see cref="RegistryDatabase.CommitWrite"/>), whichever process writes (the CLI or <c>drydock serve</c>), so
/// removing any committed entry from the end is found by <c>drydock audit verify</c> and by the gateway.
/// It lives in <c>$DRYDOCK_STATE_HOME</c>, else <c>$XDG_STATE_HOME/drydock</c>, else <c>~/.local/state/drydock</c>,
/// two files per registry: one by its identity (a random id stored in the registry, so a copy of it passed as
/// <c>--registry</c> is the same registry to the witness) and one by its log's first entry (so deleting or changing the
/// identity row starts no fresh witness), so someone who can replace the project folder or write the database, but not
/// the user's home, is caught.
/// </summary>
public static class AuditWitness
{
    /// <summary>The folder holding the witnesses.</summary>
    public static string Folder =>
        Environment.GetEnvironmentVariable("DRYDOCK_STATE_HOME") is { Length: > 0 } own ? own
        : Environment.GetEnvironmentVariable("XDG_STATE_HOME") is { Length: > 0 } xdg ? Path.Combine(xdg, "drydock")
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state", "drydock");

    /// <summary>
    /// The witness file of a registry, by the identity stored inside it: a copy of the registry at another path
    /// (<c>--registry</c>) has the same witness.
    /// </summary>
    public static string PathOf(RegistryDatabase db)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (FolderProblem(db) is { } problem) throw new KeyRingException(problem);
        return IdentityPathOf(db.Identity);
    }

    private static string IdentityPathOf(string identity) =>
        Path.Combine(Folder, "audit-id-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..16] + ".json");

    // The witness file of earlier versions, keyed by the registry's display location; still checked.
    private static string LegacyPathOf(RegistryDatabase db) =>
        Path.Combine(Folder, "audit-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(db.Display)))[..16] + ".json");

    // The witness file of a registry by its log's first entry: the identity is a row anyone who can write the database
    // can delete or change (a new one, with no witness yet, would pass), the first entry is not without rewriting the
    // whole log. Null while the log is empty.
    private static string? LineagePathOf(RegistryDatabase db, DbTransaction? transaction)
    {
        using var command = db.Command("SELECT hash FROM audit_log WHERE seq = 1", transaction);
        return command.ExecuteScalar() is string first
            ? Path.Combine(Folder, "audit-first-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(first)))[..16] + ".json")
            : null;
    }

    /// <summary>
    /// The witness files of a registry, found once per check or write: by the log's first entry (checked first: it
    /// needs no identity row; null while the log is empty), by the registry's identity (null while its row is missing:
    /// the first-entry witness still holds the position), and by its location (earlier versions; checked, never moved).
    /// </summary>
    internal readonly record struct Files(string? Lineage, string? Identity, string Legacy)
    {
        public IEnumerable<string> Checked => new[] { Lineage, Identity, Legacy }.OfType<string>();

        public IEnumerable<string> Moved => new[] { Lineage, Identity }.OfType<string>();
    }

    private static Files FilesOf(RegistryDatabase db, DbTransaction? transaction) => new(
        LineagePathOf(db, transaction),
        db.Scalar("SELECT value FROM registry_identity WHERE name = 'id'", transaction) is string identity ? IdentityPathOf(identity) : null,
        LegacyPathOf(db));

    // The first witness the log is behind, or null; the lineage witness first, so a deleted identity row is no way round it.
    private static string? Check(RegistryDatabase db, Files files, DbTransaction? transaction)
    {
        foreach (var path in files.Checked)
        {
            if (Check(db, path, transaction) is { } problem) return problem;
        }

        return null;
    }

    /// <summary>
    /// Why the log is behind its witness (rolled back), or null when it is not or there is no witness yet. Both witnesses
    /// are checked: the one named by the log's first entry (first: it needs no identity row) and the one named by the
    /// registry's identity.
    /// </summary>
    public static string? Check(RegistryDatabase db)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (FolderProblem(db) is { } folder) return folder;
        var lineage = LineagePathOf(db, null);
        if (lineage is not null && Check(db, lineage, null) is { } problem) return problem;
        return Check(db, PathOf(db), null) ?? Check(db, LegacyPathOf(db), null);
    }

    /// <summary>
    /// Why the witness folder cannot witness this registry, or null: it lies (links resolved) inside the project that
    /// holds the registry (the folder above its <c>.drydock</c>, or the registry file's own folder), where whoever can
    /// put the project back can put the witness and the results key back with it.
    /// </summary>
    public static string? FolderProblem(RegistryDatabase db) => FolderProblem(db, null);

    /// <summary>As <see cref="FolderProblem(RegistryDatabase)"/>, also refusing a folder inside <paramref name="projectRoot"/>.</summary>
    public static string? FolderProblem(RegistryDatabase db, string? projectRoot)
    {
        ArgumentNullException.ThrowIfNull(db);
        string state;
        try
        {
            state = RealPath(Folder);
        }
        catch (IOException e)
        {
            return $"the audit witness folder {Folder} cannot be resolved ({e.Message})";
        }

        var guarded = new List<string>();
        if (projectRoot is not null) guarded.Add(projectRoot);
        if (db.SqliteFile is { } file && Path.GetDirectoryName(file) is { } folder)
        {
            guarded.Add(Path.GetFileName(folder) == ".drydock" ? Path.GetDirectoryName(folder)! : folder);
        }

        foreach (var root in guarded)
        {
            string real;
            try
            {
                real = RealPath(root);
            }
            catch (IOException)
            {
                continue;
            }

            var inside = Path.TrimEndingDirectorySeparator(real);
            if (state == inside || state.StartsWith(inside + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                return $"the audit witness folder {Folder} is inside the project {root}: whoever can put the project back could put its witness and results key back with it; " +
                    "set DRYDOCK_STATE_HOME (or XDG_STATE_HOME, or HOME) to a folder outside the project";
            }
        }

        return null;
    }

    // The full path with every symbolic link on the way resolved (the part that does not exist yet kept as written).
    private static string RealPath(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var root = Path.GetPathRoot(full) ?? "/";
        var current = root;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(current, part);
            var info = new FileInfo(next);
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
            {
                next = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target.FullName));
            }

            current = next;
        }

        return Path.TrimEndingDirectorySeparator(current);
    }

    private static string? Check(RegistryDatabase db, string path, DbTransaction? transaction)
    {
        if (!File.Exists(path)) return null;
        long seq;
        string hash;
        string at;
        try
        {
            using var doc = JsonDocument.Parse(Detection.Configuration.RegularFiles.ReadAllBytes(path, 4096));
            seq = doc.RootElement.GetProperty("entries").GetInt64();
            hash = doc.RootElement.GetProperty("head").GetString() ?? "";
            at = doc.RootElement.GetProperty("at").GetString() ?? "";
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return $"the audit witness {path} cannot be read ({e.Message}); restore it or remove it to start a new one";
        }

        if (seq == 0) return null;
        using var command = db.Command("SELECT hash FROM audit_log WHERE seq = @seq", transaction, ("seq", seq));
        var found = command.ExecuteScalar() as string;
        if (found is null)
        {
            var now = Head(db, transaction).Seq;
            return $"the audit log was rolled back: it held {seq} entries (head {hash[..Math.Min(12, hash.Length)]}) when witnessed at {at}, and holds {now} now: " +
                $"witnessed entry {seq} is missing (its newest entries were deleted, or the registry, or the whole .drydock folder, was put back from an older copy; witness {path})";
        }

        return string.Equals(found, hash, StringComparison.OrdinalIgnoreCase) ? null
            : $"the audit log was rewritten: witnessed entry {seq} is not the one witnessed at {at} (entries were deleted from its end and others written in their place, or the log was rewritten; witness {path})";
    }

    /// <summary>The log's last entry number and hash (0 and <see cref="AuditLog.Genesis"/> when empty).</summary>
    public static (long Seq, string Hash) Head(RegistryDatabase db) => Head(db, null);

    private static (long Seq, string Hash) Head(RegistryDatabase db, DbTransaction? transaction)
    {
        ArgumentNullException.ThrowIfNull(db);
        using var command = db.Command("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", transaction);
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetString(1)) : (0, AuditLog.Genesis);
    }

    /// <summary>
    /// Checks the log against its witness and, when it holds the witnessed entry, moves the witness up to the log's
    /// head. Returns why the log is behind (and leaves the witness where it was), or null. The witness never moves back.
    /// </summary>
    public static string? Advance(RegistryDatabase db, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (FolderProblem(db) is { } folder) return folder;
        var files = FilesOf(db, null);
        if (Check(db, files, null) is { } problem) return problem;
        var (seq, hash) = Head(db);
        // An empty log has no first entry to name a witness by: one written since (by another process) names it now.
        Record(db, files.Lineage is null ? files with { Lineage = LineagePathOf(db, null) } : files, seq, hash, now);
        return null;
    }

    /// <summary>
    /// Before an audited write commits, under its lock (<see cref="RegistryDatabase.CommitWrite"/>): why the log, with
    /// the entries this write appended, is behind its witness (the write is then refused), or null, with the witness
    /// files and the head this write will leave, for <see cref="Moved"/> to record once it is committed. A witness
    /// folder that cannot witness the registry (inside the project) checks nothing and records nothing, as before.
    /// </summary>
    internal static (string? Problem, Pending? Move) BeforeCommit(RegistryDatabase db, DbTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (FolderProblem(db) is not null) return (null, null);
        Files files;
        try
        {
            files = FilesOf(db, transaction);
            if (Check(db, files, transaction) is { } problem) return (problem, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ($"the audit witness in {Folder} cannot be read ({e.Message})", null);
        }

        var (seq, hash) = Head(db, transaction);
        return (null, new Pending(files, seq, hash));
    }

    /// <summary>What a write checked before committing leaves to record: its witness files and the head it committed.</summary>
    internal sealed record Pending(Files Files, long Entries, string Head);

    /// <summary>
    /// After a committed write that <see cref="BeforeCommit"/> checked: moves the witness up to the head it committed,
    /// never throwing; why the witness was not moved (its folder cannot be used or written), or null.
    /// </summary>
    internal static string? Moved(RegistryDatabase db, Pending? move, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (move is null) return FolderProblem(db);
        try
        {
            Record(db, move.Files, move.Entries, move.Head, now);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return $"the audit witness in {Folder} cannot be written ({e.Message})";
        }
    }

    /// <summary>Records that the log held <paramref name="entries"/> entries ending at <paramref name="head"/> (never moves back).</summary>
    private static void Record(RegistryDatabase db, Files files, long entries, string head, DateTimeOffset now)
    {
        foreach (var path in files.Moved) Record(db, path, entries, head, now);
    }

    private static void Record(RegistryDatabase db, string path, long entries, string head, DateTimeOffset now)
    {
        // Read again, not taken from the check: another process may have moved it further since this write committed.
        if (Witnessed(path) >= entries) return;
        if (!OperatingSystem.IsWindows()) Directory.CreateDirectory(Folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        else Directory.CreateDirectory(Folder);
        var json = new System.Text.Json.Nodes.JsonObject
        {
            ["registry"] = db.Display,
            ["entries"] = entries,
            ["head"] = head,
            ["at"] = now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        }.ToJsonString();
        Datasets.Output.AtomicFile.Write(path, Encoding.UTF8.GetBytes(json + "\n"), ownerOnly: true);
    }

    // The entry count a witness file holds (0 when there is none); one that cannot be read was reported by Check.
    private static long Witnessed(string path)
    {
        if (!File.Exists(path)) return 0;
        using var doc = JsonDocument.Parse(Detection.Configuration.RegularFiles.ReadAllBytes(path, 4096));
        return doc.RootElement.GetProperty("entries").GetInt64();
    }
}
