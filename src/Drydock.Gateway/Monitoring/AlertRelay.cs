using System.Collections.Frozen;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Drydock.Gateway.Monitoring;

/// <summary>
/// Puts the monitor's alerts into the gateway's own log as they are raised: every <see cref="Every"/> it reads the
/// lines added to the alerts log beside the request log (<c>alerts-YYYY-MM-DD.jsonl</c>, written by
/// <c>drydock monitor --watch</c>) and logs each alert as one structured line. Only names, figures and ids of the
/// expected shape are logged (anything else in a field is logged as <c>?</c>), so a hand-edited alerts log cannot put
/// text into the gateway's log. Where it has read to is kept in a state folder of the monitor's own (the project's
/// <c>.drydock/monitor/</c>, owner-only; one file per alerts folder, <c>relay-HASH.json</c>, replaced atomically), never
/// in the request log's folder, so a gateway started again logs the alerts raised while it was not running (and none
/// twice); the first start of a gateway over a folder (no such file) starts after what is already there. The state file
/// of earlier versions (<c>alerts-relayed.json</c> in the alerts folder) is read once in place of a missing state, then
/// removed. Without a state folder the positions are kept in memory only. A line that is not an alert is logged with
/// its file and line and skipped.
/// </summary>
internal sealed partial class AlertRelay : IDisposable
{
    /// <summary>How often the alerts log is read.</summary>
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(2);

    private readonly string _folder;
    private readonly string? _statePath;
    private readonly ILogger _log;
    private readonly ITimer _timer;
    private readonly Dictionary<string, (long Offset, int Line)> _read = new(StringComparer.Ordinal);
    private int _running;

    public AlertRelay(string folder, string? stateFolder, ILogger log, TimeProvider time)
    {
        _folder = folder;
        _statePath = stateFolder is null ? null : Path.Combine(stateFolder, StateFileName(folder));
        _log = log;
        Resume();
        _timer = time.CreateTimer(_ => Read(), null, Every, Every);
    }

    /// <summary>
    /// Logs the alerts added since the last read (a read still running is not overlapped). Nothing it meets ends the
    /// process: it runs on the timer's thread, where an exception would.
    /// </summary>
    public void Read()
    {
        if (Interlocked.Exchange(ref _running, 1) == 1) return;
        try
        {
            var before = _read.ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);
            var files = Files().ToList();
            foreach (var file in files) ReadFile(file);
            foreach (var gone in _read.Keys.Except(files, StringComparer.Ordinal).ToList()) _read.Remove(gone); // removed by retention
            if (_read.Count != before.Count || _read.Any(r => !before.TryGetValue(r.Key, out var b) || b != r.Value)) WriteState();
        }
        catch (Exception e)
        {
            Unreadable(_log, e.GetType().Name);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    public void Dispose() => _timer.Dispose();

    /// <summary>
    /// The state file of the relay over <paramref name="alertsFolder"/> in the state folder: named by a hash of the
    /// folder's full path, so gateways over different request logs of one project keep positions of their own.
    /// </summary>
    public static string StateFileName(string alertsFolder) =>
        "relay-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(alertsFolder).TrimEnd(Path.DirectorySeparatorChar))))[..16] + ".json";

    /// <summary>Where earlier versions kept the read positions: in the alerts folder (read once if no state is found, then removed).</summary>
    public const string OldStateFileName = "alerts-relayed.json";

    // From where the last run left each file; a file it did not know (written while it was down) from its start. Without
    // a state (the first run over this folder) or with one that cannot be read, what is there is not repeated.
    private void Resume()
    {
        var old = Path.Combine(_folder, OldStateFileName);
        var state = _statePath is null ? null : ReadState(_statePath);
        if (state is null && _statePath is not null && !File.Exists(_statePath) && File.Exists(old)) state = ReadState(old);
        if (state is null)
        {
            foreach (var file in Files()) _read[file] = Skip(file);
        }
        else
        {
            foreach (var file in Files()) _read[file] = state.TryGetValue(Path.GetFileName(file), out var at) ? at : (0, 0);
            Resumed(_log);
        }

        if (_statePath is null) return;
        try
        {
            WriteState(); // so that the next start knows where this one began
            if (File.Exists(old))
            {
                File.Delete(old);
                OldStateRemoved(_log, old, _statePath);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Unreadable(_log, e.GetType().Name);
        }
    }

    private Dictionary<string, (long Offset, int Line)>? ReadState(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(path));
            var state = new Dictionary<string, (long, int)>(StringComparer.Ordinal);
            foreach (var file in json.RootElement.GetProperty("files").EnumerateObject())
            {
                state[file.Name] = (file.Value.GetProperty("offset").GetInt64(), file.Value.GetProperty("line").GetInt32());
            }

            return state;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            StateUnreadable(_log, path);
            return null;
        }
    }

    private void WriteState()
    {
        if (_statePath is not { } path) return;
        Audit.OwnerOnly.Folder(Path.GetDirectoryName(path)!);
        var temp = $"{path}.{Environment.ProcessId}.tmp"; // two gateways over one folder never write one temporary file
        // Owner-only: it names the alerts files and how far they were read.
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temp, options))
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("files");
            foreach (var (file, (offset, line)) in _read.OrderBy(r => r.Key, StringComparer.Ordinal))
            {
                writer.WriteStartObject(Path.GetFileName(file));
                writer.WriteNumber("offset", offset);
                writer.WriteNumber("line", line);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        File.Move(temp, path, overwrite: true);
    }

    private IEnumerable<string> Files() =>
        Directory.Exists(_folder) ? Directory.GetFiles(_folder, "alerts-*.jsonl").Order(StringComparer.Ordinal) : [];

    private void ReadFile(string file)
    {
        var (offset, line) = _read.GetValueOrDefault(file);
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length < offset) (offset, line) = (0, 0); // replaced by a shorter file: read it from the start
        stream.Position = offset;
        var rest = new byte[stream.Length - offset];
        stream.ReadExactly(rest);
        var end = Array.LastIndexOf(rest, (byte)'\n');
        if (end < 0) return; // a line still being written is read once it is whole
        foreach (var text in Encoding.UTF8.GetString(rest, 0, end).Split('\n'))
        {
            line++;
            if (text.Trim().Length > 0) Relay(file, line, text);
        }

        _read[file] = (offset + end + 1, line);
    }

    // Any line the monitor did not write (not JSON, duplicate keys, an array where an object belongs, ...) is skipped.
    private void Relay(string file, int line, string text)
    {
        try
        {
            if (JsonNode.Parse(text) is JsonObject alert && alert["signals"] is JsonArray signals && alert["kinds"] is JsonArray kinds)
            {
                Relay(alert, signals, kinds);
                return;
            }
        }
        catch (Exception)
        {
            // whatever this line holds, it is this line's skip: named below
        }

        NotAnAlert(_log, file, line);
    }

    private void Relay(JsonObject alert, JsonArray signals, JsonArray kinds)
    {
        var kindList = kinds.Select(k => Listed(k, DriftMonitor.KindNames)).ToList();
        var signalList = signals.Select(s => $"{Listed(s?["signal"], DriftMonitor.SignalNames)} ({Listed(s?["test"], DriftMonitor.TestNames)} {Number(s?["statistic"])} against {Number(s?["threshold"])}; baseline {Number(s?["baseline"])}, window {Number(s?["window"])})").ToList();
        var keys = alert["keys"] is JsonArray k ? k.Select(x => $"{KeyId(x?["key"])} ({Number(x?["extractionHigh"])} high of {Number(x?["requests"])})").ToList() : [];
        var incidents = alert["incidents"] is JsonArray i ? i.Select(IncidentId).ToList() : [];
        var window = alert["window"];
        var args = (Kinds: string.Join(",", kindList), Signals: string.Join("; ", signalList), From: Time(window?["from"]), To: Time(window?["to"]),
            Requests: Number(window?["requests"]), Keys: keys.Count > 0 ? string.Join(", ", keys) : "-", Incidents: incidents.Count > 0 ? string.Join(",", incidents) : "-");
        var critical = signals.Any(s => Listed(s?["signal"], DriftMonitor.SignalNames) == "canary-hits");
        if (critical) CanaryAlert(_log, args.Kinds, args.Signals, args.From, args.To, args.Requests, args.Keys, args.Incidents);
        else Alert(_log, args.Kinds, args.Signals, args.From, args.To, args.Requests, args.Keys, args.Incidents);
    }

    // Only values of the shape the monitor writes pass; anything else is '?'.
    private static string Listed(JsonNode? node, FrozenSet<string> names) => Text(node) is { } s && names.Contains(s) ? s : "?";

    private static string KeyId(JsonNode? node) => Text(node) is { } s && KeyIdShape().IsMatch(s) ? s : "?";

    private static string IncidentId(JsonNode? node) => Text(node) is { } s && IncidentIdShape().IsMatch(s) ? s : "?";

    private static string Time(JsonNode? node) => Text(node) is { } s && TimeShape().IsMatch(s) ? s : "?";

    private static string Number(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<double>(out var d) && double.IsFinite(d) ? Math.Round(d, 4).ToString(CultureInfo.InvariantCulture) : node is null ? "-" : "?";

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static (long, int) Skip(string file)
    {
        try
        {
            var bytes = File.ReadAllBytes(file);
            var end = Array.LastIndexOf(bytes, (byte)'\n');
            return end < 0 ? (0, 0) : (end + 1, bytes.AsSpan(0, end + 1).Count((byte)'\n'));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (0, 0);
        }
    }

    // A key id as the gateway makes it: an API key's (8 hex digits, ApiKeyStore) or a token subject's (sub_ and 24 hex
    // digits, BearerTokens); never a whole key or any other token.
    [GeneratedRegex("^(?:[0-9a-f]{8}|sub_[0-9a-f]{24})$")]
    private static partial Regex KeyIdShape();

    // An incident id as the registry makes it: in- and 12 hex digits.
    [GeneratedRegex("^in-[0-9a-f]{12}$")]
    private static partial Regex IncidentIdShape();

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")]
    private static partial Regex TimeShape();

    [LoggerMessage(50, LogLevel.Warning, "monitoring alert: ({Kinds}) {Signals}; window {From} to {To}, {Requests} requests; keys {Keys}; incidents {Incidents}")]
    private static partial void Alert(ILogger logger, string kinds, string signals, string from, string to, string requests, string keys, string incidents);

    [LoggerMessage(51, LogLevel.Critical, "monitoring alert: ({Kinds}) {Signals}; window {From} to {To}, {Requests} requests; keys {Keys}; incidents {Incidents}")]
    private static partial void CanaryAlert(ILogger logger, string kinds, string signals, string from, string to, string requests, string keys, string incidents);

    [LoggerMessage(52, LogLevel.Warning, "monitoring alerts log {File}:{Line}: not an alert of drydock monitor; line skipped")]
    private static partial void NotAnAlert(ILogger logger, string file, int line);

    [LoggerMessage(54, LogLevel.Information, "monitoring alerts log: reading on from where the last run of this gateway left it; alerts raised while it was not running are logged now")]
    private static partial void Resumed(ILogger logger);

    [LoggerMessage(57, LogLevel.Warning, "monitoring alerts log: {Path} cannot be read; alerts already in the log are not logged (a line of each alert raised while this gateway was not running may be missing here: read the alerts log)")]
    private static partial void StateUnreadable(ILogger logger, string path);

    [LoggerMessage(58, LogLevel.Information, "monitoring alerts log: {Old}, the state of an earlier version, was read and removed; where this gateway has read to is kept in {Path}")]
    private static partial void OldStateRemoved(ILogger logger, string old, string path);

    [LoggerMessage(53, LogLevel.Error, "monitoring alerts log could not be read ({Error}); read again in 2 s")]
    private static partial void Unreadable(ILogger logger, string error);
}
