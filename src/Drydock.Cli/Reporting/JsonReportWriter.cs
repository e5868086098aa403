using System.Text;
using System.Text.Json;
using Drydock.Datasets.Output;
using Drydock.Datasets.Scanning;
using Drydock.Detection;

namespace Drydock.Cli.Reporting;

/// <summary>
/// The scan report JSON of DESIGN.md (schema: docs/schemas/scan-report.schema.json):
/// tool, inputs, summary, findings (one per line), errors. Byte-identical for the same input and version.
/// </summary>
internal sealed class JsonReportWriter : IReportWriter
{
    private readonly SpillFile _findings = new(indent: 4);
    private readonly SpillFile _errors = new(indent: 4);

    public void Add(ScannedRecord record)
    {
        foreach (var located in record.Findings)
        {
            WriteFinding(_findings.Next(), record, located);
        }

        if (record.Problem is { } problem)
        {
            var w = _errors.Next();
            w.WriteStartObject();
            w.WriteString("file", problem.File);
            w.WriteNumber("line", problem.Line);
            w.WriteString("reason", problem.Reason);
            w.WriteBoolean("scanned", record.Read);
            w.WriteEndObject();
        }
    }

    private static void WriteFinding(Utf8JsonWriter w, ScannedRecord record, LocatedFinding located)
    {
        var f = located.Finding;
        w.WriteStartObject();
        JsonLineWriter.WriteRecordPlace(w, record.File, record.Line, record.RecordId);
        w.WriteString("field", located.Field);
        w.WriteString("category", f.Category);
        w.WriteString("type", f.Type);
        w.WriteString("severity", f.Severity.Name());
        w.WriteString("ruleId", f.RuleId);
        w.WriteNumber("start", located.Start);
        w.WriteNumber("end", located.End);
        w.WriteNumber("confidence", f.Confidence);
        w.WriteString("excerpt", f.Excerpt);
        if (f.Encoding is not null) w.WriteString("encoding", f.Encoding);
        w.WriteEndObject();
    }

    public void Complete(ScanTotals totals, Stream output)
    {
        Write(output, "{\n  \"tool\": ");
        Value(output, w =>
        {
            w.WriteStartObject();
            w.WriteString("name", "drydock");
            w.WriteString("version", ToolInfo.Version);
            w.WriteEndObject();
        });
        Write(output, ",\n  \"inputs\": ");
        Value(output, w =>
        {
            w.WriteStartArray();
            foreach (var input in totals.Inputs)
            {
                w.WriteStartObject();
                w.WriteString("path", input.Path);
                w.WriteString("format", input.Format);
                JsonLineWriter.WriteStringOrNull(w, "compression", input.Compression);
                w.WriteNumber("records", input.Records);
                w.WriteNumber("malformed", input.Malformed);
                w.WriteNumber("bytes", input.Bytes);
                w.WriteNumber("findings", input.Findings);
                if (input.Error is not null) w.WriteString("error", input.Error);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
        Write(output, ",\n  \"summary\": ");
        Value(output, w => WriteSummary(w, totals));
        Write(output, ",\n  \"findings\": [");
        _findings.CopyTo(output);
        Write(output, _findings.Count > 0 ? "\n  ],\n  \"errors\": [" : "],\n  \"errors\": [");
        _errors.CopyTo(output);
        Write(output, _errors.Count > 0 ? "\n  ]\n}\n" : "]\n}\n");
        output.Flush();
    }

    private static void WriteSummary(Utf8JsonWriter w, ScanTotals totals)
    {
        w.WriteStartObject();
        w.WriteNumber("files", totals.Inputs.Count);
        w.WriteNumber("records", totals.Records);
        w.WriteNumber("fields", totals.Fields);
        w.WriteNumber("bytes", totals.Bytes);
        w.WriteNumber("findings", totals.Findings);
        w.WriteNumber("malformed", totals.Malformed);
        w.WriteStartObject("bySeverity");
        foreach (var severity in Enum.GetValues<Severity>().Reverse())
        {
            w.WriteNumber(severity.Name(), totals.BySeverity[(int)severity]);
        }

        w.WriteEndObject();
        w.WriteStartObject("byCategory");
        foreach (var (category, count) in totals.ByCategory) w.WriteNumber(category, count);
        w.WriteEndObject();
        w.WriteStartArray("byType");
        foreach (var (key, (category, severity, count)) in totals.ByType)
        {
            w.WriteStartObject();
            w.WriteString("category", category);
            w.WriteString("type", key[(category.Length + 1)..]);
            w.WriteString("severity", severity.Name());
            w.WriteNumber("count", count);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Write(Stream output, string text) => output.Write(Encoding.UTF8.GetBytes(text));

    private static void Value(Stream output, Action<Utf8JsonWriter> write)
    {
        using var writer = new Utf8JsonWriter(output, JsonLineWriter.Compact);
        write(writer);
        writer.Flush();
    }

    public void Dispose()
    {
        _findings.Dispose();
        _errors.Dispose();
    }
}
