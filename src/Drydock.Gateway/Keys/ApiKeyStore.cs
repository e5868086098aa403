using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Datasets.Output;
using Drydock.Detection.Configuration;
using Drydock.Provenance;
using Drydock.Provenance.Registry;
using Microsoft.Extensions.Logging;

namespace Drydock.Gateway.Keys;

/// <summary>A gateway API key's record: never the key itself, only its keyed hash.</summary>
public sealed record ApiKey(string Id, string Name, string Tier, IReadOnlyList<string> Models, string Created, string? Expires, string? Revoked, string Hash)
{
    /// <summary>True when the key may be used at <paramref name="now"/>.</summary>
    public bool Active(DateTimeOffset now) => Revoked is null && (Expires is null || DateTimeOffset.Parse(Expires, CultureInfo.InvariantCulture) > now);
}

/// <summary>A key file that cannot be read, fails its integrity check, or changed in a way drydock never writes it. Never carries key material.</summary>
public sealed class ApiKeyStoreException(string message) : IOException(message);

/// <summary>One change of the key store, for the audit log: <c>create</c>, <c>revoke</c> or <c>rotate</c>, with the key's record after it.</summary>
public sealed record ApiKeyChange(string Action, ApiKey Key, string Store, string? Reason);

/// <summary>Where key changes are recorded (the registry's audit log); a change is written to the key file only after it is recorded.</summary>
public interface IApiKeyJournal
{
    /// <summary>Records <paramref name="change"/>; throws when it cannot (the change is then not made).</summary>
    void Record(ApiKeyChange change);

    /// <summary>Whether any change of the key store <paramref name="store"/> is recorded already.</summary>
    bool HasEntries(string store);
}

/// <summary>Records key changes in the registry's hash-chained audit log, opening the registry for each change.</summary>
public sealed class RegistryApiKeyJournal(Func<ProvenanceRegistry> open, string actor) : IApiKeyJournal
{
    /// <inheritdoc />
    public void Record(ApiKeyChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        using var registry = open();
        registry.RecordApiKeyEvent(change.Action, ApiKeyStore.State(change.Key, change.Store), change.Reason, actor);
    }

    /// <inheritdoc />
    public bool HasEntries(string store)
    {
        using var registry = open();
        return registry.ApiKeyEvents().Any(e => e.Key.Store == store);
    }
}

/// <summary>How a key store is opened: where its changes are recorded, its clock, its log.</summary>
public sealed record ApiKeyStoreOptions
{
    /// <summary>Records every change before it is written; null records nothing (tests, a gateway without a registry).</summary>
    public IApiKeyJournal? Journal { get; init; }

    /// <summary>The clock (expiry, revocation stamps, how often the file is checked).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where a refused or reloaded key file is reported; null for nowhere.</summary>
    public ILogger? Log { get; init; }
}

/// <summary>
/// The local key store (<c>.drydock/keys/api-keys.json</c>, mode 0600, in a 0700 folder): keys look like
/// <c>ddk_&lt;id&gt;_&lt;secret&gt;</c>; the store holds the id (for lookup and logs) and HMAC-SHA256(pepper, key), the
/// pepper being a separate 0600 file. Verification is constant-time. The file carries an HMAC-SHA256 of its content
/// under a key derived from the pepper: a file edited by hand (a revocation removed, a tier or expiry changed, a key
/// added) is refused, and while it is refused no key is accepted. Writes are atomic and serialised across processes
/// by a lock file; each change is recorded in the journal first. The store re-reads the file when its content changes
/// (checked at most every 250 ms), so a key created, revoked or rotated by another process is seen within a second;
/// a running store also refuses a new file that un-revokes, changes or drops a key it has seen.
/// </summary>
public sealed partial class ApiKeyStore
{
    /// <summary>How often a running store looks at the file: well inside the second the docs promise.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(250);

    private const string Format = "drydock-api-keys/1";
    private const string FileName = "api-keys.json";

    // A key file of millions of keys is not a key file; reading it whole must not take all the memory.
    private const long MaxFileBytes = 64L << 20;

    private readonly string _path;
    private readonly string _lockPath;
    private readonly byte[] _pepper;
    private readonly byte[] _macKey;
    private readonly ApiKeyStoreOptions _options;
    private readonly Lock _lock = new();
    private Dictionary<string, ApiKey> _keys = new(StringComparer.Ordinal);
    private byte[] _seen = [];
    private long _checkedAt;
    private string? _problem;

    private readonly bool _legacy;

    private ApiKeyStore(string folder, byte[] pepper, ApiKeyStoreOptions options, bool legacy = false)
    {
        _legacy = legacy;
        _path = Path.GetFullPath(Path.Combine(folder, FileName));
        _lockPath = Path.Combine(folder, "api-keys.lock");
        _pepper = pepper;
        _macKey = DeriveKey("api-keys file");
        _options = options;
        StoreId = Convert.ToHexStringLower(DeriveKey("api-key store id"))[..16];
        var bytes = ReadFile();
        _keys = Parse(bytes);
        _seen = Digest(bytes);
        _checkedAt = options.Time.GetTimestamp();
    }

    /// <summary>The file that holds the keys.</summary>
    public string FilePath => _path;

    /// <summary>This store's name in audit entries (derived from the pepper; says nothing about it).</summary>
    public string StoreId { get; }

    /// <summary>Why the current file is refused (no key is accepted meanwhile); null when it is in force.</summary>
    public string? Problem
    {
        get
        {
            lock (_lock)
            {
                ReloadIfChanged();
                return _problem;
            }
        }
    }

    /// <summary>True when <paramref name="folder"/> holds a key store (its pepper).</summary>
    public static bool Exists(string folder) => File.Exists(Path.Combine(folder, "api-keys.pepper"));

    /// <summary>Opens (creating the folder and pepper if needed) the store in <paramref name="folder"/>.</summary>
    public static ApiKeyStore Open(string folder) => Open(folder, new ApiKeyStoreOptions());

    /// <summary>Opens (creating the folder and pepper if needed) the store in <paramref name="folder"/>; throws <see cref="ApiKeyStoreException"/> on a refused file.</summary>
    public static ApiKeyStore Open(string folder, ApiKeyStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new ApiKeyStore(folder, Pepper(folder), options);
    }

    /// <summary>
    /// Accepts a key file written without an integrity code (by a drydock before it had one, a JSON array): its
    /// records are checked, each key is recorded in the journal (<c>create</c>, reason <c>sealed</c>), and the file is
    /// written again with its code. Refuses a file that already has one (an edited file is restored, not sealed).
    /// Returns the keys accepted.
    /// </summary>
    public static IReadOnlyList<ApiKey> Seal(string folder, ApiKeyStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var pepper = Pepper(folder);
        var path = Path.GetFullPath(Path.Combine(folder, FileName));
        if (!File.Exists(path)) throw new ApiKeyStoreException($"{path}: no key file to seal");
        if (!RegularFiles.ReadAllText(path, MaxFileBytes).TrimStart().StartsWith('[')) throw new ApiKeyStoreException($"{path}: already has an integrity code; a file that fails it is restored from a copy or its keys revoked and created again, never sealed");
        var store = new ApiKeyStore(folder, pepper, options, legacy: true);

        // A store whose changes are in the audit log was written with integrity codes: a code-less file there is an
        // edit (a revocation dropped, say), not an older drydock's file, and sealing it would accept the edit.
        if (options.Journal is null || options.Journal.HasEntries(store.StoreId))
        {
            throw new ApiKeyStoreException($"{path}: the audit log already records changes of this key store, so a file without an integrity code here was written by hand; refused. Restore the file from a copy, or revoke and create the keys again");
        }

        return store.Change<IReadOnlyList<ApiKey>>(keys =>
        {
            var all = keys.Values.OrderBy(k => k.Created, StringComparer.Ordinal).ThenBy(k => k.Id, StringComparer.Ordinal).ToList();
            return (all, [.. all.Select(k => new ApiKeyChange("create", k, store.StoreId, "sealed: accepted from a key file without an integrity code"))]);
        }, force: true);
    }

    private static byte[] Pepper(string folder)
    {
        if (!Directory.Exists(folder))
        {
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(folder);
            else Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var pepperPath = Path.Combine(folder, "api-keys.pepper");
        if (!File.Exists(pepperPath))
        {
            // Under the lock: two first commands at once must not each write a pepper (the loser's keys would never verify).
            using var held = Hold(Path.Combine(folder, "api-keys.lock"));
            if (!File.Exists(pepperPath)) AtomicFile.Write(pepperPath, RandomNumberGenerator.GetBytes(32), ownerOnly: true);
        }

        KeyFiles.CheckPrivate(pepperPath);
        var pepper = RegularFiles.ReadAllBytes(pepperPath, 64);
        if (pepper.Length != 32) throw new ApiKeyStoreException($"{Path.GetFullPath(pepperPath)}: {pepper.Length} bytes, not the 32 of a pepper");
        return pepper;
    }

    /// <summary>The longest lifetime a key may be given (about ten years): a key is rotated long before.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(3650);

    /// <summary>The longest key name.</summary>
    public const int MaxNameLength = 64;

    /// <summary>
    /// Creates a key; returns the key (shown once) and its record. The name is 1 to <see cref="MaxNameLength"/>
    /// printable characters (no line breaks or control characters, which would forge lines in listings and logs); the
    /// lifetime is positive and at most <see cref="MaxLifetime"/>. Otherwise an <see cref="ArgumentException"/>.
    /// </summary>
    public (string Key, ApiKey Record) Create(string name, string tier, IReadOnlyList<string> models, TimeSpan? lifetime)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(tier);
        ArgumentNullException.ThrowIfNull(models);
        if (NameProblem(name) is { } problem) throw new ArgumentException($"--name: {problem}");
        if (NameProblem(tier) is { } tierProblem) throw new ArgumentException($"--tier: {tierProblem}");
        if (models.FirstOrDefault(m => NameProblem(m) is not null) is { } model) throw new ArgumentException($"--models: '{model}' {NameProblem(model)}");
        if (lifetime is { } l && (l <= TimeSpan.Zero || l > MaxLifetime)) throw new ArgumentException($"--expires: a lifetime from 1 minute to {MaxLifetime.TotalDays:0} days (about ten years)");
        return Change(keys => New(keys, name, tier, models, lifetime, null));
    }

    /// <summary>Why <paramref name="name"/> cannot name a key, tier or model, or null.</summary>
    public static string? NameProblem(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || name.Trim().Length == 0) return "must not be empty";
        if (name.Length > MaxNameLength) return $"must be at most {MaxNameLength} characters ({name.Length} given)";
        if (name.Any(c => char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029' || char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.Format or System.Globalization.UnicodeCategory.OtherNotAssigned))
        {
            return "must hold printable characters only (no line breaks, control or invisible characters)";
        }

        return null;
    }

    /// <summary>Every key record.</summary>
    public IReadOnlyList<ApiKey> List()
    {
        lock (_lock)
        {
            ReloadIfChanged(atOnce: true);
            if (_problem is not null) throw new ApiKeyStoreException(_problem);
            return [.. _keys.Values.OrderBy(k => k.Created, StringComparer.Ordinal).ThenBy(k => k.Id, StringComparer.Ordinal)];
        }
    }

    /// <summary>Revokes a key by id; false when there is none. <paramref name="reason"/> goes to the audit log.</summary>
    public bool Revoke(string id, string? reason = null) => Change<bool>(keys =>
    {
        if (!keys.TryGetValue(id, out var key)) return (false, []);
        if (key.Revoked is not null) return (true, []);
        keys[id] = key with { Revoked = Stamp(Now) };
        return (true, [new ApiKeyChange("revoke", keys[id], StoreId, reason)]);
    });

    /// <summary>Revokes a key and creates its replacement with the same name, tier, models and lifetime, in one write.</summary>
    public (string Key, ApiKey Record)? Rotate(string id) => Change<(string Key, ApiKey Record)?>(keys =>
    {
        if (!keys.TryGetValue(id, out var old)) return (null, []);
        TimeSpan? lifetime = old.Expires is null ? null : ParseStamp(old.Expires) - ParseStamp(old.Created);
        var (created, changes) = New(keys, old.Name, old.Tier, old.Models, lifetime, $"replaces {id}");
        if (old.Revoked is null)
        {
            keys[id] = old with { Revoked = Stamp(Now) };
            changes = [.. changes, new ApiKeyChange("rotate", keys[id], StoreId, $"replaced by {created.Record.Id}")];
        }

        return (created, changes);
    });

    /// <summary>The active key record for a presented key, or null (unknown, wrong, revoked or expired, or the key file is refused).</summary>
    public ApiKey? Authenticate(string? presented)
    {
        if (presented is null || !presented.StartsWith("ddk_", StringComparison.Ordinal) || presented.Length > 200) return null;
        var parts = presented.Split('_');
        if (parts.Length != 3) return null;
        ApiKey? record = null;
        lock (_lock)
        {
            ReloadIfChanged();
            if (_problem is null) _keys.TryGetValue(parts[1], out record);
        }

        var expected = record?.Hash ?? new string('0', 64);
        var matches = CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(presented)), Encoding.ASCII.GetBytes(expected));
        return matches && record!.Active(Now) ? record : null;
    }

    /// <summary>
    /// Compares the keys with what the audit log recorded for this store (<paramref name="events"/>, oldest first):
    /// a key missing, added outside drydock, un-revoked, or with another name, tier, models, expiry or hash is a problem.
    /// Returns the problems (none when every key is as recorded). Never names a key's secret or hash.
    /// </summary>
    public IReadOnlyList<string> Compare(IEnumerable<ApiKeyEventRecord> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        Dictionary<string, ApiKey> keys;
        lock (_lock)
        {
            ReloadIfChanged(atOnce: true);
            if (_problem is not null) return [_problem];
            keys = new Dictionary<string, ApiKey>(_keys, StringComparer.Ordinal);
        }

        var recorded = new Dictionary<string, ApiKeyEventRecord>(StringComparer.Ordinal);
        foreach (var e in events.Where(e => e.Key.Store == StoreId)) recorded[e.Key.KeyId] = e;
        var problems = new List<string>();
        foreach (var (id, e) in recorded.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (!keys.TryGetValue(id, out var key))
            {
                problems.Add($"key {id} ({e.Key.Name}) is in the audit log (api-key.{e.Action} at {e.At}) but not in {_path}");
                continue;
            }

            var now = State(key, StoreId);
            void Differs(string field, string? file, string? log)
            {
                if (!string.Equals(file, log, StringComparison.Ordinal)) problems.Add($"key {id} ({key.Name}): {field} is {file ?? "(none)"} in {_path} but {log ?? "(none)"} in the audit log (api-key.{e.Action} at {e.At})");
            }

            Differs("name", now.Name, e.Key.Name);
            Differs("tier", now.Tier, e.Key.Tier);
            Differs("models", string.Join(",", now.Models), string.Join(",", e.Key.Models));
            Differs("created", now.Created, e.Key.Created);
            Differs("expires", now.Expires, e.Key.Expires);
            Differs("revoked", now.Revoked, e.Key.Revoked);
            if (now.Fingerprint != e.Key.Fingerprint) problems.Add($"key {id} ({key.Name}): its hash in {_path} is not the one the audit log recorded (api-key.{e.Action} at {e.At})");
        }

        foreach (var key in keys.Values.Where(k => !recorded.ContainsKey(k.Id)).OrderBy(k => k.Id, StringComparer.Ordinal))
        {
            problems.Add($"key {key.Id} ({key.Name}) is in {_path} but has no entry in the audit log (added outside drydock)");
        }

        return problems;
    }

    /// <summary>What an audit entry records of a key: its fields and a SHA-256 fingerprint of its hash.</summary>
    public static ApiKeyState State(ApiKey key, string store)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new ApiKeyState(key.Id, store, key.Name, key.Tier, key.Models, key.Created, key.Expires, key.Revoked, Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(key.Hash))));
    }

    /// <summary>A key for another purpose of this gateway, derived from the store's pepper (as secret as it, no new file).</summary>
    internal byte[] DeriveKey(string purpose) => HMACSHA256.HashData(_pepper, Encoding.UTF8.GetBytes("drydock " + purpose));

    private DateTimeOffset Now => _options.Time.GetUtcNow();

    private string Hash(string key) => Convert.ToHexStringLower(HMACSHA256.HashData(_pepper, Encoding.UTF8.GetBytes(key)));

    private ((string Key, ApiKey Record) Created, IReadOnlyList<ApiKeyChange> Changes) New(Dictionary<string, ApiKey> keys, string name, string tier, IReadOnlyList<string> models, TimeSpan? lifetime, string? reason)
    {
        string id;
        do
        {
            id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        }
        while (keys.ContainsKey(id));

        var key = $"ddk_{id}_{Base64Url(RandomNumberGenerator.GetBytes(32))}";
        var now = Now;
        var record = new ApiKey(id, name, tier, [.. models], Stamp(now), lifetime is { } l ? Stamp(now + l) : null, null, Hash(key));
        keys[id] = record;
        return ((key, record), [new ApiKeyChange("create", record, StoreId, reason)]);
    }

    // A change: under the process lock and the file lock, the file is read afresh (and must follow what this process
    // saw), the change is made, recorded in the journal, and only then written.
    private T Change<T>(Func<Dictionary<string, ApiKey>, (T Result, IReadOnlyList<ApiKeyChange> Changes)> change, bool force = false)
    {
        lock (_lock)
        {
            using var held = Hold(_lockPath);
            var bytes = ReadFile();
            var keys = Parse(bytes);
            Follows(_keys, keys);
            var (result, changes) = change(keys);
            if (changes.Count == 0 && !force) return result;
            foreach (var c in changes) _options.Journal?.Record(c);
            var written = Save(keys);
            _keys = keys;
            _seen = Digest(written);
            _problem = null;
            return result;
        }
    }

    private void ReloadIfChanged(bool atOnce = false) => ReloadIfChanged(_options.Time.GetTimestamp(), atOnce);

    // On the request path the file is looked at every CheckInterval; a listing or a comparison looks at it at once.
    private void ReloadIfChanged(long now, bool force)
    {
        if (!force && _options.Time.GetElapsedTime(_checkedAt, now) < CheckInterval) return;
        _checkedAt = now;
        byte[] digest = [];
        try
        {
            var bytes = ReadFile();
            digest = Digest(bytes);
            if (digest.AsSpan().SequenceEqual(_seen)) return;
            var keys = Parse(bytes);
            Follows(_keys, keys);
            _keys = keys;
            _seen = digest;
            if (_problem is not null) KeyLog.Accepted(_options.Log ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, _path, keys.Count);
            _problem = null;
        }
        catch (Exception e) when (e is ApiKeyStoreException or IOException or UnauthorizedAccessException or KeyRingException)
        {
            _seen = digest;
            _problem = e.Message;
            KeyLog.Refused(_options.Log ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, e.Message);
        }
    }

    // A running store only ever sees keys added and keys revoked: anything else is a file put back or edited with the pepper.
    private void Follows(Dictionary<string, ApiKey> before, Dictionary<string, ApiKey> after)
    {
        foreach (var old in before.Values)
        {
            if (!after.TryGetValue(old.Id, out var now)) throw new ApiKeyStoreException($"{_path}: key {old.Id} ({old.Name}) was removed (drydock never removes a key; the file was replaced or edited)");
            if (old.Revoked is not null && now.Revoked != old.Revoked) throw new ApiKeyStoreException($"{_path}: key {old.Id} ({old.Name}) was revoked at {old.Revoked} and is not any more (the file was replaced or edited)");
            if (!Same(old with { Revoked = now.Revoked }, now)) throw new ApiKeyStoreException($"{_path}: key {old.Id} ({old.Name}) changed (drydock only revokes a key; the file was replaced or edited)");
        }
    }

    private static bool Same(ApiKey a, ApiKey b) =>
        a.Id == b.Id && a.Name == b.Name && a.Tier == b.Tier && a.Models.SequenceEqual(b.Models, StringComparer.Ordinal) && a.Created == b.Created && a.Expires == b.Expires && a.Revoked == b.Revoked && a.Hash == b.Hash;

    private byte[]? ReadFile()
    {
        if (!File.Exists(_path)) return null;
        KeyFiles.CheckPrivate(_path);
        try
        {
            return RegularFiles.ReadAllBytes(_path, MaxFileBytes);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private static byte[] Digest(byte[]? bytes) => bytes is null ? [] : SHA256.HashData(bytes);

    // Any file that cannot be read as a key file (duplicate fields, invalid text, odd shapes) is refused, never half-read.
    private Dictionary<string, ApiKey> Parse(byte[]? bytes)
    {
        try
        {
            return ParseFile(bytes);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or JsonException or OverflowException)
        {
            throw new ApiKeyStoreException($"{_path}: not a readable key file ({e.Message})");
        }
    }

    private Dictionary<string, ApiKey> ParseFile(byte[]? bytes)
    {
        var keys = new Dictionary<string, ApiKey>(StringComparer.Ordinal);
        if (bytes is null) return keys;
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new ApiKeyStoreException($"{_path}: not JSON ({e.Message})");
        }

        if (root is JsonArray legacy && _legacy)
        {
            for (var i = 0; i < legacy.Count; i++)
            {
                var r = Record(legacy[i], $"[{i}]");
                if (!keys.TryAdd(r.Id, r)) throw new ApiKeyStoreException($"{_path}: key {r.Id} appears twice");
            }

            return keys;
        }

        if (root is JsonArray) throw new ApiKeyStoreException($"{_path}: written without an integrity code (by an older drydock, or by hand); refused. Check its keys, then run 'drydock keys seal' to accept them");
        if (root is not JsonObject file) throw new ApiKeyStoreException($"{_path}: not a drydock key file");
        foreach (var (field, _) in file)
        {
            if (field is not ("format" or "keys" or "mac")) throw new ApiKeyStoreException($"{_path}: unknown field '{field}'");
        }

        if (Text(file, "format", "") != Format) throw new ApiKeyStoreException($"{_path}: format: expected {Format}");
        var mac = Text(file, "mac", "");
        var list = file["keys"] as JsonArray ?? throw new ApiKeyStoreException($"{_path}: keys: expected an array");
        var records = new List<ApiKey>();
        for (var i = 0; i < list.Count; i++) records.Add(Record(list[i], $"keys[{i}]"));

        // The integrity code covers the records as read, whatever the file's spacing or escaping.
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Mac(records)), Encoding.ASCII.GetBytes(mac)))
        {
            throw new ApiKeyStoreException($"{_path}: fails its integrity check (edited outside drydock: a key added, revoked, un-revoked or changed); refused, no key is accepted until it is restored");
        }

        foreach (var r in records)
        {
            if (!keys.TryAdd(r.Id, r)) throw new ApiKeyStoreException($"{_path}: key {r.Id} appears twice");
        }

        return keys;
    }

    private ApiKey Record(JsonNode? node, string at)
    {
        if (node is not JsonObject o) throw new ApiKeyStoreException($"{_path}: {at}: expected an object");
        foreach (var (field, _) in o)
        {
            if (field is not ("id" or "name" or "tier" or "models" or "created" or "expires" or "revoked" or "hash")) throw new ApiKeyStoreException($"{_path}: {at}.{field}: unknown field");
        }

        var models = o["models"] as JsonArray ?? throw new ApiKeyStoreException($"{_path}: {at}.models: expected an array");
        var key = new ApiKey(Text(o, "id", at), Text(o, "name", at), Text(o, "tier", at),
            [.. models.Select((m, i) => m is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new ApiKeyStoreException($"{_path}: {at}.models[{i}]: expected a string"))],
            Date(o, "created", at) ?? throw new ApiKeyStoreException($"{_path}: {at}.created: expected a time"), Date(o, "expires", at), Date(o, "revoked", at), Text(o, "hash", at));
        if (key.Id.Length != 8 || !key.Id.All(char.IsAsciiHexDigitLower)) throw new ApiKeyStoreException($"{_path}: {at}.id: expected 8 lower-case hex digits");
        if (key.Hash.Length != 64 || !key.Hash.All(char.IsAsciiHexDigitLower)) throw new ApiKeyStoreException($"{_path}: {at}.hash: expected 64 lower-case hex digits");
        return key;
    }

    private string Text(JsonObject o, string field, string at) =>
        o[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new ApiKeyStoreException($"{_path}: {(at.Length > 0 ? at + "." : "")}{field}: expected a string");

    private string? Date(JsonObject o, string field, string at)
    {
        if (o[field] is null) return null;
        var text = Text(o, field, at);
        return DateTimeOffset.TryParseExact(text, "yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _) ? text : throw new ApiKeyStoreException($"{_path}: {at}.{field}: '{text}' is not a time (yyyy-MM-ddTHH:mm:ssZ)");
    }

    private string Mac(IEnumerable<ApiKey> records)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            w.WriteStringValue(Format);
            foreach (var k in records)
            {
                w.WriteStartArray();
                w.WriteStringValue(k.Id);
                w.WriteStringValue(k.Name);
                w.WriteStringValue(k.Tier);
                w.WriteStartArray();
                foreach (var m in k.Models) w.WriteStringValue(m);
                w.WriteEndArray();
                w.WriteStringValue(k.Created);
                if (k.Expires is null) w.WriteNullValue(); else w.WriteStringValue(k.Expires);
                if (k.Revoked is null) w.WriteNullValue(); else w.WriteStringValue(k.Revoked);
                w.WriteStringValue(k.Hash);
                w.WriteEndArray();
            }

            w.WriteEndArray();
        }

        return Convert.ToHexStringLower(HMACSHA256.HashData(_macKey, buffer.ToArray()));
    }

    private byte[] Save(Dictionary<string, ApiKey> keys)
    {
        var ordered = keys.Values.OrderBy(k => k.Created, StringComparer.Ordinal).ThenBy(k => k.Id, StringComparer.Ordinal).ToList();
        var array = new JsonArray();
        foreach (var k in ordered)
        {
            var models = new JsonArray();
            foreach (var m in k.Models) models.Add((JsonNode?)JsonValue.Create(m));
            array.Add((JsonNode)new JsonObject
            {
                ["id"] = k.Id, ["name"] = k.Name, ["tier"] = k.Tier, ["models"] = models, ["created"] = k.Created, ["expires"] = k.Expires, ["revoked"] = k.Revoked, ["hash"] = k.Hash,
            });
        }

        var file = new JsonObject { ["format"] = Format, ["keys"] = array, ["mac"] = Mac(ordered) };
        var bytes = Encoding.UTF8.GetBytes(file.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.Write(_path, bytes, ownerOnly: true);
        return bytes;
    }

    // The file lock serialises changes between processes (two 'keys create' at once must not lose one).
    private static FileStream Hold(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var deadline = Environment.TickCount64 + 10_000;
        while (true)
        {
            try
            {
                return new FileStream(path, options);
            }
            catch (IOException) when (Environment.TickCount64 < deadline)
            {
                Thread.Sleep(20);
            }
        }
    }

    private static DateTimeOffset ParseStamp(string stamp) => DateTimeOffset.Parse(stamp, CultureInfo.InvariantCulture);

    private static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '-');
}

/// <summary>The key store's log events: paths and reasons only, never a key.</summary>
internal static partial class KeyLog
{
    [LoggerMessage(20, LogLevel.Critical, "key file refused, no key is accepted: {Problem}")]
    public static partial void Refused(ILogger logger, string problem);

    [LoggerMessage(21, LogLevel.Warning, "key file {Path} accepted again: {Count} keys")]
    public static partial void Accepted(ILogger logger, string path, int count);
}
