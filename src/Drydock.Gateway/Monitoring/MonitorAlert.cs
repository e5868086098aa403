using System.Text;
using System.Text.Json.Nodes;

namespace Drydock.Gateway.Monitoring;

/// <summary>
/// An alert line of the alerts log (<c>alerts-YYYY-MM-DD.jsonl</c>), as <c>drydock monitor --watch</c> (from the signal
/// log or the registry) and <c>drydock monitor evaluate</c> write it and <see cref="AlertRelay"/> reads it into the
/// gateway's log: kinds, signals with their figures, the periods, key ids and incident ids; never request text.
/// </summary>
public static class MonitorAlert
{
    /// <summary>The alert's JSON (one line).</summary>
    public static string Json(string source, IEnumerable<DriftResult> fresh, MonitorPeriod window, long windowRequests, MonitorPeriod? baseline, long baselineRequests, IEnumerable<KeyExtraction> keys, IEnumerable<string> incidents)
    {
        var results = fresh.ToList();
        var alert = new JsonObject
        {
            ["source"] = source,
            ["at"] = DriftMonitor.Time(DateTimeOffset.UtcNow),
            ["kinds"] = new JsonArray([.. results.Select(r => r.Kind).Distinct(StringComparer.Ordinal).Select(k => (JsonNode)JsonValue.Create(k)!)]),
            ["signals"] = new JsonArray([.. results.Select(r => (JsonNode)new JsonObject
            {
                ["signal"] = r.Signal, ["kind"] = r.Kind, ["test"] = r.Test, ["baseline"] = Finite(r.Baseline), ["window"] = Finite(r.Window),
                ["statistic"] = Finite(r.Statistic), ["pValue"] = r.PValue is { } p ? Finite(p) : null, ["threshold"] = Finite(r.Threshold),
            })]),
            ["window"] = Period(window, windowRequests),
            ["baseline"] = baseline is null ? null : Period(baseline, baselineRequests),
            ["keys"] = new JsonArray([.. keys.Select(k => (JsonNode)new JsonObject { ["key"] = k.Key, ["requests"] = k.Requests, ["extractionHigh"] = k.High, ["extractionMax"] = Math.Round(k.Max, 2) })]),
            ["incidents"] = new JsonArray([.. incidents.Select(i => (JsonNode)JsonValue.Create(i)!)]),
        };
        return alert.ToJsonString();
    }

    /// <summary>Appends <paramref name="json"/> to today's alerts log in <paramref name="folder"/> (owner-only when created).</summary>
    public static string Append(string folder, string json)
    {
        var path = Path.Combine(folder, $"alerts-{DateTime.UtcNow:yyyy-MM-dd}.jsonl");
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        stream.Write(Encoding.UTF8.GetBytes(json + "\n"));
        return path;
    }

    private static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(Math.Round(value, 6)) : null;

    private static JsonObject Period(MonitorPeriod period, long requests) =>
        new() { ["from"] = DriftMonitor.Time(period.From), ["to"] = DriftMonitor.Time(period.To), ["requests"] = requests };
}
