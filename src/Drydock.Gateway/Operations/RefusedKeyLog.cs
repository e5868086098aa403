using System.Globalization;
using Drydock.Provenance.Registry;

namespace Drydock.Gateway.Operations;

/// <summary>
/// The audit entries of credentials refused at <c>/admin</c> (API keys, tokens refused by role, administrator keys refused
/// by their grant or a broken audit chain), bounded: at most one entry per fingerprint (<c>key:ID</c>,
/// <c>apikey:sha256:…</c>, <c>oidc:sub_…</c>, <c>admin:NAME</c>) per minute. The first refusal of a fingerprint is recorded at once; later ones in its
/// minute are counted, and the count goes into the entry of its next refusal after the minute, or is flushed when the
/// gateway stops. At most <see cref="FingerprintsPerMinute"/> fingerprints are recorded a minute; refusals of any
/// further ones are counted together and recorded as one entry (actor <c>apikey:others</c>) a minute. So a flood of
/// bad keys writes at most <see cref="FingerprintsPerMinute"/> + 1 entries a minute, each with how many refusals it
/// stands for, and the counts add up to every refusal.
/// </summary>
internal sealed class RefusedKeyLog(GatewayOperations operations, TimeProvider time)
{
    /// <summary>The most fingerprints given an entry of their own in one minute.</summary>
    public const int FingerprintsPerMinute = 60;

    /// <summary>The actor of the entry that counts the refusals beyond <see cref="FingerprintsPerMinute"/>.</summary>
    public const string Others = "refused:others";

    private static readonly TimeSpan s_window = TimeSpan.FromMinutes(1);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private Window _others = new(DateTimeOffset.MinValue, "", "", 0);
    private DateTimeOffset _minute = DateTimeOffset.MinValue;
    private int _recorded;

    private sealed record Window(DateTimeOffset Start, string Verb, string Reason, long Pending);

    /// <summary>Counts one refusal of <paramref name="actor"/> and records what is due (failures to record are swallowed: the refusal stands).</summary>
    public void Refused(string actor, string verb, string reason)
    {
        var now = time.GetUtcNow();
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
        }

        Record(due);
    }

    /// <summary>Records every count not yet recorded (the gateway stops).</summary>
    public void Flush()
    {
        var now = time.GetUtcNow();
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
        }

        Record(due);
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
        if (due.Count == 0 || !operations.HasRegistry) return;
        foreach (var (actor, verb, reason) in due)
        {
            try
            {
                operations.RecordAccess(actor, verb, null, allowed: false, reason);
            }
            catch (Exception e) when (e is RegistryException or System.Data.Common.DbException or IOException or ObjectDisposedException)
            {
                // the 401/403 was answered all the same
            }
        }
    }
}
