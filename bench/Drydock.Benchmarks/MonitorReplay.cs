using System.Globalization;
using System.Text;
using Drydock.Gateway.Monitoring;

namespace Drydock.Bench;

/// <summary>
/// The false-alarm rate of <c>drydock monitor --watch</c> and whether it finds planted drift and abuse: writes a signal
/// log of ordinary traffic (5-minute buckets, 12 keys, day/night volume 4:1, weekends at 60 %, every request drawn at
/// random: refusals, findings, extraction scores, upstream errors, prompt length, latency, 40 template clusters with a
/// Zipf mix plus one request in ten with an opening never seen before), then checks it as the watch does, every hour,
/// with the default <c>monitor:</c> settings (the last 24 h against the 7 days before). An alert is a signal that
/// crosses at a check and did not at the one before. The first 8 days are the first baseline; then WEEKS weeks of
/// ordinary traffic are checked (false alarms), then one more day in which, at 10:00, one key starts scraping
/// (300 extraction-like requests an hour) and a new prompt template takes a third of the traffic.
/// </summary>
internal static class MonitorReplay
{
    private const int Bucket = 300;
    private static readonly string[] s_types = ["email", "phone-number", "iban", "prompt-injection"];

    public static int Run(int weeks, int seed, string? keep)
    {
        var folder = keep ?? Path.Combine(Path.GetTempPath(), "drydock-replay-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var start = new DateTimeOffset(2026, 1, 5, 0, 0, 0, TimeSpan.Zero); // a Monday
            var ordinaryEnd = start.AddDays(8 + (7 * weeks));
            var plantAt = ordinaryEnd.AddHours(10);
            var end = ordinaryEnd.AddDays(1);
            var rows = Write(folder, start, end, plantAt, seed);
            Console.WriteLine($"monitor replay: {rows:N0} rows, {start:yyyy-MM-dd} to {end:yyyy-MM-dd}, seed {seed}; checked hourly from day 8 with the default monitor: settings");

            var settings = new MonitorSettings();
            var crossing = new HashSet<string>(StringComparer.Ordinal);
            int checks = 0, falseAlerts = 0, alertChecks = 0;
            var falseBySignal = new SortedDictionary<string, int>(StringComparer.Ordinal);
            var found = new SortedDictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (var now = start.AddDays(8); now <= end; now = now.AddHours(1))
            {
                var window = new MonitorPeriod(now.AddHours(-settings.WindowHours), now);
                var report = DriftMonitor.Compare(folder, window, new MonitorPeriod(window.From.AddDays(-settings.BaselineDays), window.From), settings);
                var crossed = report.Results.Where(r => r.Status == "drift").Select(r => r.Signal).ToHashSet(StringComparer.Ordinal);
                var fresh = crossed.Where(s => !crossing.Contains(s)).ToList();
                crossing = crossed;
                if (now <= plantAt)
                {
                    checks++;
                    if (crossed.Count > 0) alertChecks++;
                    falseAlerts += fresh.Count;
                    foreach (var s in fresh) falseBySignal[s] = falseBySignal.GetValueOrDefault(s) + 1;
                }
                else
                {
                    foreach (var s in fresh) found.TryAdd(s, now);
                }
            }

            Console.WriteLine($"ordinary traffic: {weeks} weeks, {checks} hourly checks: {falseAlerts} alerts ({(double)falseAlerts / weeks:0.##} per week), {alertChecks} checks with a signal crossed" +
                (falseBySignal.Count > 0 ? " (" + string.Join(", ", falseBySignal.Select(p => $"{p.Key} {p.Value}")) + ")" : ""));
            Console.WriteLine($"planted at {plantAt:yyyy-MM-dd HH:mm}Z (a scraping key, a new template): " +
                (found.Count == 0 ? "NOT FOUND" : string.Join(", ", found.Select(p => $"{p.Key} at {p.Value:HH:mm}Z (+{(p.Value - plantAt).TotalHours:0} h)"))));
            Console.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s for the checks");
            return found.ContainsKey("extraction") && found.ContainsKey("templates") ? 0 : 1;
        }
        finally
        {
            if (keep is null) Directory.Delete(folder, recursive: true);
        }
    }

    private static long Write(string folder, DateTimeOffset start, DateTimeOffset end, DateTimeOffset plantAt, int seed)
    {
        var random = new Random(seed);
        var templates = Enumerable.Range(0, 40).Select(_ => random.Next().ToString("x8", CultureInfo.InvariantCulture)).ToArray();
        var zipf = Enumerable.Range(1, 40).Select(k => 1 / Math.Pow(k, 1.1)).ToArray();
        var zipfTotal = zipf.Sum();
        var newTemplate = random.Next().ToString("x8", CultureInfo.InvariantCulture);
        long rows = 0;
        StreamWriter? day = null;
        var dayName = "";
        for (var at = start; at < end; at = at.AddSeconds(Bucket))
        {
            var name = $"signals-{at:yyyy-MM-dd}.jsonl";
            if (name != dayName)
            {
                day?.Dispose();
                day = new StreamWriter(Path.Combine(folder, name), append: false, new UTF8Encoding(false), 1 << 16);
                dayName = name;
            }

            // 600 requests an hour at 14:00, a quarter of that at 02:00; weekends at 60 %.
            var hour = at.Hour + (at.Minute / 60.0);
            var perHour = 600 * (0.25 + (0.75 * (1 + Math.Cos((hour - 14) / 24 * 2 * Math.PI)) / 2)) * (at.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? 0.6 : 1);
            var planted = at >= plantAt;
            for (var k = 0; k < 12; k++)
            {
                var requests = Poisson(random, perHour * Bucket / 3600 / 12);
                if (requests > 0)
                {
                    day!.WriteLine(Row(at, $"ddk_app{k:00}", requests, random, r =>
                        planted && r.NextDouble() < 0.33 ? newTemplate : r.NextDouble() < 0.1 ? r.Next().ToString("x8", CultureInfo.InvariantCulture) : templates[Pick(r, zipf, zipfTotal)], false));
                    rows++;
                }
            }

            if (planted)
            {
                day!.WriteLine(Row(at, "ddk_scraper", Poisson(random, 300.0 * Bucket / 3600), random, r => r.Next().ToString("x8", CultureInfo.InvariantCulture), true));
                rows++;
            }
        }

        day?.Dispose();
        return rows;
    }

    private static string Row(DateTimeOffset at, string key, int requests, Random random, Func<Random, string> template, bool scraping)
    {
        int refusals = 0, flagged = 0, scored = 0, high = 0, errors = 0;
        double max = 0;
        var types = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var clusters = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var length = new long[16];
        var latency = new long[16];
        for (var i = 0; i < requests; i++)
        {
            if (random.NextDouble() < 0.05) refusals++;
            if (random.NextDouble() < 0.005) errors++;
            if (random.NextDouble() < 0.08)
            {
                flagged++;
                var type = s_types[random.Next(s_types.Length)];
                types[type] = types.GetValueOrDefault(type) + 1;
            }

            var score = scraping ? 0.6 + (0.4 * random.NextDouble()) : random.NextDouble() < 0.03 ? 0.3 * random.NextDouble() : 0;
            if (score > 0) scored++;
            if (score >= 0.5) high++;
            max = Math.Max(max, score);
            length[Math.Min(15, Log2(Math.Exp(5 + (0.8 * Normal(random)))))]++;
            latency[Math.Min(15, Log2(Math.Exp(6 + (0.5 * Normal(random)))))]++;
            var c = template(random);
            clusters[c] = clusters.GetValueOrDefault(c) + 1;
        }

        var text = new StringBuilder(256);
        text.Append(CultureInfo.InvariantCulture, $"{{\"at\":{at.ToUnixTimeSeconds()},\"alias\":\"helpdesk\",\"tier\":\"internal\",\"key\":\"{key}\",\"requests\":{requests},\"tokens\":{requests * 180},\"latencyMs\":{requests * 400},\"answers\":{requests - errors}");
        if (errors > 0) text.Append(CultureInfo.InvariantCulture, $",\"upstreamErrors\":{errors}");
        if (refusals > 0) text.Append(CultureInfo.InvariantCulture, $",\"refusals\":{refusals}");
        if (flagged > 0) text.Append(CultureInfo.InvariantCulture, $",\"inputFlaggedRequests\":{flagged},\"inputFlagged\":{{{string.Join(",", types.Select(t => $"\"{t.Key}\":{t.Value}"))}}}");
        if (scored > 0) text.Append(CultureInfo.InvariantCulture, $",\"extractionScored\":{scored},\"extractionHigh\":{high},\"extractionMax\":{max:0.###}");
        text.Append(",\"promptLength\":[").Append(string.Join(",", length)).Append("],\"latency\":[").Append(string.Join(",", latency)).Append(']');
        text.Append(",\"templates\":{").Append(string.Join(",", clusters.Select(c => $"\"{c.Key}\":{c.Value}"))).Append("}}");
        return text.ToString();
    }

    private static int Log2(double value) => (int)Math.Floor(Math.Log2(value + 1));

    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static int Pick(Random random, double[] weights, double total)
    {
        var x = random.NextDouble() * total;
        for (var i = 0; i < weights.Length; i++)
        {
            x -= weights[i];
            if (x <= 0) return i;
        }

        return weights.Length - 1;
    }

    private static int Poisson(Random random, double mean)
    {
        // Knuth's method: the means here are small (a few per bucket and key).
        var limit = Math.Exp(-mean);
        var product = random.NextDouble();
        var n = 0;
        while (product > limit)
        {
            n++;
            product *= random.NextDouble();
        }

        return n;
    }
}
