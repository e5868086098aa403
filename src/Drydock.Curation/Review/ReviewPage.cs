using System.Globalization;
using System.Net;
using System.Text;
using Drydock.Detection;

namespace Drydock.Curation.Review;

/// <summary>
/// The review set as one self-contained HTML page (inline CSS, no script, no external resource): each record with
/// its source, why it was picked, its findings, and its text with every finding highlighted by category.
/// </summary>
public static class ReviewPage
{
    private static readonly Dictionary<string, string> s_colors = new(StringComparer.Ordinal)
    {
        [Categories.Pii] = "#ffd6a5", [Categories.Secret] = "#ffadad", [Categories.Injection] = "#caffbf", [Categories.HiddenText] = "#9bf6ff",
        [Categories.Markup] = "#a0c4ff", [Categories.Url] = "#bdb2ff", [Categories.Malware] = "#ff8fab", [Categories.Poisoning] = "#fdffb6",
    };

    /// <summary>Renders the page.</summary>
    public static string Render(IReadOnlyList<ReviewItem> items, string title)
    {
        ArgumentNullException.ThrowIfNull(items);
        var b = new StringBuilder();
        b.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append("</title>\n<style>\n");
        b.Append("body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}h1{font-size:1.4em}");
        b.Append(".record{border:1px solid #ccc;border-radius:6px;padding:.8em 1em;margin:1em 0}.record.flagged{border-left:6px solid #e63946}");
        b.Append(".meta{color:#555;font-size:.9em}.field{margin:.5em 0}.path{font-family:monospace;color:#555}.text{white-space:pre-wrap;background:#f8f8f8;padding:.4em;border-radius:4px}");
        b.Append("mark{border-radius:3px;padding:0 2px}table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}.legend span{margin-right:.6em;padding:0 4px;border-radius:3px}");
        foreach (var (category, color) in s_colors) b.Append(CultureInfo.InvariantCulture, $"mark.c-{category},.legend .c-{category}{{background:{color}}}");
        b.Append("\n</style></head><body>\n");
        b.Append("<h1>").Append(E(title)).Append("</h1>\n");
        b.Append(CultureInfo.InvariantCulture, $"<p id=\"summary\">{items.Count} records: {items.Count(i => i.Flagged)} flagged, {items.Count(i => !i.Flagged)} from a random sample of unflagged records. Record each decision in decisions.jsonl (approve releases a quarantined record into the next clean; reject drops it).</p>\n");
        b.Append("<p class=\"legend\">");
        foreach (var category in s_colors.Keys) b.Append(CultureInfo.InvariantCulture, $"<span class=\"c-{category}\">{category}</span>");
        b.Append("</p>\n");
        foreach (var item in items)
        {
            b.Append(CultureInfo.InvariantCulture, $"<section class=\"record{(item.Flagged ? " flagged" : "")}\" id=\"{item.ReviewId}\" data-sha256=\"{item.RecordSha256}\">\n");
            b.Append(CultureInfo.InvariantCulture, $"<h2>{item.ReviewId} <span class=\"meta\">{E(item.File)}:{item.Line}{(item.RecordId is null ? "" : " · " + E(item.RecordId))} · {E(item.Source)} ({(item.Trusted ? "trusted" : "untrusted")}) · {(item.Flagged ? "flagged: " + E(string.Join(", ", item.Categories)) : "random sample")}</span></h2>\n");
            if (item.Poisoning is not null) b.Append("<p class=\"poisoning\"><mark class=\"c-poisoning\">poisoning</mark> ").Append(E(item.Poisoning)).Append("</p>\n");
            if (item.Findings.Count > 0)
            {
                b.Append("<table><tr><th>category</th><th>type</th><th>severity</th><th>field</th><th>rule</th><th>excerpt</th></tr>\n");
                foreach (var f in item.Findings)
                {
                    b.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(f.Category)}</td><td>{E(f.Type)}</td><td>{f.Severity.Name()}</td><td class=\"path\">{E(f.Field)}</td><td>{E(f.RuleId)}</td><td>{E(f.Excerpt)}</td></tr>\n");
                }

                b.Append("</table>\n");
            }

            foreach (var field in item.Fields)
            {
                b.Append("<div class=\"field\"><div class=\"path\">").Append(E(field.Path)).Append("</div><div class=\"text\">");
                Highlight(b, field.Text, item.Findings.Where(f => f.Field == field.Path).OrderBy(f => f.Start).ThenByDescending(f => f.End));
                b.Append("</div></div>\n");
            }

            b.Append("</section>\n");
        }

        b.Append("</body></html>\n");
        return b.ToString();
    }

    // Marks each finding's span; overlapping findings extend the first mark.
    private static void Highlight(StringBuilder b, string text, IEnumerable<ReviewFinding> findings)
    {
        var at = 0;
        foreach (var f in findings)
        {
            var start = Math.Clamp(f.Start, at, text.Length);
            var end = Math.Clamp(f.End, start, text.Length);
            if (end <= start) continue;
            b.Append(E(text[at..start]));
            b.Append(CultureInfo.InvariantCulture, $"<mark class=\"c-{f.Category}\" title=\"{E(f.Category)}/{E(f.Type)} {f.Severity.Name()} {E(f.RuleId)}\">").Append(E(text[start..end])).Append("</mark>");
            at = end;
        }

        b.Append(E(text[at..]));
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
