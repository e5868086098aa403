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
    public static (int Summaries, long FromHour, int Deleted) Publish(ProjectContext context, MonitorSettings settings, string folder, DateTimeOffset now)
    {
        using var registry = context.OpenRegistry();
        return SignalSummaries.Publish(registry, settings, folder, now);
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
            throw new ArgumentException($"the registry ({registry.Database.Display}) holds no signal summaries from {DriftMonitor.Time(DateTimeOffset.FromUnixTimeSeconds(from))} to {DriftMonitor.Time(DateTimeOffset.FromUnixTimeSeconds(to))}: a gateway with this registry writes them every monitor.publish-seconds (or run 'drydock monitor --watch --publish' beside it)");
        }

        var report = DriftMonitor.Compare(rows, window, baseline, settings);
        if (registry.LatestSignalSummaryHour() is { } latest && latest + (2 * Hour) < window.To.ToUnixTimeSeconds())
        {
            report = WithNote(report, $"the newest signal summary in the registry is of {DriftMonitor.Time(DateTimeOffset.FromUnixTimeSeconds(latest))}: is the gateway running and writing them (monitor.publish-seconds), or 'drydock monitor --watch --publish' beside it?");
        }

        return report;
    }

    /// <summary>
    /// The registry's open incidents and deployments for the page of <c>drydock monitor --html</c> (the panels the
    /// gateway's <c>/admin/dashboard</c> has, rendered by the same code); a registry that cannot be read is said on the
    /// page in their place and on stderr, never shown as empty tables.
    /// </summary>
    public static DashboardPanels Panels(ProjectContext context, TextWriter stderr)
    {
        try
        {
            using var registry = context.OpenRegistry();
            return DashboardPanels.From(registry.Incidents(), registry.Deployments(), DateTimeOffset.UtcNow);
        }
        catch (Exception e) when (e is Provenance.Registry.RegistryException or System.Data.Common.DbException or InvalidOperationException or IOException)
        {
            stderr.WriteLine($"drydock monitor: the registry could not be read for the incidents and deployments panels: {e.Message}");
            return DashboardPanels.Unavailable("the registry could not be read: incidents and deployments are not shown (see the command's error output)");
        }
    }

    /// <summary>
    /// The watch's window over the summaries: the same length, ending at the start of the next hour, so the hour under
    /// way (its summary grows until the hour ends) is compared rather than cut off by the rounding down.
    /// </summary>
    public static MonitorPeriod WithCurrentHour(MonitorPeriod window)
    {
        var to = Floor(window.To.AddHours(1));
        return new MonitorPeriod(to - (window.To - window.From), to);
    }

    /// <summary>Where a watch over the registry keeps its alerts log and state: the project's <c>.drydock/monitor/</c> (owner-only).</summary>
    public static string AlertsFolder(ProjectContext context)
    {
        var folder = Path.Combine(context.Root ?? Directory.GetCurrentDirectory(), ProjectContext.StateFolderName, "monitor");
        Directory.CreateDirectory(folder);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return folder;
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
