using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Drydock.Gateway.Monitoring;

/// <summary>
/// The monitor's report as one self-contained HTML page (<c>drydock monitor --html</c>, and the gateway's
/// <c>/admin/dashboard</c>): inline SVG charts drawn here, no script, no external font, image or style sheet, and a
/// Content-Security-Policy that allows nothing but its one style element (by hash). Key ids, aliases, types and
/// numbers only; every text is HTML-encoded.
/// </summary>
public static class MonitorPage
{
    private const string Style = """
        body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}
        h1{font-size:22px}h2{font-size:17px;margin-top:28px}
        table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
        tr.drift td{background:#fde2e2}tr.insufficient td{color:#777}
        .note{background:#fff6d6;padding:6px 10px;border:1px solid #e6cf7a}
        svg{background:#fafafa;border:1px solid #ddd}
        text{font-size:11px;fill:#333}
        .bar.baseline{fill:#9aa5b1}.bar.window{fill:#2b6cb0}.bar.drift{fill:#c53030}.bar.ok{fill:#2f855a}.bar.insufficient{fill:#a0aec0}
        .line{fill:none;stroke-width:2}.line.findings{stroke:#d69e2e}.line.blocked{stroke:#c53030}.line.refusals{stroke:#6b46c1}
        .limit{stroke:#c53030;stroke-dasharray:4 3}.split{stroke:#555;stroke-dasharray:2 2}
        """;

    /// <summary>The page for <paramref name="report"/>.</summary>
    public static string Render(MonitorReport report, string title) => Render(report, title, null);

    /// <summary>The page for <paramref name="report"/>, with the registry's open incidents and deployments when <paramref name="panels"/> is given.</summary>
    public static string Render(MonitorReport report, string title, DashboardPanels? panels)
    {
        ArgumentNullException.ThrowIfNull(report);
        var hash = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Style)));
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        h.Append(CultureInfo.InvariantCulture, $"<meta http-equiv=\"Content-Security-Policy\" content=\"{ContentSecurityPolicy(hash)}\">");
        h.Append("<meta name=\"referrer\" content=\"no-referrer\">");
        h.Append(CultureInfo.InvariantCulture, $"<title>{E(title)}</title><style>{Style}</style></head><body>");
        h.Append(CultureInfo.InvariantCulture, $"<h1>{E(title)}</h1>");
        h.Append(CultureInfo.InvariantCulture, $"<p>Window {DriftMonitor.Time(report.Window.From)} – {DriftMonitor.Time(report.Window.To)}: <b>{report.WindowTotals.Requests}</b> requests. Baseline {DriftMonitor.Time(report.Baseline.From)} – {DriftMonitor.Time(report.Baseline.To)}: <b>{report.BaselineTotals.Requests}</b> requests. ");
        h.Append(report.Alert ? "<b id=\"verdict\">ALERT: a signal crossed its threshold.</b></p>" : "<b id=\"verdict\">Quiet: no signal crossed its threshold.</b></p>");
        foreach (var note in report.Notes) h.Append(CultureInfo.InvariantCulture, $"<p class=\"note\">{E(note)}</p>");
        if (report.SkippedCount > 0) h.Append(CultureInfo.InvariantCulture, $"<p class=\"note\">{report.SkippedCount} unreadable line(s) of the signal log skipped (first: {E(Path.GetFileName(report.Skipped[0].File))} line {report.Skipped[0].Line}).</p>");

        panels?.Render(h);
        h.Append("<h2>Drift per signal against its threshold</h2>");
        Drift(h, report);
        h.Append("<table><tr><th>signal</th><th>kind</th><th>test</th><th>baseline</th><th>window</th><th>statistic</th><th>p</th><th>threshold</th><th>status</th></tr>");
        foreach (var r in report.Results)
        {
            h.Append(CultureInfo.InvariantCulture, $"<tr class=\"{r.Status}\"><td>{E(r.Signal)}</td><td>{r.Kind}</td><td>{r.Test}</td><td>{N(r.Baseline)}</td><td>{N(r.Window)}</td><td>{N(r.Statistic)}</td><td>{(r.PValue is { } p ? N(p) : "")}</td><td>{N(r.Threshold)}</td><td>{r.Status}</td></tr>");
        }

        h.Append("</table>");
        var windowFrom = report.Window.From.ToUnixTimeSeconds();
        h.Append(CultureInfo.InvariantCulture, $"<h2>Traffic (requests per {Span(report.Step)}; grey: baseline, blue: window)</h2>");
        Bars(h, "traffic", report.Series.Select(p => (p.At, (double)p.Requests, p.At >= windowFrom ? "window" : "baseline")).ToList(), report);
        h.Append("<h2>Guard findings and blocks over time (amber: requests with input findings, red: blocked)</h2>");
        Lines(h, "findings", report, [("findings", p => p.InputFindings), ("blocked", p => p.Blocked)]);
        h.Append("<h2>Canary hits</h2>");
        Bars(h, "canary", report.Series.Select(p => (p.At, (double)p.CanaryHits, p.CanaryHits > 0 ? "drift" : "baseline")).ToList(), report);
        h.Append("<h2>Refusal rate of answers</h2>");
        Lines(h, "refusals", report, [("refusals", p => p.Answers > 0 ? 100.0 * p.Refusals / p.Answers : 0)], percent: true);
        h.Append("<h2>Findings by type (share of findings; grey: baseline, blue: window)</h2>");
        Types(h, report);
        h.Append("<h2>Extraction score per key (window; highest 15)</h2>");
        Keys(h, report);
        h.Append("</body></html>");
        return h.ToString();
    }

    /// <summary>The page's policy: nothing may load or run; the one style element is allowed by its hash.</summary>
    public static string ContentSecurityPolicy(string? styleHash = null) =>
        $"default-src 'none'; style-src 'sha256-{styleHash ?? Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Style)))}'; img-src 'none'; base-uri 'none'; form-action 'none'";

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string N(double value) => double.IsInfinity(value) ? "∞" : value.ToString(Math.Abs(value) >= 100 ? "0" : "0.####", CultureInfo.InvariantCulture);

    private static string Span(long seconds) => seconds % 3600 == 0 ? $"{seconds / 3600} h" : seconds % 60 == 0 ? $"{seconds / 60} min" : $"{seconds} s";

    private static string F(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    private const int Width = 900;
    private const int Height = 180;
    private const int Left = 50;

    private static void Axis(StringBuilder h, double max, string unit)
    {
        h.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"14\">{N(max)}{unit}</text><text x=\"4\" y=\"{Height - 6}\">0</text>");
        h.Append(CultureInfo.InvariantCulture, $"<line class=\"split\" x1=\"{Left}\" y1=\"{Height - 20}\" x2=\"{Width}\" y2=\"{Height - 20}\"/>");
    }

    private static double X(MonitorReport report, long at)
    {
        var from = Math.Min(report.Window.From.ToUnixTimeSeconds(), report.Baseline.From.ToUnixTimeSeconds());
        var to = Math.Max(report.Window.To.ToUnixTimeSeconds(), report.Baseline.To.ToUnixTimeSeconds());
        return Left + ((Width - Left - 10) * (double)(at - from) / Math.Max(1, to - from));
    }

    private static void Bars(StringBuilder h, string name, List<(long At, double Value, string Class)> points, MonitorReport report)
    {
        var max = Math.Max(1, points.Count == 0 ? 1 : points.Max(p => p.Value));
        var width = Math.Max(1.5, X(report, report.Step) - X(report, 0) - 1);
        h.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart {name}\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\">");
        Axis(h, max, "");
        foreach (var (at, value, cls) in points)
        {
            if (value <= 0) continue;
            var height = (Height - 30) * value / max;
            h.Append(CultureInfo.InvariantCulture, $"<rect class=\"bar {cls}\" x=\"{F(X(report, at))}\" y=\"{F(Height - 20 - height)}\" width=\"{F(width)}\" height=\"{F(height)}\"><title>{N(value)}</title></rect>");
        }

        Split(h, report);
        h.Append("</svg>");
    }

    private static void Split(StringBuilder h, MonitorReport report)
    {
        var x = F(X(report, report.Window.From.ToUnixTimeSeconds()));
        h.Append(CultureInfo.InvariantCulture, $"<line class=\"split\" x1=\"{x}\" y1=\"0\" x2=\"{x}\" y2=\"{Height - 20}\"/><text x=\"{x}\" y=\"{Height - 6}\">window</text>");
    }

    private static void Lines(StringBuilder h, string name, MonitorReport report, (string Class, Func<SeriesPoint, double> Value)[] lines, bool percent = false)
    {
        var max = Math.Max(percent ? 10 : 1, lines.Max(l => report.Series.Count == 0 ? 0 : report.Series.Max(l.Value)));
        h.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart {name}\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\">");
        Axis(h, max, percent ? " %" : "");
        foreach (var (cls, value) in lines)
        {
            var points = string.Join(" ", report.Series.Select(p => $"{F(X(report, p.At))},{F(Height - 20 - ((Height - 30) * value(p) / max))}"));
            if (points.Length > 0) h.Append(CultureInfo.InvariantCulture, $"<polyline class=\"line {cls}\" points=\"{points}\"/>");
        }

        Split(h, report);
        h.Append("</svg>");
    }

    // Each signal's statistic as a share of its threshold (1 = the threshold line); a rate's is its change against monitor.rate-change.
    private static void Drift(StringBuilder h, MonitorReport report)
    {
        var rows = report.Results.Count;
        var height = (rows * 20) + 20;
        h.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart drift\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" role=\"img\">");
        const int left = 150;
        const double scale = (Width - left - 20) / 3.0;
        for (var i = 0; i < rows; i++)
        {
            var r = report.Results[i];
            var share = r.Test switch
            {
                // A rate's change against monitor.rate-change, halved while the change is not significant.
                "chi-square" => Math.Abs(r.Window - r.Baseline) / Math.Max(1e-9, report.RateChange) * (r.PValue < r.Threshold ? 1 : 0.5),
                _ => r.Threshold > 0 ? r.Statistic / r.Threshold : 0,
            };
            share = double.IsFinite(share) ? Math.Clamp(share, 0, 3) : 3;
            h.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"{(i * 20) + 14}\">{E(r.Signal)}</text>");
            h.Append(CultureInfo.InvariantCulture, $"<rect class=\"bar {r.Status}\" x=\"{left}\" y=\"{(i * 20) + 4}\" width=\"{F(Math.Max(1, share * scale))}\" height=\"14\"><title>{E(r.Signal)}: {N(r.Statistic)} ({r.Test}) against {N(r.Threshold)}: {r.Status}</title></rect>");
        }

        var limit = F(left + scale);
        h.Append(CultureInfo.InvariantCulture, $"<line class=\"limit\" x1=\"{limit}\" y1=\"0\" x2=\"{limit}\" y2=\"{height - 14}\"/><text x=\"{limit}\" y=\"{height - 2}\">threshold</text></svg>");
    }

    private static void Types(StringBuilder h, MonitorReport report)
    {
        var b = report.BaselineTotals.InputFindings();
        SignalCounts.Merge(b, report.BaselineTotals.OutputFindings());
        var w = report.WindowTotals.InputFindings();
        SignalCounts.Merge(w, report.WindowTotals.OutputFindings());
        var types = b.Keys.Union(w.Keys).Order(StringComparer.Ordinal).Take(20).ToList();
        double bt = Math.Max(1, b.Values.Sum()), wt = Math.Max(1, w.Values.Sum());
        var height = (types.Count * 26) + 20;
        h.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart types\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" role=\"img\">");
        const int left = 200;
        for (var i = 0; i < types.Count; i++)
        {
            var t = types[i];
            var bs = b.GetValueOrDefault(t) / bt;
            var ws = w.GetValueOrDefault(t) / wt;
            h.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"{(i * 26) + 16}\">{E(t)}</text>");
            h.Append(CultureInfo.InvariantCulture, $"<rect class=\"bar baseline\" x=\"{left}\" y=\"{(i * 26) + 4}\" width=\"{F(Math.Max(1, bs * (Width - left - 20)))}\" height=\"10\"><title>baseline {b.GetValueOrDefault(t)}</title></rect>");
            h.Append(CultureInfo.InvariantCulture, $"<rect class=\"bar window\" x=\"{left}\" y=\"{(i * 26) + 14}\" width=\"{F(Math.Max(1, ws * (Width - left - 20)))}\" height=\"10\"><title>window {w.GetValueOrDefault(t)}</title></rect>");
        }

        if (types.Count == 0) h.Append("<text x=\"4\" y=\"14\">no findings</text>");
        h.Append("</svg>");
    }

    private static void Keys(StringBuilder h, MonitorReport report)
    {
        var keys = report.Keys.Take(15).ToList();
        var height = (keys.Count * 20) + 20;
        h.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart keys\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" role=\"img\">");
        const int left = 260;
        for (var i = 0; i < keys.Count; i++)
        {
            var k = keys[i];
            h.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"{(i * 20) + 14}\">{E(k.Key)} ({k.High}/{k.Requests} high)</text>");
            h.Append(CultureInfo.InvariantCulture, $"<rect class=\"bar {(k.High > 0 ? "drift" : "window")}\" x=\"{left}\" y=\"{(i * 20) + 4}\" width=\"{F(Math.Max(1, k.Max * (Width - left - 20)))}\" height=\"14\"><title>max score {N(k.Max)}</title></rect>");
        }

        if (keys.Count == 0) h.Append("<text x=\"4\" y=\"14\">no requests in the window</text>");
        h.Append("</svg>");
    }
}
