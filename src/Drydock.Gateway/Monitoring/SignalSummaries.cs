using System.Text;
using System.Text.Json;
using Drydock.Provenance.Registry;

namespace Drydock.Gateway.Monitoring;

/// <summary>One hour × alias × tier × key of the signal log, summed: a row in the signal log's own format, <c>at</c> the hour's start.</summary>
/// <param name="Hour">The hour's start, Unix seconds.</param>
/// <param name="Alias">The model alias.</param>
/// <param name="Tier">The tier.</param>
/// <param name="Key">The key id (never the key).</param>
/// <param name="Row">The summed row, JSON (counts, types, scores and template ids; no text).</param>
public sealed record SignalSummary(long Hour, string Alias, string Tier, string Key, string Row);

/// <summary>
/// Hourly summaries of the signal log, for the registry's database: a monitor on another machine reads them there
/// instead of the local log (<c>drydock monitor --from-registry</c>). A summary is a signal-log row, so the report reads
/// both the same way.
/// </summary>
public static class SignalSummaries
{
    private const long Hour = 3600;

    /// <summary>
    /// Writes the summaries of the signal log in <paramref name="folder"/> to <paramref name="registry"/>: the hours from
    /// the newest already stored less one (rows flushed late land in it) or, the first time, from the start of the
    /// default baseline, replacing what the registry held for them in one transaction (so a writer that runs again
    /// never counts an hour twice); then deletes the summaries of hours older than
    /// <see cref="MonitorSettings.SummaryRetentionDays"/>.
    /// </summary>
    /// <returns>How many summaries were written, the first hour replaced (Unix seconds), and how many were deleted.</returns>
    public static (int Summaries, long FromHour, int Deleted) Publish(ProvenanceRegistry registry, MonitorSettings settings, string folder, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(settings);
        var oldest = now.AddHours(-settings.WindowHours).AddDays(-settings.BaselineDays).ToUnixTimeSeconds() / Hour * Hour;
        var fromHour = registry.LatestSignalSummaryHour() is { } latest ? Math.Max(oldest, latest - Hour) : oldest;
        var (summaries, _) = Hourly(folder, fromHour);
        registry.ReplaceSignalSummaries(fromHour, summaries.Select(s => (s.Hour, s.Alias, s.Tier, s.Key, s.Row)));
        var deleted = registry.DeleteSignalSummariesBefore(now.AddDays(-settings.SummaryRetentionDays).ToUnixTimeSeconds() / Hour * Hour);
        return (summaries.Count, fromHour, deleted);
    }

    /// <summary>Sums the rows of the signal log in <paramref name="folder"/> from <paramref name="fromHour"/> (Unix seconds, an hour's start) on, per hour × alias × tier × key; lines that cannot be read are returned as skipped.</summary>
    public static (IReadOnlyList<SignalSummary> Summaries, IReadOnlyList<SkippedLine> Skipped) Hourly(string folder, long fromHour)
    {
        if (fromHour % 3600 != 0) throw new ArgumentException("summaries start at an hour's start", nameof(fromHour));
        var first = DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeSeconds(fromHour).UtcDateTime);
        var sums = new Dictionary<(long, string, string, string), SignalCounts>();
        var skipped = new List<SkippedLine>();
        var row = new SignalCounts();
        foreach (var file in SignalRecorder.Files(folder).Where(f => f.Day >= first).Select(f => f.File).Order(StringComparer.Ordinal))
        {
            long number = 0;
            foreach (var line in File.ReadLines(file))
            {
                number++;
                if (line.Length == 0) continue;
                row.Clear();
                SignalRowHeader header;
                try
                {
                    header = SignalCounts.Read(Encoding.UTF8.GetBytes(line), row);
                }
                catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
                {
                    skipped.Add(new SkippedLine(file, number, "not a whole JSON row"));
                    continue;
                }

                if (header.At < fromHour) continue;
                var key = (header.At / 3600 * 3600, header.Alias, header.Tier, header.Key);
                if (!sums.TryGetValue(key, out var sum)) sums[key] = sum = new SignalCounts();
                sum.Add(row);
            }
        }

        var summaries = new List<SignalSummary>(sums.Count);
        foreach (var ((hour, alias, tier, key), sum) in sums.OrderBy(s => s.Key))
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer)) sum.Write(w, hour, alias, tier, key);
            summaries.Add(new SignalSummary(hour, alias, tier, key, Encoding.UTF8.GetString(buffer.ToArray())));
        }

        return (summaries, skipped);
    }
}
