using Drydock.Cli.Infrastructure;
using Drydock.Gateway.Monitoring;

namespace Drydock.Cli.Commands;

/// <summary>
/// The signals' hourly summaries in the registry's database: <c>drydock monitor --watch --publish</c> writes them from
/// the gateway's signal log, <c>drydock monitor --from-registry</c> compares periods over them on any machine that
/// reaches the registry (SQLite or PostgreSQL). A summary holds what a signal-log row holds: counts, finding types,
/// scores, key ids and template ids; never text.
/// </summary>
internal static class MonitorRegistry
{
    private const long Hour = 3600;

    /// <summary>
    /// Writes the summaries of the hours from the newest already published (less one, for rows the gateway flushed late)
    /// or, the first time, from the start of the default baseline; the hours written replace what the registry held for them.
    /// </summary>
    public static (int Summaries, long FromHour, int Skipped) Publish(ProjectContext context, MonitorSettings settings, string folder, DateTimeOffset now)
    {
        using var registry = context.OpenRegistry();
        var oldest = Floor(now.AddHours(-settings.WindowHours).AddDays(-settings.BaselineDays).ToUnixTimeSeconds());
        var fromHour = registry.LatestSignalSummaryHour() is { } latest ? Math.Max(oldest, latest - Hour) : oldest;
        var (summaries, skipped) = SignalSummaries.Hourly(folder, fromHour);
        registry.ReplaceSignalSummaries(fromHour, summaries.Select(s => (s.Hour, s.Alias, s.Tier, s.Key, s.Row)));
        return (summaries.Count, fromHour, skipped.Count);
    }

    /// <summary>The report over the registry's summaries; the periods are rounded down to the hour (a summary is an hour).</summary>
    public static MonitorReport Compare(ProjectContext context, MonitorPeriod window, MonitorPeriod baseline, MonitorSettings settings)
    {
        window = new MonitorPeriod(Floor(window.From), Floor(window.To));
        baseline = new MonitorPeriod(Floor(baseline.From), Floor(baseline.To));
        if (window.To <= window.From || baseline.To <= baseline.From) throw new ArgumentException("with --from-registry the periods are whole hours: the window and the baseline must each span at least one hour start");
        using var registry = context.OpenRegistry();
        var source = $"registry {registry.Database.Display} signal_summaries";
        var from = Math.Min(window.From.ToUnixTimeSeconds(), baseline.From.ToUnixTimeSeconds());
        var to = Math.Max(window.To.ToUnixTimeSeconds(), baseline.To.ToUnixTimeSeconds());
        var rows = registry.SignalSummaries(from, to).Select((s, i) => (source, (long)i + 1, s.Summary)).ToList();
        if (rows.Count == 0)
        {
            throw new ArgumentException($"the registry ({registry.Database.Display}) holds no signal summaries from {DriftMonitor.Time(DateTimeOffset.FromUnixTimeSeconds(from))} to {DriftMonitor.Time(DateTimeOffset.FromUnixTimeSeconds(to))}: run 'drydock monitor --watch --publish' beside the gateway to write them");
        }

        var report = DriftMonitor.Compare(rows, window, baseline, settings);
        if (registry.LatestSignalSummaryHour() is { } latest && latest + (2 * Hour) < window.To.ToUnixTimeSeconds())
        {
            report = WithNote(report, $"the newest signal summary in the registry is of {DriftMonitor.Time(DateTimeOffset.FromUnixTimeSeconds(latest))}: is 'drydock monitor --watch --publish' running beside the gateway?");
        }

        return report;
    }

    private static MonitorReport WithNote(MonitorReport report, string note) => new()
    {
        Window = report.Window, Baseline = report.Baseline, WindowTotals = report.WindowTotals, BaselineTotals = report.BaselineTotals,
        Results = report.Results, Notes = [.. report.Notes, note], Skipped = report.Skipped, SkippedCount = report.SkippedCount,
        Rows = report.Rows, RateChange = report.RateChange, Step = report.Step, Series = report.Series, Keys = report.Keys,
    };

    private static long Floor(long unix) => unix / Hour * Hour;

    private static DateTimeOffset Floor(DateTimeOffset at) => DateTimeOffset.FromUnixTimeSeconds(Floor(at.ToUnixTimeSeconds()));
}
