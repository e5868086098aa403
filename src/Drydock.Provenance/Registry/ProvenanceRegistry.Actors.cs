using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Drydock.Provenance.Audit;
using NSec.Cryptography;

namespace Drydock.Provenance.Registry;

/// <summary>The roles an actor can be granted (see docs/identity.md for what each may do).</summary>
public static class ActorRoles
{
    /// <summary>Every role, least to most privileged.</summary>
    public static readonly IReadOnlyList<string> All = ["viewer", "data-owner", "security-reviewer", "ml-engineer", "release-manager", "incident-responder", "auditor", "admin"];

    // The actions both the CLI and the gateway's admin API offer: one list each, which both role tables use.

    /// <summary>Revoke an API key: <c>drydock keys revoke</c>, <c>incident contain --key</c>, <c>POST /admin/keys/revoke</c> (containment, so the incident responder too).</summary>
    public static readonly IReadOnlyList<string> KeyRevokeRoles = ["incident-responder", "admin"];

    /// <summary>Contain a model (kill switch, revert): <c>drydock incident contain</c>, <c>POST /admin/contain</c>.</summary>
    public static readonly IReadOnlyList<string> ContainRoles = ["incident-responder", "admin"];

    /// <summary>Serve a contained alias again: <c>drydock deploy ALIAS --enable</c>, <c>POST /admin/enable</c>.</summary>
    public static readonly IReadOnlyList<string> EnableRoles = ["release-manager", "incident-responder", "admin"];

    /// <summary>Read the request log: <c>drydock audit requests</c>, <c>GET /admin/requests</c>.</summary>
    public static readonly IReadOnlyList<string> RequestLogRoles = ["security-reviewer", "incident-responder", "auditor", "admin"];

    /// <summary>Read incidents: <c>drydock incident list|show</c>, <c>GET /admin/incidents</c>.</summary>
    public static readonly IReadOnlyList<string> IncidentReadRoles = ["security-reviewer", "incident-responder", "auditor", "admin"];

    /// <summary>The longest grant: one year.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(366);
}

/// <summary>
/// An actor's standing grant: its roles, its Ed25519 public key (raw, base64), when it expires, why it was granted and
/// by whom; <see cref="RevokedAt"/> once revoked.
/// </summary>
public sealed record ActorGrant(string Name, IReadOnlyList<string> Roles, string PublicKey, string KeyId, string Expires, string Reason, string GrantedBy, string At, string? RevokedAt, string? RevokedBy, string? RevokeReason)
{
    /// <summary><c>active</c>, <c>expired</c> or <c>revoked</c> at <paramref name="now"/>.</summary>
    public string State(DateTimeOffset now) =>
        RevokedAt is not null ? "revoked" : DateTimeOffset.Parse(Expires, CultureInfo.InvariantCulture) <= now ? "expired" : "active";
}

/// <summary>An actor that may not act: unknown, expired, revoked, or its signature does not verify (exit code 2).</summary>
public sealed class ActorRefusedException(string message) : Exception(message);

/// <summary>Actor keys and grants (CLI access control), and every access decision: each a row with its audit entry.</summary>
public sealed partial class ProvenanceRegistry
{
    private static readonly Regex s_actorName = new(@"^[a-z0-9][a-z0-9._-]{0,63}\z", RegexOptions.CultureInvariant);

    /// <summary>Why <paramref name="name"/> cannot name an actor, or null.</summary>
    public static string? ActorNameProblem(string name) =>
        name is not null && s_actorName.IsMatch(name) ? null : "an actor name is 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit";

    /// <summary>
    /// Grants <paramref name="name"/> its roles until <paramref name="expires"/>, with its public key. A name whose grant
    /// is still active is refused (revoke it first). With <paramref name="bootstrap"/> the grant is the registry's first
    /// and is refused when any actor was ever granted; the check and the write are one transaction.
    /// </summary>
    public ActorGrant GrantActor(string name, IReadOnlyList<string> roles, PublicKey publicKey, DateTimeOffset expires, string reason, string grantedBy, bool bootstrap = false)
    {
        ArgumentNullException.ThrowIfNull(roles);
        ArgumentNullException.ThrowIfNull(publicKey);
        if (ActorNameProblem(name) is { } problem) throw new RegistryException($"actor '{name}': {problem}");
        if (roles.Count == 0) throw new RegistryException($"actor '{name}': at least one --role is needed");
        foreach (var role in roles)
        {
            if (!ActorRoles.All.Contains(role)) throw new RegistryException($"actor '{name}': no role '{role}'; roles: {string.Join(", ", ActorRoles.All)}");
        }

        if (string.IsNullOrWhiteSpace(reason)) throw new RegistryException($"actor '{name}': a grant needs a reason");
        var now = Time.GetUtcNow();
        if (expires <= now || expires - now > ActorRoles.MaxLifetime) throw new RegistryException($"actor '{name}': a grant expires in the future and within {ActorRoles.MaxLifetime.TotalDays:0} days");
        if (!bootstrap && FindActor(name) is { } existing && existing.State(now) == "active")
        {
            throw new RegistryException($"actor '{name}' already has an active grant (until {existing.Expires}); revoke it first");
        }

        var id = "ac-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var keyId = Signing.SigningKey.IdOf(publicKey);
        using (var transaction = Database.BeginWrite())
        {
            // One key, one person: a key another actor holds (or held) would let one key holder sign as two actors and
            // give both approvals that separation of duties asks of two people.
            using (var held = Database.Command("SELECT name FROM actor_events WHERE key_id = @key AND name <> @name LIMIT 1", transaction, ("key", keyId), ("name", name)))
            {
                if (held.ExecuteScalar() is string other) throw new RegistryException($"actor '{name}': the key {keyId} is held by actor '{other}'; every actor signs with a key of its own ('drydock actor keygen')");
            }

            if (bootstrap && Database.Scalar("SELECT COUNT(*) FROM actor_events", transaction) is long and > 0)
            {
                throw new RegistryException("the registry already has actors; 'actor bootstrap' creates only the first admin (ask an admin to run 'drydock actor create')");
            }

            var raw = publicKey.Export(KeyBlobFormat.RawPublicKey);
            AuditLog.Append(Database, transaction, "actor_events", id, new Dictionary<string, string?>
            {
                ["name"] = name, ["action"] = bootstrap ? "bootstrap" : "grant", ["roles"] = JsonSerializer.Serialize(roles.Distinct(StringComparer.Ordinal).ToArray(), ProvenanceJson.Default.StringArray),
                ["public_key"] = Convert.ToBase64String(raw), ["key_id"] = keyId,
                ["expires"] = expires.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture), ["reason"] = reason, ["actor"] = grantedBy, ["at"] = RegistryDatabase.Now(),
            }, grantedBy, bootstrap ? "actor.bootstrap" : "actor.grant");
            Database.CommitWrite(transaction);
        }

        return FindActor(name)!;
    }

    /// <summary>Revokes an actor's grant (recorded with who and why); refused when it has none or it is revoked already.</summary>
    public ActorGrant RevokeActor(string name, string reason, string revokedBy)
    {
        var grant = FindActor(name) ?? throw new RegistryException($"no actor '{name}'");
        if (grant.RevokedAt is not null) throw new RegistryException($"actor '{name}' was revoked already ({grant.RevokedAt} by {grant.RevokedBy})");
        if (string.IsNullOrWhiteSpace(reason)) throw new RegistryException($"actor '{name}': a revocation needs a reason");
        var id = "ac-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        using var transaction = Database.BeginWrite();
        AuditLog.Append(Database, transaction, "actor_events", id, new Dictionary<string, string?>
        {
            ["name"] = name, ["action"] = "revoke", ["roles"] = "[]", ["public_key"] = null, ["key_id"] = grant.KeyId, ["expires"] = null, ["reason"] = reason, ["actor"] = revokedBy, ["at"] = RegistryDatabase.Now(),
        }, revokedBy, "actor.revoke");
        Database.CommitWrite(transaction);
        return FindActor(name)!;
    }

    /// <summary>Every actor's latest grant (with its revocation, if any), by name.</summary>
    public IReadOnlyList<ActorGrant> Actors()
    {
        using var command = Database.Command("SELECT name, action, roles, public_key, key_id, expires, reason, actor, at FROM actor_events ORDER BY audit_seq", null);
        using var r = command.ExecuteReader();
        var grants = new SortedDictionary<string, ActorGrant>(StringComparer.Ordinal);
        while (r.Read())
        {
            var name = r.GetString(0);
            if (r.GetString(1) == "revoke")
            {
                if (grants.TryGetValue(name, out var g)) grants[name] = g with { RevokedAt = r.GetString(8), RevokedBy = r.GetString(7), RevokeReason = r.GetString(6) };
                continue;
            }

            var roles = JsonSerializer.Deserialize(r.GetString(2), ProvenanceJson.Default.StringArray) ?? [];
            grants[name] = new ActorGrant(name, roles, r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6), r.GetString(7), r.GetString(8), null, null, null);
        }

        return [.. grants.Values];
    }

    /// <summary>
    /// Why the actor records cannot be used for an access decision, or null: a grant or revocation row edited, added or
    /// deleted outside drydock (checked against the audit entry that wrote it).
    /// </summary>
    public string? ActorRecordsProblem() => AuditLog.RowsProblem(Database, "actor_events");

    /// <summary>
    /// Why the row of a registered <paramref name="kind"/> (<c>dataset</c> or <c>model</c>) with id <paramref name="id"/>
    /// cannot be used for an access decision (edited outside drydock), or null.
    /// </summary>
    public string? RegistrationProblem(string kind, string id) =>
        AuditLog.RowsProblem(Database, kind switch { "dataset" => "datasets", "model" => "models", _ => throw new ArgumentException($"no registered kind '{kind}'", nameof(kind)) }, id);

    /// <summary>An actor's latest grant, or null.</summary>
    public ActorGrant? FindActor(string name) => Actors().FirstOrDefault(a => a.Name == name);

    /// <summary>
    /// The grant of <paramref name="name"/> when its signature over <paramref name="challenge"/> verifies with the public
    /// key recorded for it and the grant is active at <paramref name="now"/>; otherwise an <see cref="ActorRefusedException"/>
    /// naming the actor and why. Every actor record is first checked against its audit entry (<see cref="ActorRecordsProblem"/>).
    /// </summary>
    public ActorGrant VerifyActor(string name, ReadOnlySpan<byte> challenge, ReadOnlySpan<byte> signature, DateTimeOffset now)
    {
        if (ActorRecordsProblem() is { } edited) throw new ActorRefusedException($"actor record edited outside drydock: {edited}; run 'drydock audit verify'");
        var grant = FindActor(name) ?? throw new ActorRefusedException($"actor '{name}' is not known to this registry (an admin grants it with 'drydock actor create')");
        if (grant.RevokedAt is not null) throw new ActorRefusedException($"actor '{name}' was revoked at {grant.RevokedAt} by {grant.RevokedBy}");
        if (grant.State(now) == "expired") throw new ActorRefusedException($"actor '{name}': its grant expired at {grant.Expires}");
        if (!PublicKey.TryImport(SignatureAlgorithm.Ed25519, Convert.FromBase64String(grant.PublicKey), KeyBlobFormat.RawPublicKey, out var key) || key is null)
        {
            throw new ActorRefusedException($"actor '{name}': the public key recorded for it cannot be read");
        }

        if (!Signing.SigningKey.Verify(key, challenge, signature))
        {
            throw new ActorRefusedException($"actor '{name}': the signature does not verify with its recorded key {grant.KeyId} (the key file used is not {name}'s)");
        }

        if (GrantChainProblem(name) is { } broken) throw new ActorRefusedException($"actor '{name}': the audit log does not hold from its grant to its head: {broken}; run 'drydock audit verify'");
        return grant;
    }

    /// <summary>
    /// Why the audit log's hash chain does not hold from the entry that granted <paramref name="name"/> its roles to the
    /// head, or null (<see cref="AuditChain.Check"/>: only the entries after the last head verified are walked).
    /// </summary>
    public string? GrantChainProblem(string name)
    {
        if (Database.Scalar("SELECT MAX(audit_seq) FROM actor_events WHERE name = @n AND action <> 'revoke'", null, ("n", name)) is not long seq) return $"no grant of '{name}' is in the log";
        try
        {
            return AuditChain.Check(Database, seq);
        }
        catch (Exception e) when (e is KeyRingException or IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
    }

    /// <summary>Records one access decision (<c>allowed</c> or <c>refused</c>): actor, verb, role used, why, and the SHA-256 of the signed challenge.</summary>
    public void RecordAccessDecision(string actor, string verb, string? role, bool allowed, string reason, string? challengeSha256)
    {
        var id = "acd-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var decision = allowed ? "allowed" : "refused";
        using var transaction = Database.BeginWrite();
        AuditLog.Append(Database, transaction, "access_decisions", id, new Dictionary<string, string?>
        {
            ["actor"] = actor, ["verb"] = verb, ["role"] = role, ["decision"] = decision, ["reason"] = reason, ["challenge_sha256"] = challengeSha256, ["at"] = RegistryDatabase.Now(),
        }, actor, $"access.{decision}");
        Database.CommitWrite(transaction);
    }
}

/// <summary>
/// Where actors' private keys live: outside the project, in the audit witness's folder (<c>$DRYDOCK_STATE_HOME</c>,
/// else <c>$XDG_STATE_HOME/drydock</c>, else <c>~/.local/state/drydock</c>), one owner-only folder per registry identity,
/// one owner-only PKCS#8 file per actor; <c>DRYDOCK_ACTOR_KEY</c> names another file.
/// </summary>
public static class ActorKeys
{
    /// <summary>The folder holding this registry's actor keys (refused inside the project, as the witness is).</summary>
    public static string FolderOf(RegistryDatabase db)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (AuditWitness.FolderProblem(db) is { } problem) throw new KeyRingException(problem);
        return Path.Combine(AuditWitness.Folder, "actors-id-" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(db.Identity)))[..16]);
    }

    /// <summary>The key file of <paramref name="name"/>: <c>DRYDOCK_ACTOR_KEY</c> when set, else NAME.key in <see cref="FolderOf"/>.</summary>
    public static string PathOf(RegistryDatabase db, string name) =>
        Environment.GetEnvironmentVariable("DRYDOCK_ACTOR_KEY") is { Length: > 0 } own ? own : Path.Combine(FolderOf(db), name + ".key");

    /// <summary>Creates a new key pair for <paramref name="name"/> in <see cref="FolderOf"/> (replacing an earlier one of a revoked or expired grant).</summary>
    public static Signing.SigningKey Create(RegistryDatabase db, string name)
    {
        if (ProvenanceRegistry.ActorNameProblem(name) is { } problem) throw new RegistryException($"actor '{name}': {problem}");
        var folder = FolderOf(db);
        Datasets.Output.OwnerOnlyFolder.Create(folder);
        var path = Path.Combine(folder, name + ".key");
        if (File.Exists(path)) File.Delete(path);
        if (File.Exists(path + ".pub")) File.Delete(path + ".pub");
        return Signing.SigningKey.Create(path);
    }
}
