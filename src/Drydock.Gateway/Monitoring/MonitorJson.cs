using System.Text.Json;

namespace Drydock.Gateway.Monitoring;

/// <summary>The monitor's report as JSON (the schema is in docs/monitoring.md).</summary>
public static class MonitorJson
{
    /// <summary>Writes <paramref name="report"/>.</summary>
    public static void Write(Utf8JsonWriter w, MonitorReport report)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(report);
        w.WriteStartObject();
        w.WriteBoolean("alert", report.Alert);
        Period(w, "window", report.Window, report.WindowTotals);
        Period(w, "baseline", report.Baseline, report.BaselineTotals);
        w.WriteNumber("rows", report.Rows);
        w.WriteStartArray("notes");
        foreach (var note in report.Notes) w.WriteStringValue(note);
        w.WriteEndArray();
        w.WriteStartArray("signals");
        foreach (var r in report.Results)
        {
            w.WriteStartObject();
            w.WriteString("signal", r.Signal);
            w.WriteString("kind", r.Kind);
            w.WriteString("test", r.Test);
            Number(w, "baseline", r.Baseline);
            Number(w, "window", r.Window);
            Number(w, "statistic", r.Statistic);
            if (r.PValue is { } p) Number(w, "pValue", p);
            else w.WriteNull("pValue");
            Number(w, "threshold", r.Threshold);
            w.WriteString("status", r.Status);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("keys");
        foreach (var k in report.Keys.Take(100))
        {
            w.WriteStartObject();
            w.WriteString("key", k.Key);
            w.WriteNumber("requests", k.Requests);
            w.WriteNumber("extractionHigh", k.High);
            w.WriteNumber("extractionMax", Math.Round(k.Max, 2));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteNumber("skippedLines", report.SkippedCount);
        w.WriteStartArray("skipped");
        foreach (var s in report.Skipped)
        {
            w.WriteStartObject();
            w.WriteString("file", s.File);
            w.WriteNumber("line", s.Line);
            w.WriteString("reason", s.Reason);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    // JSON has no infinity: an unbounded ratio (traffic from none) is written as null.
    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, Math.Round(value, 6));
        else w.WriteNull(name);
    }

    private static void Period(Utf8JsonWriter w, string name, MonitorPeriod period, SignalCounts totals)
    {
        w.WriteStartObject(name);
        w.WriteString("from", DriftMonitor.Time(period.From));
        w.WriteString("to", DriftMonitor.Time(period.To));
        w.WriteNumber("requests", totals.Requests);
        w.WriteNumber("tokens", totals.Tokens);
        w.WriteNumber("upstreamErrors", totals.UpstreamErrors);
        w.WriteNumber("inputBlocked", totals.InputBlockedRequests);
        w.WriteNumber("outputBlocked", totals.OutputBlockedRequests);
        w.WriteNumber("canaryHits", totals.CanaryHits);
        w.WriteNumber("answers", totals.Answers);
        w.WriteNumber("refusals", totals.Refusals);
        w.WriteNumber("extractionHigh", totals.ExtractionHigh);
        w.WriteEndObject();
    }
}
