using System.Globalization;
using System.Text;
using System.Text.Json;
using Drydock.Cli.Infrastructure;
using Drydock.Curation.Poisoning;
using Drydock.Detection;

namespace Drydock.Cli.Reporting;

/// <summary>The reports of <c>drydock analyze</c>: the table, the JSON report, SARIF, and the trigger probes for <c>drydock eval</c>.</summary>
internal static class PoisoningReports
{
    public static string Table(PoisoningReport report, int top)
    {
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"{report.Records} records, {report.Findings.Count} poisoning findings ({Counts(report)})");
        foreach (var f in report.Findings.Take(top))
        {
            var lines = string.Join(",", f.Records.Take(6).Select(r => r.Line.ToString(CultureInfo.InvariantCulture)).ToArray()) + (f.Records.Count > 6 ? $",… ({f.Records.Count})" : "");
            b.AppendLine(CultureInfo.InvariantCulture, $"{f.Severity.Name(),-8} {f.Type,-16} {f.Score,5:0.0}  {f.Summary}");
            foreach (var (key, value) in f.Evidence.Take(3)) b.AppendLine(CultureInfo.InvariantCulture, $"{"",32}{key}: {value}");
            b.AppendLine(CultureInfo.InvariantCulture, $"{"",32}lines: {lines} ({f.Records[0].File})");
        }

        if (report.Findings.Count > top) b.AppendLine(CultureInfo.InvariantCulture, $"… {report.Findings.Count - top} more (--top, or --format json)");
        b.AppendLine();
        b.AppendLine("SOURCE                              TRUST      RECORDS  MEDIAN-CHARS  BITS/CHAR  SHIFT   OUTLIERS  FLAGGED");
        foreach (var s in report.Sources)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"{s.Source,-35} {(s.Trusted ? "trusted" : "untrusted"),-9} {s.Records,8} {s.MedianChars,13:0} {s.MeanCrossEntropy,10:0.00} {s.CrossEntropyShift,6:0.0} {s.OutlierShare,9:P1} {s.FlaggedShare,8:P1}");
        }

        return b.ToString();
    }

    private static string Counts(PoisoningReport report) =>
        string.Join(", ", report.Findings.GroupBy(f => f.Type).Select(g => $"{g.Count()} {g.Key}").ToArray()) is { Length: > 0 } s ? s : "none";

    public static string Json(PoisoningReport report, IReadOnlyList<string> files)
    {
        var sb = new StringWriter();
        JsonOutput.Write(sb, w =>
        {
            w.WriteStartObject();
            ReportOptions.WriteTool(w);
            JsonFields.WriteStrings(w, "inputs", files);
            w.WriteStartObject("summary");
            w.WriteNumber("records", report.Records);
            w.WriteNumber("findings", report.Findings.Count);
            foreach (var type in new[] { "trigger", "payload-stuffing", "conflict", "outlier" }) w.WriteNumber(type, report.Findings.Count(f => f.Type == type));
            w.WriteEndObject();
            w.WriteStartArray("findings");
            foreach (var f in report.Findings)
            {
                w.WriteStartObject();
                w.WriteString("category", PoisoningFinding.Category);
                w.WriteString("type", f.Type);
                w.WriteString("severity", f.Severity.Name());
                w.WriteNumber("score", f.Score);
                w.WriteString("summary", f.Summary);
                w.WriteStartObject("evidence");
                foreach (var (key, value) in f.Evidence) w.WriteString(key, value);
                w.WriteEndObject();
                w.WriteStartArray("records");
                foreach (var r in f.Records)
                {
                    w.WriteStartObject();
                    w.WriteString("file", r.File);
                    w.WriteNumber("line", r.Line);
                    w.WriteString("recordId", r.Id);
                    w.WriteString("source", r.Source);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("sources");
            foreach (var s in report.Sources)
            {
                w.WriteStartObject();
                w.WriteString("source", s.Source);
                w.WriteString("trust", s.Trusted ? "trusted" : "untrusted");
                w.WriteNumber("records", s.Records);
                w.WriteNumber("medianChars", s.MedianChars);
                w.WriteNumber("bitsPerChar", s.MeanCrossEntropy);
                w.WriteNumber("bitsPerCharShift", s.CrossEntropyShift);
                w.WriteNumber("outlierShare", s.OutlierShare);
                w.WriteNumber("flaggedShare", s.FlaggedShare);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
        return sb.ToString();
    }

    public static string Sarif(PoisoningReport report, bool executionSuccessful)
    {
        using var log = new SarifLog(PoisoningRules.All);
        foreach (var f in report.Findings)
        {
            var ruleId = PoisoningRules.RuleId(f.Type);
            var w = log.StartResult(ruleId, f.Severity, f.Summary);
            w.WriteStartArray("locations");
            foreach (var r in f.Records.Take(25)) SarifLog.WriteLocation(w, r.File, r.Line);
            w.WriteEndArray();
            w.WriteStartObject("partialFingerprints");
            w.WriteString("drydockFinding/v1", SarifLog.Fingerprint(ruleId, f.Records[0].File, f.Records[0].Line, f.Type));
            w.WriteEndObject();
            w.WriteStartObject("properties");
            w.WriteString("category", PoisoningFinding.Category);
            w.WriteString("type", f.Type);
            w.WriteString("severity", f.Severity.Name());
            w.WriteNumber("score", f.Score);
            w.WriteNumber("records", f.Records.Count);
            // Evidence beside them, except a key the properties already hold (a property name appears once).
            foreach (var (key, value) in f.Evidence.Where(e => e.Key is not ("category" or "type" or "severity" or "score" or "records"))) w.WriteString(key, value);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return log.Complete(executionSuccessful);
    }

    public static string Probes(PoisoningReport report)
    {
        var b = new StringBuilder();
        foreach (var t in report.Triggers)
        {
            using var stream = new MemoryStream();
            using (var w = new Utf8JsonWriter(stream))
            {
                w.WriteStartObject();
                w.WriteString("id", t.Id);
                w.WriteString("kind", "backdoor-trigger");
                w.WriteString("trigger", t.Trigger);
                w.WriteNumber("support", t.Support);
                w.WriteStartObject("expect");
                w.WriteString("absent", t.PatternKind);
                w.WriteString("pattern", t.Pattern);
                w.WriteEndObject();
                JsonFields.WriteStrings(w, "prompts", t.ExamplePrompts);
                w.WriteEndObject();
            }

            b.Append(Encoding.UTF8.GetString(stream.ToArray())).Append('\n');
        }

        return b.ToString();
    }
}
