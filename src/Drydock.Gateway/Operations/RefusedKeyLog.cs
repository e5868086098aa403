using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Provenance.Audit;
using Drydock.Provenance.Registry;

namespace Drydock.Gateway.Operations;

/// <summary>
/// The audit entries of credentials refused at <c>/admin</c> (API keys, tokens refused by role, administrator keys refused
/// by a broken audit chain), bounded: at most one entry per fingerprint (<c>key:ID</c>,
/// <c>apikey:sha256:…</c>, <c>oidc:sub_…</c>, <c>adminkey:ID</c>) per minute. The first refusal of a
/// fingerprint is recorded at once; later ones in its minute are counted, and the count goes into the entry of its next
/// refusal after the minute, or is recorded when the gateway stops. At most <see cref="FingerprintsPerMinute"/>
/// fingerprints are recorded a minute; refusals of any further ones are counted together and recorded as one entry
/// (actor <see cref="Others"/>) a minute. So a flood writes at most <see cref="FingerprintsPerMinute"/> + 1 entries a
/// minute, each with how many refusals it stands for, and the counts add up to every refusal.
/// <para>
/// The counts not yet recorded are also written, at most <see cref="SaveEvery"/> after they change, to a file of this
/// gateway instance beside the audit witness (outside the project, one per registry and instance, locked while the
/// instance runs). A gateway killed without stopping leaves it behind, and the next gateway of that registry to start
/// records its counts: a kill loses at most the refusals of the last <see cref="SaveEvery"/>.
/// </para>
/// </summary>
internal sealed class RefusedKeyLog : IDisposable
{
    /// <summary>The most fingerprints given an entry of their own in one minute.</summary>
    public const int FingerprintsPerMinute = 60;

    /// <summary>The actor of the entry that counts the refusals beyond <see cref="FingerprintsPerMinute"/>.</summary>
    public const string Others = "refused:others";

    /// <summary>How soon a changed count is written to this instance's file of counts not yet recorded.</summary>
    public static readonly TimeSpan SaveEvery = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan s_window = TimeSpan.FromMinutes(1);
    private readonly GatewayOperations _operations;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Lock _saving = new();
    private readonly Dictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private Window _others = new(DateTimeOffset.MinValue, "", "", 0);
    private DateTimeOffset _minute = DateTimeOffset.MinValue;
    private int _recorded;
    private bool _dirty;
    private readonly string? _pendingFile;
    private readonly FileStream? _instanceLock;
    private readonly Timer? _saver;

    private sealed record Window(DateTimeOffset Start, string Verb, string Reason, long Pending);

    /// <summary>
    /// Starts the log; with a registry, first records the counts left by gateway instances of that registry that were
    /// killed (their files are no longer locked), then keeps this instance's own file.
    /// </summary>
    public RefusedKeyLog(GatewayOperations operations, TimeProvider time)
    {
        _operations = operations;
        _time = time;
        if (Prefix(operations) is not { } prefix) return;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(prefix)!);
            RecordLeftBehind(prefix);
            var instance = prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.None };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            _instanceLock = new FileStream(instance + ".lock", options);
            _pendingFile = instance + ".json";
            _saver = new Timer(_ => Save(), null, SaveEvery, SaveEvery);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            SaveProblem = $"counts of refusals not yet recorded are kept in memory only: {e.Message}";
        }
    }

    /// <summary>Why counts not yet recorded are not written to a file (a kill loses them), or null.</summary>
    public string? SaveProblem { get; private set; }

    /// <summary>Counts one refusal of <paramref name="actor"/> and records what is due (failures to record are swallowed: the refusal stands).</summary>
    public void Refused(string actor, string verb, string reason)
    {
        var now = _time.GetUtcNow();
        var due = new List<(string Actor, string Verb, string Reason)>();
        lock (_lock)
        {
            if (now - _minute >= s_window) (_minute, _recorded) = (now, 0);
            if (_others.Pending > 0 && now - _others.Start >= s_window)
            {
                due.Add((Others, _others.Verb, Counted(_others.Reason, _others.Pending, _others.Start, now)));
                _others = _others with { Pending = 0 };
            }

            if (_windows.TryGetValue(actor, out var open) && now - open.Start < s_window)
            {
                _windows[actor] = open with { Pending = open.Pending + 1, Reason = reason };
            }
            else
            {
                var count = 1 + (open?.Pending ?? 0);
                _windows.Remove(actor);
                if (_recorded < FingerprintsPerMinute)
                {
                    _recorded++;
                    due.Add((actor, verb, count == 1 ? reason : Counted(reason, count, open!.Start, now)));
                    _windows[actor] = new Window(now, verb, reason, 0);
                }
                else
                {
                    _others = _others.Pending == 0
                        ? new Window(now, verb, $"refused keys or tokens beyond the first {FingerprintsPerMinute} fingerprints recorded in a minute", count)
                        : _others with { Pending = _others.Pending + count };
                }
            }

            Prune(now, due);
            _dirty = true;
        }

        Record(due);
    }

    /// <inheritdoc cref="Flush"/>
    public void Dispose() => Flush();

    /// <summary>Records every count not yet recorded and removes this instance's file (the gateway stops).</summary>
    public void Flush()
    {
        _saver?.Dispose();
        var now = _time.GetUtcNow();
        var due = new List<(string Actor, string Verb, string Reason)>();
        lock (_lock)
        {
            foreach (var (actor, w) in _windows)
            {
                if (w.Pending > 0) due.Add((actor, w.Verb, Counted(w.Reason, w.Pending, w.Start, now)));
            }

            if (_others.Pending > 0) due.Add((Others, _others.Verb, Counted(_others.Reason, _others.Pending, _others.Start, now)));
            _windows.Clear();
            _others = _others with { Pending = 0 };
            _dirty = false;
        }

        Record(due);
        lock (_saving)
        {
            if (_pendingFile is null || _instanceLock is null) return;
            try
            {
                File.Delete(_pendingFile);
                File.Delete(_instanceLock.Name);
                _instanceLock.Dispose();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // left behind, the next start records nothing twice: the file lists no count (or none is left)
            }
        }
    }

    // Writes the counts not yet recorded to this instance's file (none: the file is removed).
    private void Save()
    {
        if (_pendingFile is null || !_saving.TryEnter()) return;
        try
        {
            JsonArray pending;
            var now = _time.GetUtcNow();
            lock (_lock)
            {
                if (!_dirty) return;
                _dirty = false;
                pending = [.. _windows.Where(w => w.Value.Pending > 0).Select(w => Entry(w.Key, w.Value, now)), .. _others.Pending > 0 ? [Entry(Others, _others, now)] : Array.Empty<JsonNode>()];
            }

            if (_instanceLock is null || !File.Exists(_instanceLock.Name)) return;
            if (pending.Count == 0) File.Delete(_pendingFile);
            else Datasets.Output.AtomicFile.Write(_pendingFile, Encoding.UTF8.GetBytes(new JsonObject { ["pending"] = pending }.ToJsonString() + "\n"), ownerOnly: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            SaveProblem = $"counts of refusals not yet recorded could not be written: {e.Message}";
            lock (_lock) _dirty = true;
        }
        finally
        {
            _saving.Exit();
        }
    }

    private static JsonNode Entry(string actor, Window w, DateTimeOffset now) => new JsonObject
    {
        ["actor"] = actor, ["verb"] = w.Verb, ["reason"] = w.Reason, ["count"] = w.Pending,
        ["from"] = w.Start.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), ["to"] = now.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
    };

    // The files of this registry's instances whose lock is free (the instance was killed): their counts are recorded.
    private void RecordLeftBehind(string prefix)
    {
        var folder = Path.GetDirectoryName(prefix)!;
        foreach (var lockPath in Directory.GetFiles(folder, Path.GetFileName(prefix) + "*.lock"))
        {
            FileStream held;
            try
            {
                held = new FileStream(lockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                continue; // a running instance holds it
            }

            using (held)
            {
                var json = Path.ChangeExtension(lockPath, ".json");
                var due = new List<(string Actor, string Verb, string Reason)>();
                if (File.Exists(json))
                {
                    try
                    {
                        foreach (var e in JsonNode.Parse(File.ReadAllText(json))?["pending"]?.AsArray() ?? [])
                        {
                            var from = DateTimeOffset.Parse(e!["from"]!.GetValue<string>(), CultureInfo.InvariantCulture);
                            var to = DateTimeOffset.Parse(e["to"]!.GetValue<string>(), CultureInfo.InvariantCulture);
                            due.Add((e["actor"]!.GetValue<string>(), e["verb"]!.GetValue<string>(),
                                Counted(e["reason"]!.GetValue<string>(), e["count"]!.GetValue<long>(), from, to) + "; recorded at the next start (the gateway that counted them was stopped without recording them)"));
                        }
                    }
                    catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException or NullReferenceException)
                    {
                        due.Add(("gateway", "admin refusals", $"a file of refusal counts left by a gateway that was killed could not be read ({e.Message}); its counts are lost"));
                    }
                }

                Record(due);
                File.Delete(json);
                File.Delete(lockPath);
            }
        }
    }

    // The start of this registry's file names beside the audit witness, or null (no registry, or no usable folder).
    private static string? Prefix(GatewayOperations operations)
    {
        if (!operations.HasRegistry) return null;
        try
        {
            return operations.WithRegistry(r => AuditWitness.FolderProblem(r.Database) is null
                ? Path.Combine(AuditWitness.Folder, "refused-id-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(r.Database.Identity)))[..16] + "-")
                : null);
        }
        catch (Exception e) when (e is RegistryException or System.Data.Common.DbException or IOException)
        {
            return null;
        }
    }

    // Windows whose minute is over and that count nothing are forgotten; so the table holds at most the fingerprints of
    // the last minutes that were refused again within their minute (each already cost an entry, FingerprintsPerMinute a minute).
    private void Prune(DateTimeOffset now, List<(string, string, string)> due)
    {
        if (_windows.Count <= 4 * FingerprintsPerMinute) return;
        foreach (var (actor, w) in _windows.ToList())
        {
            if (now - w.Start < s_window) continue;
            _windows.Remove(actor);
            if (w.Pending == 0) continue;
            if (_recorded < FingerprintsPerMinute)
            {
                _recorded++;
                due.Add((actor, w.Verb, Counted(w.Reason, w.Pending, w.Start, now)));
            }
            else
            {
                _others = _others.Pending == 0 ? new Window(now, w.Verb, $"refused keys or tokens beyond the first {FingerprintsPerMinute} fingerprints recorded in a minute", w.Pending) : _others with { Pending = _others.Pending + w.Pending };
            }
        }
    }

    private static string Counted(string reason, long count, DateTimeOffset from, DateTimeOffset to) =>
        string.Create(CultureInfo.InvariantCulture, $"{reason}; refused {count} time(s) from {from.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} to {to.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} (one entry a minute per key or token)");

    private void Record(List<(string Actor, string Verb, string Reason)> due)
    {
        if (due.Count == 0 || !_operations.HasRegistry) return;
        foreach (var (actor, verb, reason) in due)
        {
            try
            {
                _operations.RecordAccess(actor, verb, null, allowed: false, reason);
            }
            catch (Exception e) when (e is RegistryException or System.Data.Common.DbException or IOException or ObjectDisposedException)
            {
                // the 401/403 was answered all the same
            }
        }
    }
}
