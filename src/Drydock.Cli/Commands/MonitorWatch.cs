using System.Globalization;
using Drydock.Cli.Infrastructure;
using Drydock.Gateway.Monitoring;

namespace Drydock.Cli.Commands;

/// <summary>
/// <c>drydock monitor --watch</c>: the comparison again every <c>--every</c>, over a window that moves with the clock.
/// A signal that crosses its threshold (and did not at the check before) raises an alert: a line in the alerts log
/// beside the gateway's request log (<c>alerts-YYYY-MM-DD.jsonl</c>, owner-only), a line on stderr, a JSON POST to
/// <c>monitor.webhook</c> (queued, retried with backoff, never holding up the checks) and, with
/// <c>monitor.incidents: true</c>, an incident per kind (<c>drift</c>, <c>abuse</c>, <c>regression</c>) in the
/// registry's incident timeline. Alerts hold signal names, figures, key ids and incident ids; never request text.
/// </summary>
internal static class MonitorWatch
{
    public static async Task<int> RunAsync(ProjectContext context, MonitorSettings settings, string folder, TimeSpan every, int checks, MonitorPeriod? pinnedBaseline, bool publish, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken, bool fromRegistry = false)
    {
        var url = WebhookUrl(settings);
        // From the registry (on a machine without the gateway's log), the alerts log and state are kept in the project's
        // .drydock/monitor/, and the summaries are compared as --from-registry compares them.
        var logFolder = folder;
        if (fromRegistry) folder = MonitorRegistry.AlertsFolder(context);
        // The alerts go where the gateway's alert relay reads them: beside the project's request log when this machine
        // has one (a gateway of this project writes it), so a watch over the registry alerts in the gateway's log too.
        var alertsFolder = fromRegistry && !Directory.Exists(logFolder) ? folder : logFolder;
        Func<MonitorPeriod, MonitorPeriod, MonitorReport> compare = fromRegistry
            ? (w, b) => MonitorRegistry.Compare(context, MonitorRegistry.WithCurrentHour(w), pinnedBaseline ?? MonitorRegistry.WithCurrentHour(b), settings)
            : (w, b) => DriftMonitor.Compare(logFolder, w, b, settings);
        if (settings.Incidents || publish || fromRegistry)
        {
            using var registry = context.OpenRegistry(); // a registry that cannot be opened fails now, not at the first alert
        }

        void Log(string line)
        {
            lock (stderr) stderr.WriteLine($"drydock monitor: {line}");
        }

        var crossing = MonitorAlertState.Read(folder); // what the last run had crossed: it does not alert again
        await using var webhook = url is null ? null : new AlertWebhook(url, settings.WebhookRetries, Log);
        Log($"watching {(fromRegistry ? "the registry's signal summaries" : folder)} every {every.TotalSeconds:0} s{(webhook is null ? "" : $"; alerts to webhook {webhook.Host}")}{(settings.Incidents ? "; alerts open incidents" : "")}{(publish ? "; hourly summaries to the registry" : "")}");
        var reported = new HashSet<(string, long)>();
        for (var n = 1; checks == 0 || n <= checks; n++)
        {
            var now = DateTimeOffset.UtcNow;
            if (publish)
            {
                try
                {
                    var (summaries, fromHour, _) = MonitorRegistry.Publish(context, settings, logFolder, now);
                    Log($"check {n}: {summaries} hourly summaries from {DriftMonitor.Time(DateTimeOffset.FromUnixTimeSeconds(fromHour))} written to the registry");
                }
                catch (Exception e) when (e is Provenance.Registry.RegistryException or System.Data.Common.DbException or InvalidOperationException or IOException)
                {
                    Log($"check {n}: could not write the hourly summaries to the registry: {e.Message} (written again at the next check)");
                }
            }

            var window = new MonitorPeriod(now.AddHours(-settings.WindowHours), now);
            var baseline = pinnedBaseline ?? new MonitorPeriod(window.From.AddDays(-settings.BaselineDays), window.From);
            if (baseline.From < window.To && window.From < baseline.To)
            {
                Log($"check {n}: the pinned baseline overlaps the window ({DriftMonitor.Time(window.From)} – {DriftMonitor.Time(window.To)}); not compared");
            }
            else if (Compared(n, now, window, baseline) is { } report)
            {
                foreach (var s in report.Skipped.Where(s => reported.Add((s.File, s.Line)))) Log($"{s.File}:{s.Line}: {s.Reason}; line skipped");
                var crossed = report.Results.Where(r => r.Status == "drift").ToList();
                var fresh = crossed.Where(r => !crossing.Contains(r.Signal)).ToList();
                lock (stderr)
                {
                    stdout.WriteLine($"{DriftMonitor.Time(now)} check {n}: window {report.WindowTotals.Requests} requests, baseline {report.BaselineTotals.Requests}: " +
                        (crossed.Count == 0 ? "quiet" : "crossed " + string.Join(", ", crossed.Select(r => $"{r.Signal} ({r.Kind})"))) +
                        (report.Notes.Count > 0 ? " [" + string.Join("; ", report.Notes) + "]" : ""));
                    stdout.Flush();
                }

                if (fresh.Count > 0) Raise(context, settings, alertsFolder, "drydock monitor", report, fresh, webhook, Log);
                var crossingNow = crossed.Select(r => r.Signal).ToHashSet(StringComparer.Ordinal);
                try
                {
                    if (n == 1 || !crossingNow.SetEquals(crossing)) MonitorAlertState.Write(folder, crossingNow, now);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Log($"could not write the alert state ({MonitorAlertState.FileName}): {e.Message} (a restarted watch alerts again on what is crossed)");
                }

                crossing = crossingNow;
            }


            if (checks != 0 && n == checks) break;
            try
            {
                await Task.Delay(every, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return ExitCodes.Ok;

        // A registry that held no summary at the first check is exit 2 (the wrong registry?); later, it is said at the check.
        MonitorReport? Compared(int n, DateTimeOffset now, MonitorPeriod window, MonitorPeriod baseline)
        {
            try
            {
                return compare(window, baseline);
            }
            catch (ArgumentException e) when (fromRegistry && n > 1)
            {
                lock (stderr) stdout.WriteLine($"{DriftMonitor.Time(now)} check {n}: not compared: {e.Message}");
                return null;
            }
        }
    }

    /// <summary>The webhook URL from <c>monitor.webhook</c> or the variable <c>monitor.webhook-env</c> names; an unset or bad variable is an error.</summary>
    internal static Uri? WebhookUrl(MonitorSettings settings)
    {
        if (settings.Webhook is not null || settings.WebhookEnv is not { } name) return settings.Webhook;
        var value = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"monitor.webhook-env names {name}, which is not set");
        return Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" ? url : throw new ArgumentException($"monitor.webhook-env: {name} does not hold an http(s) URL");
    }

    private static void Raise(ProjectContext context, MonitorSettings settings, string folder, string source, MonitorReport report, List<DriftResult> fresh, AlertWebhook? webhook, Action<string> log)
    {
        var keys = report.Keys.Where(k => k.High > 0).Take(5).ToList();
        var incidents = new List<string>();
        if (settings.Incidents)
        {
            try
            {
                using var registry = context.OpenRegistry();
                foreach (var group in fresh.GroupBy(r => r.Kind))
                {
                    var note = string.Join("; ", group.Select(Describe)) + (group.Key == "abuse" && keys.Count > 0 ? "; keys " + string.Join(", ", keys.Select(k => $"{k.Key} ({k.High} high, max {k.Max:0.00})")) : "");
                    var severity = group.Any(r => r.Signal == "canary-hits") ? "critical" : group.Key == "drift" ? "medium" : "high";
                    var id = registry.OpenIncident(group.Key, severity, "gateway:signals", $"drydock monitor: {note}", Provenance.Actor.Current);
                    incidents.Add(id);
                    log($"incident {id} ({group.Key}, {severity}) opened");
                }
            }
            catch (Exception e) when (e is Provenance.Registry.RegistryException or System.Data.Common.DbException or InvalidOperationException or IOException)
            {
                log($"could not open an incident: {e.Message} (the alert is raised without one)");
            }
        }

        var json = MonitorAlert.Json(source, fresh, report.Window, report.WindowTotals.Requests, report.Baseline, report.BaselineTotals.Requests, keys, incidents);
        try
        {
            MonitorAlert.Append(folder, json);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log($"could not write the alerts log: {e.Message}");
        }

        log($"ALERT: {string.Join("; ", fresh.Select(r => $"({r.Kind}) {Describe(r)}"))}{(incidents.Count > 0 ? "; incidents " + string.Join(", ", incidents) : "")}");
        webhook?.Post(json);
    }

    private static string Describe(DriftResult r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Signal}: {r.Test} {r.Statistic:0.####} against {r.Threshold:0.####} (baseline {r.Baseline:0.####}, window {r.Window:0.####})");
}
