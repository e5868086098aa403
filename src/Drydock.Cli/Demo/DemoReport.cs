using System.Globalization;
using System.Net;
using System.Text;

namespace Drydock.Cli.Demo;

/// <summary>The demo's figures as a text table and as a self-contained HTML page.</summary>
internal static class DemoReport
{
    private static readonly (string Name, Func<DemoCommand.Figures, string> Value)[] Columns =
    [
        ("method", f => f.Method),
        ("canary exposure max (bits)", f => f.ExposureMax.ToString("0.0", CultureInfo.InvariantCulture)),
        ("canaries extracted", f => $"{f.CanariesExtracted}/{f.Canaries}"),
        ("membership AUC", f => f.MembershipAuc.ToString("0.00", CultureInfo.InvariantCulture)),
        ("PII leak rate", f => f.PiiLeakRate.ToString("P1", CultureInfo.InvariantCulture)),
        ("held-out loss", f => f.HeldOutLoss.ToString("0.000", CultureInfo.InvariantCulture)),
        ("train tokens/s", f => f.TokensPerSecond.ToString("N0", CultureInfo.InvariantCulture)),
        ("DP ε (guaranteed)", f => f.DpEpsilon is { } e ? e.ToString("0.00", CultureInfo.InvariantCulture) : "none"),
        ("observed ε, membership", f => Bound(f.MembershipObservedEpsilon)),
        ("observed ε, canaries", f => Bound(f.CanaryObservedEpsilon)),
    ];

    // A lower bound as "≥ 0.31", or "-" when the evaluation recorded none.
    private static string Bound(double epsilon) => double.IsNaN(epsilon) ? "-" : "≥ " + epsilon.ToString("0.00", CultureInfo.InvariantCulture);

    // Each seed's models in table order: rushed, hardened, and private when it was trained.
    private static IEnumerable<(string Label, DemoCommand.Figures Figures, bool Ship)> Models(DemoCommand.Row row) =>
        row.Private is null
            ? [("rushed", row.Rushed, row.RushedShip), ("hardened", row.Hardened, row.HardenedShip)]
            : [("rushed", row.Rushed, row.RushedShip), ("hardened", row.Hardened, row.HardenedShip), ("private", row.Private, row.PrivateShip)];

    public static string Table(IReadOnlyList<DemoCommand.Row> rows)
    {
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"{"seed",-5} {"model",-9}");
        foreach (var (name, _) in Columns) b.Append(CultureInfo.InvariantCulture, $" {name,14}");
        b.Append(CultureInfo.InvariantCulture, $" {"gate",8}\n");
        foreach (var row in rows)
        {
            foreach (var (label, figures, ship) in Models(row))
            {
                b.Append(CultureInfo.InvariantCulture, $"{row.Seed,-5} {label,-9}");
                foreach (var (_, value) in Columns) b.Append(CultureInfo.InvariantCulture, $" {value(figures),14}");
                b.Append(CultureInfo.InvariantCulture, $" {(ship ? "SHIP" : "NO-SHIP"),8}\n");
            }
        }

        return b.ToString();
    }

    public static string Html(IReadOnlyList<DemoCommand.Row> rows, IReadOnlyList<string> story)
    {
        var b = new StringBuilder("<h2>Rushed against hardened</h2><table class=\"grid\"><tr><th>seed</th><th>model</th>");
        foreach (var (name, _) in Columns) b.Append("<th>").Append(E(name)).Append("</th>");
        b.Append("<th>gate</th></tr>");
        foreach (var row in rows)
        {
            foreach (var (label, figures, ship) in Models(row))
            {
                b.Append(CultureInfo.InvariantCulture, $"<tr><td>{row.Seed}</td><th>{E(label)} <small>{E(figures.ModelId)}</small></th>");
                foreach (var (_, value) in Columns) b.Append("<td>").Append(E(value(figures))).Append("</td>");
                b.Append(CultureInfo.InvariantCulture, $"<td style=\"background:{(ship ? "#d7f0d7" : "#f6d5d5")}\">{(ship ? "ship" : "no-ship")}</td></tr>");
            }
        }

        b.Append("</table><h2>Why the rushed model does not ship</h2><ul>");
        foreach (var failure in rows.SelectMany(r => r.RushedFailures.Select(f => $"seed {r.Seed}: {f}"))) b.Append("<li>").Append(E(failure)).Append("</li>");
        b.Append("</ul><h2>What happened</h2><ol>");
        foreach (var line in story) b.Append("<li>").Append(E(line)).Append("</li>");
        b.Append("</ol>");
        var summary = $"{rows.Count} seed(s): rushed {(rows.All(r => !r.RushedShip) ? "never ships" : "shipped at least once")}, hardened {(rows.All(r => r.HardenedShip) ? "always ships" : "failed at least once")}";
        return Evaluation.Reports.HtmlReport.Page("Drydock demo: rushed against hardened fine-tuning", summary, b.ToString());
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
