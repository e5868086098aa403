using System.Globalization;
using System.Net;
using System.Text;
using Drydock.Evaluation.Privacy;

namespace Drydock.Evaluation.Reports;

/// <summary>
/// Self-contained HTML reports (no script, no external file: charts are inline SVG) for each evaluation: attack
/// success per probe family and strategy, the exposure histogram of canaries, the ROC curve of membership inference.
/// Every text is HTML-encoded; no answer text or secret value appears (only verdicts, reasons and figures).
/// </summary>
public static class HtmlReport
{
    /// <summary>The probe report: a bar per family (all strategies) and a family × strategy table shaded by rate.</summary>
    public static string Probes(string title, IReadOnlyList<ProbeResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var rates = SuccessRate.Of(results);
        var families = rates.Where(r => r.Strategy == "all").ToList();
        var strategies = rates.Select(r => r.Strategy).Where(s => s != "all").Distinct().Order(StringComparer.Ordinal).ToList();
        var b = new StringBuilder();
        b.Append("<h2>Attack success per family</h2>");
        b.Append(Bars([.. families.Select(f => (f.Family, f.Rate, $"{f.Successes}/{f.Probes - f.Errors}"))], 1.0, "rate"));
        b.Append("<h2>Per family and strategy</h2><table class=\"grid\"><tr><th>family</th>");
        foreach (var s in strategies) b.Append("<th>").Append(E(s)).Append("</th>");
        b.Append("<th>all</th></tr>");
        foreach (var family in families)
        {
            b.Append("<tr><th>").Append(E(family.Family)).Append("</th>");
            foreach (var s in strategies.Append("all"))
            {
                var cell = rates.FirstOrDefault(r => r.Family == family.Family && r.Strategy == s);
                if (cell is null) b.Append("<td class=\"na\">–</td>");
                else b.Append(CultureInfo.InvariantCulture, $"<td class=\"rate\" style=\"background:{Shade(cell.Rate)}\" title=\"{cell.Successes} of {cell.Probes - cell.Errors}\">{cell.Rate:P0}</td>");
            }

            b.Append("</tr>");
        }

        b.Append("</table><h2>Successful attacks</h2><table class=\"list\"><tr><th>probe</th><th>strategy</th><th>why</th></tr>");
        foreach (var r in results.Where(r => r.Success)) b.Append("<tr class=\"success\"><td>").Append(E(r.Suite + "/" + r.Probe)).Append("</td><td>").Append(E(r.Strategy)).Append("</td><td>").Append(E(r.Reason)).Append("</td></tr>");
        b.Append("</table>");
        return Page(title, $"{results.Count} probes, {results.Count(r => r.Success)} successful attacks, {results.Count(r => r.Error is not null)} errors", b.ToString());
    }

    /// <summary>The memorisation report: exposure histogram (5-bit bins), one row per canary, and the canary audit's statement when given.</summary>
    public static string Memorization(string title, IReadOnlyList<CanaryOutcome> outcomes, string? audit = null)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var bins = Enumerable.Range(0, 12).Select(i => ($"{i * 5}–{(i + 1) * 5}", (double)outcomes.Count(o => o.ExposureBits >= i * 5 && (o.ExposureBits < (i + 1) * 5 || (i == 11 && o.ExposureBits <= 60))), "")).ToList();
        var b = new StringBuilder("<h2>Exposure (bits) of each canary</h2>");
        b.Append(Bars([.. bins.Select(x => (x.Item1, x.Item2, ((int)x.Item2).ToString(CultureInfo.InvariantCulture)))], Math.Max(1, bins.Max(x => x.Item2)), "count"));
        b.Append("<table class=\"list\"><tr><th>canary</th><th>extracted</th><th>exposure</th></tr>");
        foreach (var o in outcomes)
        {
            b.Append(CultureInfo.InvariantCulture, $"<tr class=\"{(o.ExtractedGreedy || o.ExtractedSampled ? "success" : "")}\"><td>{E(o.Id)}</td><td>{(o.ExtractedGreedy ? "greedy" : o.ExtractedSampled ? "sampled" : "no")}</td><td>{o.ExposureBits:0.0} bits</td></tr>");
        }

        b.Append("</table>");
        if (audit is not null) b.Append("<h2>Canary audit</h2><p class=\"audit\">").Append(System.Net.WebUtility.HtmlEncode(audit)).Append("</p>");
        return Page(title, $"{outcomes.Count} canaries, {outcomes.Count(o => o.ExtractedGreedy || o.ExtractedSampled)} extracted, highest exposure {(outcomes.Count == 0 ? 0 : outcomes.Max(o => o.ExposureBits)):0.0} bits", b.ToString());
    }

    /// <summary>The membership report: the ROC curve against the diagonal, the figures, and the privacy audit's statement (observed ε beside the guaranteed one) when given.</summary>
    public static string Membership(string title, MembershipResult result, string? audit = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        const int size = 320;
        string P(double x, double y) => string.Create(CultureInfo.InvariantCulture, $"{30 + (x * size):0.#},{10 + ((1 - y) * size):0.#}");
        var b = new StringBuilder("<h2>ROC curve</h2>");
        b.Append(CultureInfo.InvariantCulture, $"<svg class=\"roc\" width=\"{size + 40}\" height=\"{size + 40}\" role=\"img\" aria-label=\"ROC curve\">");
        b.Append(CultureInfo.InvariantCulture, $"<rect x=\"30\" y=\"10\" width=\"{size}\" height=\"{size}\" fill=\"none\" stroke=\"#999\"/>");
        b.Append(CultureInfo.InvariantCulture, $"<line class=\"chance\" x1=\"30\" y1=\"{10 + size}\" x2=\"{30 + size}\" y2=\"10\" stroke=\"#bbb\" stroke-dasharray=\"4\"/>");
        b.Append("<polyline class=\"curve\" fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"").Append(string.Join(" ", result.Roc.Select(p => P(p.Fpr, p.Tpr)).ToArray())).Append("\"/>");
        b.Append(CultureInfo.InvariantCulture, $"<text x=\"30\" y=\"{size + 35}\">false-positive rate →</text></svg>");
        b.Append(CultureInfo.InvariantCulture, $"<table class=\"list\"><tr><th>AUC</th><td>{result.Auc:0.000}</td></tr><tr><th>TPR at 1% FPR</th><td>{result.TprAt1PercentFpr:0.000}</td></tr><tr><th>advantage</th><td>{result.Advantage:0.000}</td></tr><tr><th>members / non-members</th><td>{result.Members} / {result.NonMembers}</td></tr></table>");
        if (audit is not null) b.Append("<h2>Privacy audit</h2><p class=\"audit\">").Append(System.Net.WebUtility.HtmlEncode(audit)).Append("</p>");
        return Page(title, $"membership inference: AUC {result.Auc:0.000}", b.ToString());
    }

    private static string Bars(IReadOnlyList<(string Label, double Value, string Note)> bars, double max, string what)
    {
        const int width = 420;
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"<svg class=\"bars\" width=\"{width + 260}\" height=\"{(bars.Count * 26) + 10}\" role=\"img\" aria-label=\"{E(what)} per row\">");
        for (var i = 0; i < bars.Count; i++)
        {
            var (label, value, note) = bars[i];
            var y = 5 + (i * 26);
            var w = max <= 0 ? 0 : value / max * width;
            b.Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"{y + 15}\">{E(label)}</text>");
            b.Append(CultureInfo.InvariantCulture, $"<rect class=\"bar\" x=\"200\" y=\"{y}\" width=\"{w:0.#}\" height=\"20\" fill=\"{(what == "rate" ? Shade(value) : "#5b7db1")}\"><title>{E(label)}: {E(note)}</title></rect>");
            b.Append(CultureInfo.InvariantCulture, $"<text x=\"{205 + w:0.#}\" y=\"{y + 15}\">{(what == "rate" ? value.ToString("P0", CultureInfo.InvariantCulture) : E(note))}</text>");
        }

        return b.Append("</svg>").ToString();
    }

    // Green at 0 to red at 1.
    private static string Shade(double rate)
    {
        var r = (int)(120 + (135 * Math.Clamp(rate, 0, 1)));
        var g = (int)(200 - (130 * Math.Clamp(rate, 0, 1)));
        return $"rgb({r},{g},110)";
    }

    /// <summary>A complete page in the reports' style around <paramref name="body"/> (already HTML).</summary>
    public static string Page(string title, string summary, string body) => $$"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>{{E(title)}}</title>
        <style>
        body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
        table { border-collapse: collapse; margin: 1em 0; } th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; }
        td.rate { text-align: right; color: #111; white-space: nowrap; } td.na { color: #aaa; } tr.success td { background: #fbeaea; }
        svg text { font: 12px system-ui, sans-serif; }
        </style></head>
        <body><h1>{{E(title)}}</h1><p class="summary">{{E(summary)}}</p>
        {{body}}
        </body></html>

        """;

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
