using System.Data.Common;
using Drydock.Datasets.Output;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Drydock.Provenance.Registry;

/// <summary>A registry problem the user can fix (bad location, unknown id): exit code 2.</summary>
public sealed class RegistryException(string message) : Exception(message);

/// <summary>
/// The registry's storage: one SQLite file (the default, <c>.drydock/registry.db</c>) or a PostgreSQL database, with
/// the same schema and versioned migrations. Every table is append-only and every row is written with the audit
/// entry that records it, in one transaction (see <see cref="Audit.AuditLog"/>).
/// </summary>
public sealed class RegistryDatabase : IDisposable
{
    // Each migration runs once, in order, inside a transaction, and is recorded in schema_migrations.
    private static readonly (int Version, string Name, string Sql)[] s_migrations =
    [
        (1, "registry", """
            CREATE TABLE audit_log (seq BIGINT PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
            CREATE TABLE sources (id TEXT PRIMARY KEY, path TEXT NOT NULL, classification TEXT NOT NULL, trust TEXT NOT NULL, owner TEXT, audit_seq BIGINT NOT NULL);
            CREATE TABLE datasets (id TEXT PRIMARY KEY, version TEXT NOT NULL, name TEXT NOT NULL, project TEXT NOT NULL, use_case TEXT NOT NULL, classification TEXT NOT NULL, max_classification TEXT NOT NULL, records TEXT NOT NULL, manifest_sha256 TEXT NOT NULL, ledger_sha256 TEXT NOT NULL, parents TEXT NOT NULL, sources TEXT NOT NULL, manifest TEXT NOT NULL, envelope TEXT, registered_by TEXT NOT NULL, registered_at TEXT NOT NULL, audit_seq BIGINT NOT NULL);
            CREATE TABLE threat_models (id TEXT PRIMARY KEY, project TEXT NOT NULL, sha256 TEXT NOT NULL, content TEXT NOT NULL, registered_by TEXT NOT NULL, registered_at TEXT NOT NULL, audit_seq BIGINT NOT NULL);
            CREATE TABLE models (id TEXT PRIMARY KEY, name TEXT NOT NULL, digest TEXT NOT NULL, base_model TEXT, files TEXT NOT NULL, envelope TEXT, registered_by TEXT NOT NULL, registered_at TEXT NOT NULL, audit_seq BIGINT NOT NULL);
            CREATE TABLE model_datasets (id TEXT PRIMARY KEY, model_id TEXT NOT NULL, dataset_id TEXT NOT NULL, audit_seq BIGINT NOT NULL);
            CREATE TABLE approvals (id TEXT PRIMARY KEY, subject_kind TEXT NOT NULL, subject_id TEXT NOT NULL, role TEXT NOT NULL, decision TEXT NOT NULL, comment TEXT, actor TEXT NOT NULL, at TEXT NOT NULL, audit_seq BIGINT NOT NULL);
            CREATE INDEX datasets_version ON datasets (version);
            CREATE INDEX datasets_audit ON datasets (audit_seq);
            CREATE INDEX sources_audit ON sources (audit_seq);
            CREATE INDEX threat_models_project ON threat_models (project, audit_seq);
            CREATE INDEX models_audit ON models (audit_seq);
            CREATE INDEX model_datasets_dataset ON model_datasets (dataset_id);
            CREATE INDEX model_datasets_model ON model_datasets (model_id);
            CREATE INDEX model_datasets_audit ON model_datasets (audit_seq);
            CREATE INDEX approvals_subject ON approvals (subject_kind, subject_id);
            CREATE INDEX approvals_audit ON approvals (audit_seq);
            CREATE INDEX audit_subject ON audit_log (subject);
            """),
        (2, "review-decisions", """
            CREATE TABLE review_decisions (id TEXT PRIMARY KEY, record_sha256 TEXT NOT NULL, file TEXT, line TEXT, review_id TEXT, reviewer TEXT NOT NULL, decision TEXT NOT NULL, note TEXT, actor TEXT NOT NULL, at TEXT NOT NULL, audit_seq BIGINT NOT NULL);
            CREATE INDEX review_decisions_record ON review_decisions (record_sha256);
            CREATE INDEX review_decisions_audit ON review_decisions (audit_seq);
            """),
        (3, "operations", """
            CREATE TABLE canaries (id TEXT PRIMARY KEY, label TEXT NOT NULL, sha256 TEXT NOT NULL, dataset_id TEXT, created_by TEXT NOT NULL, created_at TEXT NOT NULL, audit_seq BIGINT NOT NULL);
            CREATE TABLE deployments (id TEXT PRIMARY KEY, alias TEXT NOT NULL, action TEXT NOT NULL, model_id TEXT, upstream_model TEXT, reason TEXT, actor TEXT NOT NULL, at TEXT NOT NULL, audit_seq BIGINT NOT NULL);
            CREATE TABLE incident_events (id TEXT PRIMARY KEY, incident_id TEXT NOT NULL, action TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL, subject TEXT NOT NULL, note TEXT, actor TEXT NOT NULL, at TEXT NOT NULL, audit_seq BIGINT NOT NULL);
            CREATE INDEX canaries_audit ON canaries (audit_seq);
            CREATE INDEX deployments_alias ON deployments (alias, audit_seq);
            CREATE INDEX deployments_audit ON deployments (audit_seq);
            CREATE INDEX incident_events_incident ON incident_events (incident_id, audit_seq);
            CREATE INDEX incident_events_audit ON incident_events (audit_seq);
            """),
        (4, "evaluations", """
            CREATE TABLE evaluations (id TEXT PRIMARY KEY, model_id TEXT NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL, metrics TEXT NOT NULL, report_sha256 TEXT, actor TEXT NOT NULL, at TEXT NOT NULL, audit_seq BIGINT NOT NULL);
            CREATE TABLE gate_decisions (id TEXT PRIMARY KEY, model_id TEXT NOT NULL, decision TEXT NOT NULL, base_model_id TEXT, checks TEXT NOT NULL, envelope TEXT, actor TEXT NOT NULL, at TEXT NOT NULL, audit_seq BIGINT NOT NULL);
            CREATE INDEX evaluations_model ON evaluations (model_id, audit_seq);
            CREATE INDEX evaluations_audit ON evaluations (audit_seq);
            CREATE INDEX gate_decisions_model ON gate_decisions (model_id, audit_seq);
            CREATE INDEX gate_decisions_audit ON gate_decisions (audit_seq);
            """),
        (5, "training-plans", """
            CREATE TABLE training_plans (id TEXT PRIMARY KEY, dataset_id TEXT NOT NULL, base_sha256 TEXT NOT NULL, method TEXT NOT NULL, plan TEXT NOT NULL, plan_sha256 TEXT NOT NULL, envelope TEXT, actor TEXT NOT NULL, at TEXT NOT NULL, audit_seq BIGINT NOT NULL);
            CREATE INDEX training_plans_dataset ON training_plans (dataset_id, audit_seq);
            CREATE INDEX training_plans_audit ON training_plans (audit_seq);
            """),
        (6, "api-key-events", """
            CREATE TABLE api_key_events (id TEXT PRIMARY KEY, key_id TEXT NOT NULL, action TEXT NOT NULL, store TEXT NOT NULL, name TEXT NOT NULL, tier TEXT NOT NULL, models TEXT NOT NULL, created TEXT NOT NULL, expires TEXT, revoked TEXT, fingerprint TEXT NOT NULL, reason TEXT, actor TEXT NOT NULL, at TEXT NOT NULL, audit_seq BIGINT NOT NULL);
            CREATE INDEX api_key_events_key ON api_key_events (key_id, audit_seq);
            CREATE INDEX api_key_events_audit ON api_key_events (audit_seq);
            """),
        (7, "evaluation-evidence", """
            CREATE TABLE evaluation_evidence (id TEXT PRIMARY KEY, evaluation_id TEXT NOT NULL, fingerprint TEXT NOT NULL, status TEXT NOT NULL, evidence TEXT NOT NULL, audit_seq BIGINT NOT NULL);
            CREATE INDEX evaluation_evidence_evaluation ON evaluation_evidence (evaluation_id);
            CREATE INDEX evaluation_evidence_audit ON evaluation_evidence (audit_seq);
            """),
        (8, "registry-identity", """
            CREATE TABLE registry_identity (name TEXT PRIMARY KEY, value TEXT NOT NULL)
            """),
        (9, "tripwire-indexes", """
            CREATE TABLE tripwire_indexes (id TEXT PRIMARY KEY, model_id TEXT NOT NULL, alias TEXT NOT NULL, file TEXT NOT NULL, sha256 TEXT NOT NULL, records TEXT NOT NULL, datasets TEXT NOT NULL, selection TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL, audit_seq BIGINT NOT NULL);
            CREATE INDEX tripwire_indexes_model ON tripwire_indexes (model_id, audit_seq);
            CREATE INDEX tripwire_indexes_audit ON tripwire_indexes (audit_seq);
            """),
        (10, "actors", """
            CREATE TABLE actor_events (id TEXT PRIMARY KEY, name TEXT NOT NULL, action TEXT NOT NULL, roles TEXT NOT NULL, public_key TEXT, key_id TEXT, expires TEXT, reason TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL, audit_seq BIGINT NOT NULL);
            CREATE TABLE access_decisions (id TEXT PRIMARY KEY, actor TEXT NOT NULL, verb TEXT NOT NULL, role TEXT, decision TEXT NOT NULL, reason TEXT NOT NULL, challenge_sha256 TEXT, at TEXT NOT NULL, audit_seq BIGINT NOT NULL);
            CREATE INDEX actor_events_name ON actor_events (name, audit_seq);
            CREATE INDEX actor_events_audit ON actor_events (audit_seq);
            CREATE INDEX access_decisions_audit ON access_decisions (audit_seq)
            """),
        (11, "signal-summaries", """
            CREATE TABLE signal_summaries (hour BIGINT NOT NULL, alias TEXT NOT NULL, tier TEXT NOT NULL, key_id TEXT NOT NULL, summary TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (hour, alias, tier, key_id))
            """),
    ];

    /// <summary>The audited tables and their columns (after <c>id</c>), in the order their audit details list them.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Tables = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["sources"] = ["path", "classification", "trust", "owner"],
        ["datasets"] = ["version", "name", "project", "use_case", "classification", "max_classification", "records", "manifest_sha256", "ledger_sha256", "parents", "sources", "manifest", "envelope", "registered_by", "registered_at"],
        ["threat_models"] = ["project", "sha256", "content", "registered_by", "registered_at"],
        ["models"] = ["name", "digest", "base_model", "files", "envelope", "registered_by", "registered_at"],
        ["model_datasets"] = ["model_id", "dataset_id"],
        ["approvals"] = ["subject_kind", "subject_id", "role", "decision", "comment", "actor", "at"],
        ["review_decisions"] = ["record_sha256", "file", "line", "review_id", "reviewer", "decision", "note", "actor", "at"],
        ["canaries"] = ["label", "sha256", "dataset_id", "created_by", "created_at"],
        ["deployments"] = ["alias", "action", "model_id", "upstream_model", "reason", "actor", "at"],
        ["incident_events"] = ["incident_id", "action", "kind", "severity", "subject", "note", "actor", "at"],
        ["evaluations"] = ["model_id", "kind", "target", "metrics", "report_sha256", "actor", "at"],
        ["evaluation_evidence"] = ["evaluation_id", "fingerprint", "status", "evidence"],
        ["gate_decisions"] = ["model_id", "decision", "base_model_id", "checks", "envelope", "actor", "at"],
        ["training_plans"] = ["dataset_id", "base_sha256", "method", "plan", "plan_sha256", "envelope", "actor", "at"],
        ["tripwire_indexes"] = ["model_id", "alias", "file", "sha256", "records", "datasets", "selection", "actor", "at"],
        ["api_key_events"] = ["key_id", "action", "store", "name", "tier", "models", "created", "expires", "revoked", "fingerprint", "reason", "actor", "at"],
        ["actor_events"] = ["name", "action", "roles", "public_key", "key_id", "expires", "reason", "actor", "at"],
        ["access_decisions"] = ["actor", "verb", "role", "decision", "reason", "challenge_sha256", "at"],
    };

    private readonly IDisposable? _dataSource;

    private RegistryDatabase(DbConnection connection, bool postgres, string display, IDisposable? dataSource = null, string? sqliteFile = null)
    {
        _dataSource = dataSource;
        Connection = connection;
        IsPostgres = postgres;
        Display = display;
        SqliteFile = sqliteFile;
    }

    /// <summary>The SQLite file (full path); null for PostgreSQL.</summary>
    public string? SqliteFile { get; }

    /// <summary>The open connection.</summary>
    public DbConnection Connection { get; }

    /// <summary>True for PostgreSQL.</summary>
    public bool IsPostgres { get; }

    /// <summary>Where it is, without any password.</summary>
    public string Display { get; }

    /// <summary>
    /// Why <paramref name="location"/> is neither a PostgreSQL URL or Npgsql connection string nor a SQLite file path, or
    /// null: empty, a URL of another scheme (<c>file:/…</c>, <c>sqlite://…</c>, <c>https://…</c>), or a connection
    /// string that does not begin with <c>Host=</c>, which would otherwise be taken as a relative file name and start a
    /// new, empty registry without a word.
    /// </summary>
    public static string? LocationProblem(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (location.Trim().Length == 0) return "the registry location is empty";
        if (IsPostgresLocation(location)) return null;
        var colon = location.IndexOf(':', StringComparison.Ordinal);
        // A scheme is two or more letters, digits, '+', '-' or '.' before a colon, starting with a letter (C:\ is a drive).
        if (colon >= 2 && char.IsAsciiLetter(location[0]) && location[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))
        {
            return $"the registry location is a URL of scheme '{location[..colon]}:', which is not a registry (the rest is not shown: it may hold a password): give a SQLite file path (.drydock/registry.db) or postgres://user@host:port/db";
        }

        // An Npgsql connection string is told by its first key; one that begins with another key would be a file name.
        // (Not echoed: it may hold a password.)
        var equals = location.IndexOf('=', StringComparison.Ordinal);
        if (equals >= 2 && location.Contains(';', StringComparison.Ordinal) && location[..equals].All(c => char.IsAsciiLetter(c) || c == ' '))
        {
            return "the registry location looks like an Npgsql connection string (key=value;…) but does not begin with Host=, so it would be taken as a file name and start an empty registry: put Host=… first, or give postgres://user@host:port/db";
        }

        return null;
    }

    /// <summary>A registry location as messages may show it: a PostgreSQL one without its password, a file path as it is.</summary>
    public static string Shown(string location)
    {
        if (!IsPostgresLocation(location)) return location;
        try
        {
            return Shown(location.StartsWith("Host=", StringComparison.OrdinalIgnoreCase) ? new NpgsqlConnectionStringBuilder(location) : FromUrl(location));
        }
        catch (Exception e) when (e is ArgumentException or RegistryException or FormatException)
        {
            return "(a PostgreSQL registry whose location cannot be read)";
        }
    }

    private static string Shown(NpgsqlConnectionStringBuilder builder) => $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";

    /// <summary>
    /// Opens (creating and migrating as needed) the registry at <paramref name="location"/>: a <c>postgres://</c> or
    /// <c>postgresql://</c> URL, an Npgsql connection string (<c>Host=…</c>), or a SQLite file path.
    /// </summary>
    public static RegistryDatabase Open(string location)
    {
        RegistryDatabase database;
        if (IsPostgresLocation(location))
        {
            var builder = location.StartsWith("Host=", StringComparison.OrdinalIgnoreCase) ? new NpgsqlConnectionStringBuilder(location) : FromUrl(location);
            var display = Shown(builder);
            var source = new NpgsqlSlimDataSourceBuilder(builder.ConnectionString).Build();
            NpgsqlConnection connection;
            try
            {
                connection = source.OpenConnection();
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                source.Dispose();
                throw new RegistryException($"cannot connect to the registry at {display}: {e.Message}");
            }

            database = new RegistryDatabase(connection, postgres: true, display, source);
        }
        else
        {
            if (LocationProblem(location) is { } problem) throw new RegistryException(problem);
            var full = Path.GetFullPath(location);
            OwnerOnly(full);
            var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = full, Pooling = false }.ConnectionString);
            try
            {
                connection.Open();
            }
            catch (SqliteException e)
            {
                throw new RegistryException($"cannot open the registry at {full}: {e.Message}");
            }

            database = new RegistryDatabase(connection, postgres: false, full, sqliteFile: full);
            database.Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;");
        }

        database.Migrate();
        return database;
    }

    private static bool IsPostgresLocation(string location) =>
        location.StartsWith("postgres://", StringComparison.Ordinal) || location.StartsWith("postgresql://", StringComparison.Ordinal) || location.StartsWith("Host=", StringComparison.OrdinalIgnoreCase);

    // The registry holds approvals, incidents and the audit log: its folder is created 0700 and its file 0600 (SQLite
    // gives its -wal and -shm files the database file's mode); a file found open to others is closed to them.
    private static void OwnerOnly(string full)
    {
        var folder = Path.GetDirectoryName(full)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
            return;
        }

        OwnerOnlyFolder.Create(folder);
        try
        {
            // An empty file is an empty SQLite database.
            using var created = new FileStream(full, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite });
        }
        catch (IOException) when (File.Exists(full))
        {
        }

        foreach (var path in new[] { full, full + "-wal", full + "-shm" })
        {
            if (File.Exists(path)) OwnerOnlyFolder.Close(path);
        }
    }

    /// <summary>Runs the migrations not yet applied; returns how many ran.</summary>
    public int Migrate()
    {
        Execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
        var applied = 0;
        foreach (var (version, name, sql) in s_migrations)
        {
            using var transaction = Connection.BeginTransaction();
            if (IsPostgres) Execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE", transaction);
            if (Scalar("SELECT COUNT(*) FROM schema_migrations WHERE version = @v", transaction, ("v", version)) is long and > 0) continue;
            foreach (var statement in sql.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                Execute(statement, transaction);
            }

            Execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, @n, @a)", transaction, ("v", version), ("n", name), ("a", Now()));
            transaction.Commit();
            applied++;
        }

        // The registry's identity: random, made once; a copy of the registry keeps it (the audit witness is keyed by it).
        Execute("INSERT INTO registry_identity (name, value) VALUES ('id', @v) ON CONFLICT (name) DO NOTHING", null, ("v", Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16))));
        return applied;
    }

    /// <summary>The registry's identity: a random id made when it was created (or migrated), kept by any copy of it.</summary>
    public string Identity => Scalar("SELECT value FROM registry_identity WHERE name = 'id'", null) as string ?? throw new RegistryException("the registry has no identity");

    /// <summary>The schema version.</summary>
    public long SchemaVersion => Scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", null) is { } v ? Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture) : 0;

    /// <summary>Runs a statement.</summary>
    public int Execute(string sql, DbTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, transaction, parameters);
        return command.ExecuteNonQuery();
    }

    /// <summary>Runs a query returning one value (as long for integers).</summary>
    public object? Scalar(string sql, DbTransaction? transaction, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, transaction, parameters);
        var value = command.ExecuteScalar();
        return value switch
        {
            null or DBNull => null,
            int i => (long)i,
            _ => value,
        };
    }

    /// <summary>A command with parameters (named <c>@name</c> in both backends).</summary>
    public DbCommand Command(string sql, DbTransaction? transaction, params (string Name, object? Value)[] parameters)
    {
        var command = Connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            var p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            command.Parameters.Add(p);
        }

        return command;
    }

    /// <summary>Starts a write transaction that holds the audit log's tail until commit.</summary>
    public DbTransaction BeginWrite()
    {
        var transaction = Connection.BeginTransaction(); // SQLite: BEGIN IMMEDIATE (one writer at a time)
        if (IsPostgres) Execute("LOCK TABLE audit_log IN EXCLUSIVE MODE", transaction);
        return transaction;
    }

    /// <summary>
    /// Commits a write that appended audit entries, then moves the audit witness (kept outside the project) up to the
    /// log's new head, so that deleting those entries from the end of the log later is found. Before committing, still
    /// under the write's lock, the log with the new entries must hold the witnessed entry: a write on a log whose newest
    /// entries were deleted (or that was put back from an older copy) is rolled back and refused
    /// (<see cref="RegistryException"/> naming the witnessed entry), so nothing is written past a cut that would later
    /// fail <c>drydock audit verify</c>. Returns why the witness was not moved (also kept in <see cref="WitnessProblem"/>), or null.
    /// </summary>
    internal string? CommitWrite(DbTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var (problem, move) = Audit.AuditWitness.BeforeCommit(this, transaction);
        if (problem is not null)
        {
            transaction.Rollback();
            throw new RegistryException($"refused: nothing was written: {problem}; run 'drydock audit verify'");
        }

        transaction.Commit();
        return WitnessProblem = Audit.AuditWitness.Moved(this, move, DateTimeOffset.UtcNow);
    }

    /// <summary>Why the last <see cref="CommitWrite"/> could not move the audit witness, or null.</summary>
    internal string? WitnessProblem { get; private set; }

    /// <summary>UTC now, to the millisecond, ISO 8601.</summary>
    public static string Now() => DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public void Dispose()
    {
        Connection.Dispose();
        _dataSource?.Dispose();
    }

    private static NpgsqlConnectionStringBuilder FromUrl(string url)
    {
        Uri uri;
        try
        {
            uri = new Uri(url);
        }
        catch (UriFormatException e)
        {
            throw new RegistryException($"registry URL is not valid: {e.Message}");
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')) is { Length: > 0 } db ? db : "drydock",
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2) builder.Password = Uri.UnescapeDataString(parts[1]);
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            if (kv.Length == 2 && kv[0] == "sslmode") builder.SslMode = Enum.TryParse<SslMode>(kv[1], ignoreCase: true, out var mode) ? mode : SslMode.Prefer;
        }

        return builder;
    }
}
