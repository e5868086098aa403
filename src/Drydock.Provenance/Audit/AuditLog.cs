using System.Buffers;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using Drydock.Provenance.Registry;

namespace Drydock.Provenance.Audit;

/// <summary>One audit entry: a registry row written by <see cref="Actor"/> at <see cref="At"/>.</summary>
public sealed record AuditEntry(long Seq, string At, string Actor, string Action, string Subject, string Details, string PrevHash, string Hash);

/// <summary>The outcome of <see cref="AuditLog.Verify"/>.</summary>
/// <param name="Entries">Entries read.</param>
/// <param name="Head">The hash of the last entry (publish it to detect a truncated tail later).</param>
/// <param name="FirstBadSeq">The first entry that fails, or null.</param>
/// <param name="Problem">What is wrong with it.</param>
public sealed record AuditVerification(long Entries, string Head, long? FirstBadSeq, string? Problem)
{
    /// <summary>True when the chain and every row check out.</summary>
    public bool Ok => Problem is null;
}

/// <summary>Filters for <see cref="AuditLog.Query"/>.</summary>
public sealed record AuditFilter(string? Subject = null, string? Actor = null, string? Action = null, string? Since = null, int Limit = 100);

/// <summary>
/// The hash-chained audit log. Entry <c>n</c>'s hash is SHA-256 over the JSON array
/// <c>[prev_hash, seq, at, actor, action, subject, details]</c>, with <c>prev_hash</c> the hash of entry <c>n−1</c>
/// (64 zeros for the first). <c>details</c> is the canonical JSON of the row the entry wrote (values over 256
/// characters by their SHA-256), so <see cref="Verify"/> also finds registry rows edited, added or deleted behind
/// the log's back. A truncated tail is found against a head published earlier (<c>--head</c>).
/// </summary>
public static class AuditLog
{
    /// <summary>The previous hash of the first entry.</summary>
    public static readonly string Genesis = new('0', 64);

    private const int InlineLimit = 256;

    // One buffer and writer per thread, reset per use: verify hashes a million entries without allocating for each.
    [ThreadStatic]
    private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer)? t_scratch;

    private static Utf8JsonWriter Scratch(out ArrayBufferWriter<byte> buffer)
    {
        t_scratch ??= (new ArrayBufferWriter<byte>(1024), null!);
        var (b, w) = t_scratch.Value;
        b.ResetWrittenCount();
        if (w is null)
        {
            w = new Utf8JsonWriter(b, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            t_scratch = (b, w);
        }
        else
        {
            w.Reset(b);
        }

        buffer = b;
        return w;
    }

    /// <summary>
    /// Inserts a row into an audited table and its audit entry, inside <paramref name="transaction"/> (from
    /// <see cref="RegistryDatabase.BeginWrite"/>). Returns the entry.
    /// </summary>
    public static AuditEntry Append(RegistryDatabase db, DbTransaction transaction, string table, string id, IReadOnlyDictionary<string, string?> row, string actor, string action)
    {
        var columns = RegistryDatabase.Tables[table];
        var (lastSeq, lastHash) = Tail(db, transaction);
        var seq = lastSeq + 1;
        var at = RegistryDatabase.Now();
        var details = Details(id, columns.Select(c => row.TryGetValue(c, out var v) ? v : null));
        var subject = $"{table}/{id}";
        var hash = Hash(lastHash, seq, at, actor, action, subject, details);

        var names = string.Join(", ", columns);
        var values = string.Join(", ", columns.Select(c => "@" + c));
        var parameters = columns.Select(c => (c, (object?)(row.TryGetValue(c, out var v) ? v : null))).Append(("id", id)).Append(("audit_seq", seq)).ToArray();
        db.Execute($"INSERT INTO {table} (id, {names}, audit_seq) VALUES (@id, {values}, @audit_seq)", transaction, parameters);
        db.Execute("INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) VALUES (@seq, @at, @actor, @action, @subject, @details, @prev, @hash)", transaction,
            ("seq", seq), ("at", at), ("actor", actor), ("action", action), ("subject", subject), ("details", details), ("prev", lastHash), ("hash", hash));
        return new AuditEntry(seq, at, actor, action, subject, details, lastHash, hash);
    }

    /// <summary>
    /// Walks the chain in order, then checks every audited row against the entry that wrote it and every entry
    /// against its row. Stops at the first problem. Memory does not grow with the log.
    /// </summary>
    public static AuditVerification Verify(RegistryDatabase db, string? expectedHead = null)
    {
        long count = 0;
        var previous = Genesis;
        using (var command = db.Command("SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log ORDER BY seq", null))
        using (var reader = command.ExecuteReader())
        {
            var expected = 1L;
            while (reader.Read())
            {
                var e = Read(reader);
                count++;
                if (e.Seq != expected)
                {
                    return new AuditVerification(count, previous, expected, e.Seq > expected
                        ? $"entries {expected}..{e.Seq - 1} are missing (deleted)"
                        : $"entry {e.Seq} is out of sequence");
                }

                if (e.PrevHash != previous)
                {
                    return new AuditVerification(count, previous, e.Seq, $"entry {e.Seq} does not follow entry {e.Seq - 1} (an entry was inserted, deleted or reordered)");
                }

                if (Hash(e.PrevHash, e.Seq, e.At, e.Actor, e.Action, e.Subject, e.Details) != e.Hash)
                {
                    return new AuditVerification(count, previous, e.Seq, $"entry {e.Seq} ({e.Action} {e.Subject}) was edited: its content does not match its hash");
                }

                previous = e.Hash;
                expected++;
            }
        }

        if (expectedHead is not null && !string.Equals(expectedHead, previous, StringComparison.OrdinalIgnoreCase))
        {
            return new AuditVerification(count, previous, count + 1, $"the log ends at {Short(previous)} after {count} entries, not at the published head {Short(expectedHead)} (entries were removed from the end, or the chain was rewritten)");
        }

        // Rows against entries, in storage order; the lowest bad entry is reported.
        (long Seq, string Problem)? worst = null;
        void Bad(long seq, string problem)
        {
            if (worst is null || seq < worst.Value.Seq) worst = (seq, problem);
        }

        foreach (var (table, columns) in RegistryDatabase.Tables)
        {
            var select = string.Join(", ", columns.Select(c => "t." + c));
            using (var command = db.Command($"SELECT t.id, {select}, t.audit_seq, a.subject, a.details FROM {table} t LEFT JOIN audit_log a ON a.seq = t.audit_seq", null))
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    var id = reader.GetString(0);
                    var values = Enumerable.Range(1, columns.Length).Select(i => reader.IsDBNull(i) ? null : reader.GetString(i)).ToList();
                    var seq = reader.GetInt64(columns.Length + 1);
                    var subject = reader.IsDBNull(columns.Length + 2) ? null : reader.GetString(columns.Length + 2);
                    if (subject is null || subject.Length != table.Length + 1 + id.Length || !subject.StartsWith(table, StringComparison.Ordinal) || !subject.EndsWith(id, StringComparison.Ordinal) || subject[table.Length] != '/')
                    {
                        Bad(seq, $"{table}/{id} has no audit entry of its own (row inserted outside drydock)");
                    }
                    else if (reader.GetString(columns.Length + 3) != Details(id, values))
                    {
                        Bad(seq, $"{table}/{id} differs from what audit entry {seq} recorded (row edited outside drydock)");
                    }
                }
            }

            using (var command = db.Command($"SELECT a.seq, a.subject FROM audit_log a WHERE SUBSTR(a.subject, 1, @n) = @prefix AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.audit_seq = a.seq) ORDER BY a.seq", null,
                ("n", table.Length + 1), ("prefix", table + "/")))
            using (var reader = command.ExecuteReader())
            {
                if (reader.Read())
                {
                    Bad(reader.GetInt64(0), $"audit entry {reader.GetInt64(0)} records {reader.GetString(1)}, which is gone (row deleted outside drydock)");
                }
            }
        }

        return worst is { } w ? new AuditVerification(count, previous, w.Seq, w.Problem) : new AuditVerification(count, previous, null, null);
    }

    /// <summary>
    /// Why the rows of one audited table (all of them, or the one row <paramref name="id"/>) cannot be trusted, or null:
    /// a row without an entry of its own, a row that differs from what its entry recorded, an entry whose content does
    /// not match its hash or that the next entry does not follow, or (for the whole table) an entry whose row is gone.
    /// What an access decision reads is checked this way before it is used, without walking the whole chain; a chain
    /// rewritten from the row's entry onward is left to <see cref="Verify"/> and the witness.
    /// </summary>
    public static string? RowsProblem(RegistryDatabase db, string table, string? id = null)
    {
        ArgumentNullException.ThrowIfNull(db);
        var columns = RegistryDatabase.Tables[table];
        var select = string.Join(", ", columns.Select(c => "t." + c));
        var sql = $"SELECT t.id, {select}, t.audit_seq, a.seq, a.at, a.actor, a.action, a.subject, a.details, a.prev_hash, a.hash, n.prev_hash FROM {table} t "
            + "LEFT JOIN audit_log a ON a.seq = t.audit_seq LEFT JOIN audit_log n ON n.seq = t.audit_seq + 1" + (id is null ? "" : " WHERE t.id = @id") + " ORDER BY t.audit_seq";
        using (var command = db.Command(sql, null, id is null ? [] : [("id", id)]))
        using (var r = command.ExecuteReader())
        {
            var n = columns.Length;
            while (r.Read())
            {
                var rowId = r.GetString(0);
                var values = Enumerable.Range(1, n).Select(i => r.IsDBNull(i) ? null : r.GetString(i)).ToList();
                var subject = $"{table}/{rowId}";
                if (r.IsDBNull(n + 2) || r.GetString(n + 6) != subject) return $"{subject} has no audit entry of its own (row inserted outside drydock)";
                var entry = new AuditEntry(r.GetInt64(n + 2), r.GetString(n + 3), r.GetString(n + 4), r.GetString(n + 5), subject, r.GetString(n + 7), r.GetString(n + 8), r.GetString(n + 9));
                if (entry.Details != Details(rowId, values)) return $"{subject} differs from what audit entry {entry.Seq} recorded (row edited outside drydock)";
                if (Hash(entry.PrevHash, entry.Seq, entry.At, entry.Actor, entry.Action, entry.Subject, entry.Details) != entry.Hash) return $"audit entry {entry.Seq} ({entry.Action} {subject}) was edited: its content does not match its hash";
                if (!r.IsDBNull(n + 10) && r.GetString(n + 10) != entry.Hash) return $"audit entry {entry.Seq + 1} does not follow entry {entry.Seq} ({entry.Action} {subject}): the log was rewritten there";
            }
        }

        if (id is not null) return null;
        var subjectColumn = db.IsPostgres ? "a.subject COLLATE \"C\"" : "a.subject"; // byte order: '/' sorts just before '0'
        using (var command = db.Command($"SELECT a.seq, a.subject FROM audit_log a WHERE {subjectColumn} >= @from AND {subjectColumn} < @to AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.audit_seq = a.seq) ORDER BY a.seq", null,
            ("from", table + "/"), ("to", table + "0")))
        using (var r = command.ExecuteReader())
        {
            if (r.Read()) return $"audit entry {r.GetInt64(0)} records {r.GetString(1)}, which is gone (row deleted outside drydock)";
        }

        return null;
    }

    /// <summary>Entries matching <paramref name="filter"/>, newest first.</summary>
    public static IReadOnlyList<AuditEntry> Query(RegistryDatabase db, AuditFilter filter)
    {
        var where = new List<string>();
        var parameters = new List<(string, object?)>();
        if (filter.Subject is not null) { where.Add("(subject = @subject OR subject LIKE @subjectLike)"); parameters.Add(("subject", filter.Subject)); parameters.Add(("subjectLike", "%/" + filter.Subject)); }
        if (filter.Actor is not null) { where.Add("actor = @actor"); parameters.Add(("actor", filter.Actor)); }
        if (filter.Action is not null) { where.Add("action = @action"); parameters.Add(("action", filter.Action)); }
        if (filter.Since is not null) { where.Add("at >= @since"); parameters.Add(("since", filter.Since)); }
        parameters.Add(("limit", (long)filter.Limit));
        var sql = "SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log"
            + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "") + " ORDER BY seq DESC LIMIT @limit";
        using var command = db.Command(sql, null, [.. parameters]);
        using var reader = command.ExecuteReader();
        var entries = new List<AuditEntry>();
        while (reader.Read()) entries.Add(Read(reader));
        return entries;
    }

    /// <summary>The canonical details of a row.</summary>
    public static string Details(string id, IEnumerable<string?> values)
    {
        var w = Scratch(out var buffer);
        {
            w.WriteStartArray();
            w.WriteStringValue(id);
            foreach (var value in values)
            {
                if (value is null) w.WriteNullValue();
                else if (value.Length > InlineLimit) w.WriteStringValue("sha256:" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(value))));
                else w.WriteStringValue(value);
            }

            w.WriteEndArray();
            w.Flush();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>An entry's hash.</summary>
    public static string Hash(string prev, long seq, string at, string actor, string action, string subject, string details)
    {
        // Escaping does not matter for a hash as long as it never changes: the relaxed encoder is part of the format.
        var w = Scratch(out var buffer);
        {
            w.WriteStartArray();
            w.WriteStringValue(prev);
            w.WriteNumberValue(seq);
            w.WriteStringValue(at);
            w.WriteStringValue(actor);
            w.WriteStringValue(action);
            w.WriteStringValue(subject);
            w.WriteStringValue(details);
            w.WriteEndArray();
            w.Flush();
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }

    private static (long Seq, string Hash) Tail(RegistryDatabase db, DbTransaction transaction)
    {
        using var command = db.Command("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", transaction);
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetString(1)) : (0, Genesis);
    }

    private static AuditEntry Read(DbDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6), r.GetString(7));

    private static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;
}
