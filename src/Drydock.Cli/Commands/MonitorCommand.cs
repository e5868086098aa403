using System.CommandLine;
using System.Globalization;
using Drydock.Cli.Infrastructure;
using Drydock.Gateway.Monitoring;

namespace Drydock.Cli.Commands;

/// <summary>
/// <c>drydock monitor</c>: the gateway's signal log over a window (default the last 24 h) against a baseline (default
/// the 7 days before), each signal tested against its <c>monitor:</c> threshold. Exit 1 when one is crossed, 0 when
/// quiet (or the baseline is too small to test, which it says), 2 on bad input.
/// </summary>
internal static class MonitorCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("monitor", "Compare the gateway's signals (traffic, findings, blocks, canary hits, extraction, refusals, prompt lengths, templates) over a window with a baseline; exit 1 when drift, abuse or regression crosses a threshold of drydock.yaml monitor:.");
        var folder = new Option<string?>("--folder") { Description = "The gateway's request log folder (its signals-*.jsonl files; default the project's)." };
        var from = new Option<string?>("--from") { Description = "Window start, UTC (default: monitor.window-hours before --to)." };
        var to = new Option<string?>("--to") { Description = "Window end, UTC (default: now)." };
        var baselineFrom = new Option<string?>("--baseline-from") { Description = "Baseline start, UTC (default: monitor.baseline-days before the baseline's end)." };
        var baselineTo = new Option<string?>("--baseline-to") { Description = "Baseline end, UTC (default: the window's start)." };
        var html = new Option<string?>("--html") { Description = "Also write the report as a self-contained HTML page (inline SVG charts, no scripts)." };
        var format = CommandOptions.Format("table", "json");
        var watch = new Option<bool>("--watch") { Description = "Keep comparing (the window moving with the clock) every --every; a signal that crosses its threshold raises an alert: the alerts log beside the request log, stderr, monitor.webhook, and with monitor.incidents an incident." };
        var every = new Option<string>("--every") { Description = "With --watch: time between checks (30s, 5m, 6h, 1d).", DefaultValueFactory = _ => "5m" };
        var checks = new Option<int>("--checks") { Description = "With --watch: stop after this many checks (0: run until stopped).", DefaultValueFactory = _ => 0 };
        var fromRegistry = new Option<bool>("--from-registry") { Description = "Read the signals' hourly summaries from the registry's database (written by the gateway, or by --watch --publish beside it) instead of the local signal log; the periods are rounded down to the hour. With --watch: alerts from them, on any machine that reaches the registry." };
        var publish = new Option<bool>("--publish") { Description = "With --watch: at each check, write the signal log's hourly summaries to the registry's database, for --from-registry on other machines." };
        foreach (var option in new Option[] { folder, from, to, baselineFrom, baselineTo, html, format, watch, every, checks, fromRegistry, publish }) command.Options.Add(option);
        ProjectContext.AddOptions(command);
        command.Subcommands.Add(MonitorEvaluate.Create(stdout, stderr));
        command.SetAction((parse, cancellationToken) => ProjectContext.Guard("monitor", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            var settings = MonitorSettings.Read(context.File["monitor"]);
            if (!settings.Signals) throw new ArgumentException("monitor.signals is false in drydock.yaml: the gateway keeps no signal log and writes no summaries, so there is nothing to monitor (set it to true)");
            var logFolder = parse.GetValue(folder) ?? CommandOptions.RequestLogFolder;
            var registryRead = parse.GetValue(fromRegistry);
            if (registryRead && (parse.GetValue(publish) || parse.GetValue(folder) is not null)) throw new ArgumentException("--from-registry reads the registry's summaries: --folder and --publish do not apply (they are the gateway's log)");
            if (parse.GetValue(publish) && !parse.GetValue(watch)) throw new ArgumentException("--publish goes with --watch (from cron: --watch --publish --checks 1)");
            if (!registryRead && !Directory.Exists(logFolder)) throw new ArgumentException($"no request log folder {logFolder} (--folder); the gateway writes its signals there");
            if (parse.GetValue(watch))
            {
                if (parse.GetValue(from) is not null || parse.GetValue(to) is not null || parse.GetValue(html) is not null) throw new ArgumentException("--watch compares the last monitor.window-hours up to now: --from, --to and --html do not apply");
                if (parse.GetValue(checks) < 0) throw new ArgumentException("--checks must be 0 or more");
                var pinnedTo = Time(parse.GetValue(baselineTo), "--baseline-to");
                var pinnedFrom = Time(parse.GetValue(baselineFrom), "--baseline-from");
                if (pinnedTo is null != pinnedFrom is null) throw new ArgumentException("--watch with a pinned baseline needs both --baseline-from and --baseline-to");
                if (pinnedTo <= pinnedFrom) throw new ArgumentException("the baseline ends before it starts (--baseline-from, --baseline-to)");
                var pinned = pinnedFrom is { } f && pinnedTo is { } t ? new MonitorPeriod(f, t) : null;
                return MonitorWatch.RunAsync(context, settings, logFolder, Duration(parse.GetValue(every)!, "--every"), parse.GetValue(checks), pinned, parse.GetValue(publish), stdout, stderr, cancellationToken, registryRead).GetAwaiter().GetResult();
            }

            var windowTo = Time(parse.GetValue(to), "--to") ?? DateTimeOffset.UtcNow;
            var windowFrom = Time(parse.GetValue(from), "--from") ?? windowTo.AddHours(-settings.WindowHours);
            var baseTo = Time(parse.GetValue(baselineTo), "--baseline-to") ?? windowFrom;
            var baseFrom = Time(parse.GetValue(baselineFrom), "--baseline-from") ?? baseTo.AddDays(-settings.BaselineDays);
            if (windowTo <= windowFrom) throw new ArgumentException("the window ends before it starts (--from, --to)");
            if (baseTo <= baseFrom) throw new ArgumentException("the baseline ends before it starts (--baseline-from, --baseline-to)");
            if (baseFrom < windowTo && windowFrom < baseTo) throw new ArgumentException("the baseline and the window overlap");
            var report = registryRead
                ? MonitorRegistry.Compare(context, new MonitorPeriod(windowFrom, windowTo), new MonitorPeriod(baseFrom, baseTo), settings)
                : DriftMonitor.Compare(logFolder, new MonitorPeriod(windowFrom, windowTo), new MonitorPeriod(baseFrom, baseTo), settings);
            foreach (var s in report.Skipped) stderr.WriteLine($"drydock monitor: {s.File}:{s.Line}: {s.Reason}; line skipped");
            if (report.SkippedCount > report.Skipped.Count) stderr.WriteLine($"drydock monitor: {report.SkippedCount - report.Skipped.Count} more unreadable lines skipped");
            if (parse.GetValue(html) is { } page) File.WriteAllText(page, MonitorPage.Render(report, "Drydock monitor", MonitorRegistry.Panels(context, stderr)));
            if (parse.GetValue(format) == "json") JsonOutput.Write(stdout, w => MonitorJson.Write(w, report));
            else Table(stdout, report);
            return report.Alert ? ExitCodes.Findings : ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>A duration such as 30s, 5m, 6h or 1d (at least a second).</summary>
    internal static TimeSpan Duration(string text, string option)
    {
        if (text.Length >= 2 && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 && n <= 100_000)
        {
            switch (text[^1])
            {
                case 's': return TimeSpan.FromSeconds(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 'h': return TimeSpan.FromHours(n);
                case 'd': return TimeSpan.FromDays(n);
            }
        }

        throw new ArgumentException($"{option} '{text}' is not a duration (30s, 5m, 6h, 1d)");
    }

    private static DateTimeOffset? Time(string? text, string option) => text is null ? null
        : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t
        : throw new ArgumentException($"{option} '{text}' is not a date or time (2026-11-28 or 2026-11-28T10:00:00Z)");

    private static void Table(TextWriter stdout, MonitorReport report)
    {
        stdout.WriteLine($"window   {DriftMonitor.Time(report.Window.From)} – {DriftMonitor.Time(report.Window.To)}: {report.WindowTotals.Requests} requests");
        stdout.WriteLine($"baseline {DriftMonitor.Time(report.Baseline.From)} – {DriftMonitor.Time(report.Baseline.To)}: {report.BaselineTotals.Requests} requests");
        stdout.WriteLine();
        stdout.WriteLine($"{"signal",-16} {"kind",-11} {"test",-11} {"baseline",10} {"window",10} {"statistic",10} {"p",9} {"threshold",10}  status");
        foreach (var r in report.Results)
        {
            stdout.WriteLine($"{r.Signal,-16} {r.Kind,-11} {r.Test,-11} {N(r.Baseline),10} {N(r.Window),10} {N(r.Statistic),10} {(r.PValue is { } p ? N(p) : "-"),9} {N(r.Threshold),10}  {r.Status}");
        }

        foreach (var note in report.Notes) stdout.WriteLine("note: " + note);
        var crossed = report.Results.Where(r => r.Status == "drift").ToList();
        stdout.WriteLine(crossed.Count == 0 ? "quiet: no signal crossed its threshold" : $"ALERT: {crossed.Count} signal(s) crossed their threshold: {string.Join(", ", crossed.Select(r => $"{r.Signal} ({r.Kind})"))}");
    }

    private static string N(double value) => double.IsInfinity(value) ? "inf" : value.ToString(Math.Abs(value) >= 1000 ? "0" : "0.####", CultureInfo.InvariantCulture);
}
