using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;

namespace Drydock.Gateway.Monitoring;

/// <summary>A period compared, [From, To).</summary>
public sealed record MonitorPeriod(DateTimeOffset From, DateTimeOffset To);

/// <summary>One signal's test: the baseline's and the window's value, the test's statistic against its threshold, and the verdict.</summary>
/// <param name="Signal">The signal (traffic, refusal-rate, templates, …).</param>
/// <param name="Kind">What crossing it means: drift, abuse or regression.</param>
/// <param name="Test">The test: ratio, chi-square, psi, ks, new-share, count.</param>
/// <param name="Baseline">The signal's value over the baseline (a rate, a share, a count per hour).</param>
/// <param name="Window">The signal's value over the window.</param>
/// <param name="Statistic">What is compared with the threshold.</param>
/// <param name="PValue">The chi-square p-value, for rates; null otherwise.</param>
/// <param name="Threshold">The threshold from <c>monitor:</c>.</param>
/// <param name="Status">ok, drift, or insufficient (too little data to test).</param>
public sealed record DriftResult(string Signal, string Kind, string Test, double Baseline, double Window, double Statistic, double? PValue, double Threshold, string Status);

/// <summary>A line of the signal log that could not be read: skipped, reported with its file and line.</summary>
public sealed record SkippedLine(string File, long Line, string Reason);

/// <summary>One step of the charts' time series.</summary>
public sealed record SeriesPoint(long At, long Requests, long InputFindings, long Blocked, long CanaryHits, long Answers, long Refusals, long ExtractionHigh);

/// <summary>One key's extraction signal in the window.</summary>
public sealed record KeyExtraction(string Key, long Requests, long High, double Max);

/// <summary>What <c>DriftMonitor.Compare</c> found.</summary>
public sealed class MonitorReport
{
    /// <summary>The window.</summary>
    public required MonitorPeriod Window { get; init; }

    /// <summary>The baseline.</summary>
    public required MonitorPeriod Baseline { get; init; }

    /// <summary>The window's sums.</summary>
    public required SignalCounts WindowTotals { get; init; }

    /// <summary>The baseline's sums.</summary>
    public required SignalCounts BaselineTotals { get; init; }

    /// <summary>Each signal's test.</summary>
    public required IReadOnlyList<DriftResult> Results { get; init; }

    /// <summary>What the reader should know (a baseline too small to test, …).</summary>
    public required IReadOnlyList<string> Notes { get; init; }

    /// <summary>Lines skipped (the first 100).</summary>
    public required IReadOnlyList<SkippedLine> Skipped { get; init; }

    /// <summary>All lines skipped.</summary>
    public long SkippedCount { get; init; }

    /// <summary>Rows read (in either period).</summary>
    public long Rows { get; init; }

    /// <summary>The least change of a rate that alerts (monitor.rate-change).</summary>
    public double RateChange { get; init; }

    /// <summary>Seconds per step of <see cref="Series"/>.</summary>
    public long Step { get; init; }

    /// <summary>The time series over baseline and window, for the charts.</summary>
    public required IReadOnlyList<SeriesPoint> Series { get; init; }

    /// <summary>Extraction per key in the window, highest first.</summary>
    public required IReadOnlyList<KeyExtraction> Keys { get; init; }

    /// <summary>True when a signal crossed its threshold.</summary>
    public bool Alert => Results.Any(r => r.Status == "drift");
}

/// <summary>
/// <c>drydock monitor</c>'s statistics: reads the signal log for a window and its baseline (files of the days concerned,
/// in parallel), sums them, and tests each signal with a test that fits it: chi-square (with a least change) for
/// rates, PSI for the mix of finding types, KS for prompt length and latency, the share of new template clusters
/// against the baseline's own novelty, a ratio for volume, a count for canary hits. A line that cannot be read is
/// reported and skipped, never fatal.
/// </summary>
public static class DriftMonitor
{
    private const int MaxSkippedKept = 100;

    /// <summary>
    /// The kinds of alert the monitor raises. With <see cref="SignalNames"/> and <see cref="TestNames"/>, the one list of
    /// the names drydock monitor writes in reports and alerts; the gateway's alert relay logs no other word.
    /// </summary>
    public static readonly FrozenSet<string> KindNames = FrozenSet.Create(StringComparer.Ordinal, "drift", "regression", "abuse");

    /// <summary>
    /// The signals <see cref="Compare(IEnumerable{ValueTuple{string, long, string}}, MonitorPeriod, MonitorPeriod, MonitorSettings)"/>
    /// tests (every report holds each), and <c>evaluation</c>: a regression found by <c>drydock monitor evaluate</c>.
    /// </summary>
    public static readonly FrozenSet<string> SignalNames = FrozenSet.Create(StringComparer.Ordinal,
        "traffic", "upstream-errors", "input-blocked", "input-flagged", "output-blocked", "output-redacted", "refusal-rate", "extraction",
        "input-findings", "output-findings", "prompt-length", "latency", "templates", "canary-hits", Evaluation);

    /// <summary>The tests, and <c>asr-rise</c>: an attack success rate's rise over the release gate's (drydock monitor evaluate).</summary>
    public static readonly FrozenSet<string> TestNames = FrozenSet.Create(StringComparer.Ordinal, "ratio", "chi-square", "psi", "ks", "new-share", "count", AsrRise);

    /// <summary>The signal of a regression found by <c>drydock monitor evaluate</c>.</summary>
    public const string Evaluation = "evaluation";

    /// <summary>The test of a regression found by <c>drydock monitor evaluate</c>.</summary>
    public const string AsrRise = "asr-rise";

    /// <summary>The default periods for <paramref name="settings"/> ending at <paramref name="now"/>.</summary>
    public static (MonitorPeriod Window, MonitorPeriod Baseline) DefaultPeriods(MonitorSettings settings, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var window = new MonitorPeriod(now.AddHours(-settings.WindowHours), now);
        return (window, new MonitorPeriod(window.From.AddDays(-settings.BaselineDays), window.From));
    }

    /// <summary>Reads the signal log in <paramref name="folder"/> and compares <paramref name="window"/> with <paramref name="baseline"/>.</summary>
    public static MonitorReport Compare(string folder, MonitorPeriod window, MonitorPeriod baseline, MonitorSettings settings)
    {
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(settings);
        if (window.To <= window.From) throw new ArgumentException("the window ends before it starts");
        if (baseline.To <= baseline.From) throw new ArgumentException("the baseline ends before it starts");
        var first = DateOnly.FromDateTime(Min(window.From, baseline.From).UtcDateTime);
        var last = DateOnly.FromDateTime(Max(window.To, baseline.To).UtcDateTime);
        var files = SignalRecorder.Files(folder).Where(f => f.Day >= first && f.Day <= last).Select(f => f.File).Order(StringComparer.Ordinal).ToList();
        var from = Min(window.From, baseline.From).ToUnixTimeSeconds();
        var to = Max(window.To, baseline.To).ToUnixTimeSeconds();
        var step = Math.Max(1, (long)Math.Ceiling((to - from) / 96.0));
        var scope = new Scope(window, baseline, from, step);
        var parts = new ConcurrentBag<Part>();
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, file => parts.Add(ReadFile(file, scope)));
        var total = new Part(scope);
        foreach (var part in parts) total.Add(part);
        return Test(total, window, baseline, settings, step, from);
    }

    /// <summary>
    /// Compares <paramref name="window"/> with <paramref name="baseline"/> over rows in the signal log's format given as
    /// text (the hourly summaries kept in the registry's database); each row is named by its source and number when it
    /// cannot be read.
    /// </summary>
    public static MonitorReport Compare(IEnumerable<(string Source, long Number, string Row)> rows, MonitorPeriod window, MonitorPeriod baseline, MonitorSettings settings)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(settings);
        if (window.To <= window.From) throw new ArgumentException("the window ends before it starts");
        if (baseline.To <= baseline.From) throw new ArgumentException("the baseline ends before it starts");
        var from = Min(window.From, baseline.From).ToUnixTimeSeconds();
        var to = Max(window.To, baseline.To).ToUnixTimeSeconds();
        var step = Math.Max(1, (long)Math.Ceiling((to - from) / 96.0));
        var part = new Part(new Scope(window, baseline, from, step));
        var row = new SignalCounts();
        foreach (var (source, number, text) in rows) Line(part, row, source, number, System.Text.Encoding.UTF8.GetBytes(text), null);
        return Test(part, window, baseline, settings, step, from);
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private sealed record Scope(MonitorPeriod Window, MonitorPeriod Baseline, long From, long Step)
    {
        public long WindowFrom { get; } = Window.From.ToUnixTimeSeconds();
        public long WindowTo { get; } = Window.To.ToUnixTimeSeconds();
        public long BaselineFrom { get; } = Baseline.From.ToUnixTimeSeconds();
        public long BaselineTo { get; } = Baseline.To.ToUnixTimeSeconds();

        // The baseline's last quarter: its share of clusters unseen before is the baseline's own novelty.
        public long LateFrom { get; } = Baseline.To.ToUnixTimeSeconds() - ((Baseline.To.ToUnixTimeSeconds() - Baseline.From.ToUnixTimeSeconds()) / 4);
    }

    // What one reader gathered (merged at the end).
    private sealed class Part(Scope scope)
    {
        public Scope Scope { get; } = scope;
        public SignalCounts Window { get; } = new();
        public SignalCounts Baseline { get; } = new();
        public long LateRequests { get; set; }
        public Dictionary<string, (long Early, long Late, long Window)> Clusters { get; } = new(StringComparer.Ordinal);
        public Dictionary<long, long[]> Series { get; } = [];
        public Dictionary<string, (long Requests, long High, double Max)> Keys { get; } = new(StringComparer.Ordinal);
        public List<SkippedLine> Skipped { get; } = [];
        public long SkippedCount { get; set; }
        public long Rows { get; set; }

        public void Add(Part other)
        {
            Window.Add(other.Window, templates: false);
            Baseline.Add(other.Baseline, templates: false);
            LateRequests += other.LateRequests;
            foreach (var (k, v) in other.Clusters)
            {
                var c = Clusters.GetValueOrDefault(k);
                Clusters[k] = (c.Early + v.Early, c.Late + v.Late, c.Window + v.Window);
            }

            foreach (var (k, v) in other.Series)
            {
                if (!Series.TryGetValue(k, out var s)) Series[k] = s = new long[7];
                for (var i = 0; i < s.Length; i++) s[i] += v[i];
            }

            foreach (var (k, v) in other.Keys)
            {
                var c = Keys.GetValueOrDefault(k);
                Keys[k] = (c.Requests + v.Requests, c.High + v.High, Math.Max(c.Max, v.Max));
            }

            foreach (var s in other.Skipped) if (Skipped.Count < MaxSkippedKept) Skipped.Add(s);
            SkippedCount += other.SkippedCount;
            Rows += other.Rows;
        }
    }

    private static Part ReadFile(string file, Scope scope)
    {
        var part = new Part(scope);
        var row = new SignalCounts();
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
        var buffer = new byte[1 << 20];
        int filled = 0, read;
        long lineNumber = 0;
        var atEnd = false;
        while (!atEnd)
        {
            read = stream.Read(buffer, filled, buffer.Length - filled);
            atEnd = read == 0;
            filled += read;
            var start = 0;
            while (true)
            {
                var newline = Array.IndexOf(buffer, (byte)'\n', start, filled - start);
                if (newline < 0)
                {
                    if (!atEnd) break;
                    if (start < filled) Line(part, row, file, ++lineNumber, buffer.AsSpan(start, filled - start), "the last line has no line end (cut short?)");
                    start = filled;
                    break;
                }

                Line(part, row, file, ++lineNumber, buffer.AsSpan(start, newline - start), null);
                start = newline + 1;
            }

            // What is left of a line moves to the front; a line longer than the buffer grows it.
            Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
            filled -= start;
            if (filled == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
        }

        return part;
    }

    private static void Line(Part part, SignalCounts row, string file, long number, ReadOnlySpan<byte> line, string? unfinished)
    {
        if (line.Length > 0 && line[^1] == '\r') line = line[..^1];
        if (line.IsEmpty) return;
        row.Clear();
        SignalRowHeader header;
        try
        {
            header = SignalCounts.Read(line, row, names: false);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            part.SkippedCount++;
            if (part.Skipped.Count < MaxSkippedKept) part.Skipped.Add(new SkippedLine(file, number, unfinished ?? Reason(e)));
            return;
        }

        var s = part.Scope;
        var inWindow = header.At >= s.WindowFrom && header.At < s.WindowTo;
        var inBaseline = header.At >= s.BaselineFrom && header.At < s.BaselineTo;
        if (!inWindow && !inBaseline) return;
        part.Rows++;
        if (inWindow)
        {
            part.Window.Add(row, templates: false);
            var k = part.Keys.GetValueOrDefault(header.Key);
            part.Keys[header.Key] = (k.Requests + row.Requests, k.High + row.ExtractionHigh, Math.Max(k.Max, row.ExtractionMax));
        }

        if (inBaseline)
        {
            part.Baseline.Add(row, templates: false);
            if (header.At >= s.LateFrom) part.LateRequests += row.Requests;
        }

        foreach (var (cluster, n) in row.Templates)
        {
            if (n == 0) continue;
            var c = part.Clusters.GetValueOrDefault(cluster);
            part.Clusters[cluster] = inWindow ? (c.Early, c.Late, c.Window + n) : header.At >= s.LateFrom ? (c.Early, c.Late + n, c.Window) : (c.Early + n, c.Late, c.Window);
        }

        var step = s.From + ((header.At - s.From) / s.Step * s.Step);
        if (!part.Series.TryGetValue(step, out var p)) part.Series[step] = p = new long[7];
        p[0] += row.Requests;
        p[1] += row.InputBlockedRequests + row.InputFlaggedRequests;
        p[2] += row.InputBlockedRequests + row.OutputBlockedRequests;
        p[3] += row.CanaryHits;
        p[4] += row.Answers;
        p[5] += row.Refusals;
        p[6] += row.ExtractionHigh;
    }

    // The reader's message less anything quoted from the line (its text could be anything).
    private static string Reason(Exception e) => e is JsonException { Message: var m } && m.Contains("LineNumber", StringComparison.Ordinal)
        ? "not a whole JSON row (" + m[..m.IndexOf(" LineNumber", StringComparison.Ordinal)].TrimEnd('.') + ")"
        : e.Message.Length > 120 ? e.Message[..120] : e.Message;

    private static MonitorReport Test(Part total, MonitorPeriod window, MonitorPeriod baseline, MonitorSettings settings, long step, long from)
    {
        var w = total.Window;
        var b = total.Baseline;
        var notes = new List<string>();
        var results = new List<DriftResult>();
        var enough = true;
        if (b.Requests < settings.MinBaselineRequests)
        {
            notes.Add($"the baseline has {b.Requests} requests, fewer than monitor.min-baseline-requests ({settings.MinBaselineRequests}): drift is not tested (canary hits still are)");
            enough = false;
        }

        if (w.Requests < settings.MinWindowRequests)
        {
            notes.Add($"the window has {w.Requests} requests, fewer than monitor.min-window-requests ({settings.MinWindowRequests}): drift is not tested (canary hits still are)");
            enough = false;
        }

        // Volume: requests per hour.
        var bHours = (baseline.To - baseline.From).TotalHours;
        var wHours = (window.To - window.From).TotalHours;
        var bRate = b.Requests / bHours;
        var wRate = w.Requests / wHours;
        var ratio = bRate > 0 ? wRate / bRate : wRate > 0 ? double.PositiveInfinity : 1;
        var volume = ratio >= 1 ? ratio : ratio > 0 ? 1 / ratio : double.PositiveInfinity;
        results.Add(Verdict(enough, new DriftResult("traffic", "drift", "ratio", bRate, wRate, volume, null, settings.VolumeRatio, ""), volume >= settings.VolumeRatio));

        results.Add(Rate("upstream-errors", "regression", b.UpstreamErrors, b.Requests, w.UpstreamErrors, w.Requests));
        results.Add(Rate("input-blocked", "abuse", b.InputBlockedRequests, b.Requests, w.InputBlockedRequests, w.Requests));
        results.Add(Rate("input-flagged", "drift", b.InputFlaggedRequests, b.Requests, w.InputFlaggedRequests, w.Requests));
        results.Add(Rate("output-blocked", "regression", b.OutputBlockedRequests, b.Requests, w.OutputBlockedRequests, w.Requests));
        results.Add(Rate("output-redacted", "regression", b.OutputRedactedRequests, b.Requests, w.OutputRedactedRequests, w.Requests));
        results.Add(Rate("refusal-rate", "regression", b.Refusals, b.Answers, w.Refusals, w.Answers));
        results.Add(Rate("extraction", "abuse", b.ExtractionHigh, b.Requests, w.ExtractionHigh, w.Requests));
        results.Add(Mix("input-findings", "drift", b.InputFindings(), w.InputFindings()));
        results.Add(Mix("output-findings", "regression", b.OutputFindings(), w.OutputFindings()));
        var lengthKs = DriftStatistics.KolmogorovSmirnovBinned(Doubles(b.PromptLength), Doubles(w.PromptLength));
        results.Add(Verdict(enough, new DriftResult("prompt-length", "drift", "ks", Median(b.PromptLength), Median(w.PromptLength), lengthKs, null, settings.Ks, ""), lengthKs >= settings.Ks));
        var latencyKs = DriftStatistics.KolmogorovSmirnovBinned(Doubles(b.Latency), Doubles(w.Latency));
        var (bLatency, wLatency) = (Median(b.Latency), Median(w.Latency));
        var slow = Math.Max(bLatency, wLatency) >= settings.LatencyFloorMs;
        results.Add(Verdict(enough, new DriftResult("latency", "regression", "ks", bLatency, wLatency, latencyKs, null, settings.Ks, ""), latencyKs >= settings.Ks && slow));

        // Templates: the window's share of requests in clusters the baseline never had, less the baseline's own novelty
        // (its last quarter against the rest), so templates whose openings vary do not alert by themselves.
        long windowTemplated = 0, windowNew = 0, lateNew = 0, late = 0;
        foreach (var (_, c) in total.Clusters)
        {
            windowTemplated += c.Window;
            late += c.Late;
            if (c.Early + c.Late == 0) windowNew += c.Window;
            if (c.Early == 0) lateNew += c.Late;
        }

        var newShare = windowTemplated > 0 ? (double)windowNew / windowTemplated : 0;
        var novelty = late > 0 ? (double)lateNew / late : 0;
        var excess = newShare - novelty;
        results.Add(Verdict(enough, new DriftResult("templates", "drift", "new-share", novelty, newShare, excess, null, settings.NewTemplates, ""), excess >= settings.NewTemplates));

        // A canary in an answer is a leak whatever the baseline.
        results.Add(new DriftResult("canary-hits", "abuse", "count", b.CanaryHits, w.CanaryHits, w.CanaryHits, null, settings.CanaryHits, w.CanaryHits >= settings.CanaryHits ? "drift" : "ok"));

        var series = total.Series.OrderBy(p => p.Key).Select(p => new SeriesPoint(p.Key, p.Value[0], p.Value[1], p.Value[2], p.Value[3], p.Value[4], p.Value[5], p.Value[6])).ToList();
        var keys = total.Keys.Select(k => new KeyExtraction(k.Key, k.Value.Requests, k.Value.High, k.Value.Max)).OrderByDescending(k => k.Max).ThenByDescending(k => k.High).ThenBy(k => k.Key, StringComparer.Ordinal).ToList();
        return new MonitorReport
        {
            Window = window,
            Baseline = baseline,
            WindowTotals = w,
            BaselineTotals = b,
            Results = results,
            Notes = notes,
            Skipped = total.Skipped.OrderBy(s => s.File, StringComparer.Ordinal).ThenBy(s => s.Line).ToList(),
            SkippedCount = total.SkippedCount,
            Rows = total.Rows,
            Step = step,
            RateChange = settings.RateChange,
            Series = series,
            Keys = keys,
        };

        DriftResult Rate(string signal, string kind, long bYes, long bAll, long wYes, long wAll)
        {
            var br = bAll > 0 ? (double)bYes / bAll : 0;
            var wr = wAll > 0 ? (double)wYes / wAll : 0;
            var (statistic, _, p) = DriftStatistics.ChiSquare([bYes, bAll - bYes], [wYes, wAll - wYes]);
            var result = new DriftResult(signal, kind, "chi-square", br, wr, statistic, p, settings.PValue, "");
            if (bAll == 0 || wAll == 0) return result with { Status = enough ? "ok" : "insufficient" };
            return Verdict(enough, result, p < settings.PValue && Math.Abs(wr - br) >= settings.RateChange);
        }

        DriftResult Mix(string signal, string kind, Dictionary<string, long> bTypes, Dictionary<string, long> wTypes)
        {
            var types = bTypes.Keys.Union(wTypes.Keys).Order(StringComparer.Ordinal).ToList();
            var bCounts = types.Select(t => (double)bTypes.GetValueOrDefault(t)).ToList();
            var wCounts = types.Select(t => (double)wTypes.GetValueOrDefault(t)).ToList();
            var psi = DriftStatistics.Psi(bCounts, wCounts);
            var result = new DriftResult(signal, kind, "psi", bCounts.Sum(), wCounts.Sum(), psi, null, settings.Psi, "");

            // A mix of fewer than 20 findings on a side says little: not tested.
            if (bCounts.Sum() < 20 || wCounts.Sum() < 20) return result with { Status = enough ? "ok" : "insufficient" };
            return Verdict(enough, result, psi >= settings.Psi);
        }
    }

    private static DriftResult Verdict(bool enough, DriftResult result, bool crossed) =>
        result with { Status = !enough ? "insufficient" : crossed ? "drift" : "ok" };

    private static double[] Doubles(long[] bins) => [.. bins.Select(b => (double)b)];

    // The median of a log₂ histogram, as the upper edge of the bin that holds it.
    private static double Median(long[] bins)
    {
        var total = bins.Sum();
        if (total == 0) return 0;
        long seen = 0;
        for (var i = 0; i < bins.Length; i++)
        {
            seen += bins[i];
            if (seen * 2 >= total) return Math.Pow(2, i + 1) - 1;
        }

        return Math.Pow(2, bins.Length) - 1;
    }

    /// <summary>Formats a period's bound for reports.</summary>
    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
}
