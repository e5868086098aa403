using Drydock.Datasets.Scanning;
using Drydock.Detection;
using Drydock.Detection.Engine;

namespace Drydock.Cli.Reporting;

/// <summary>
/// The scan's SARIF (<see cref="SarifLog"/>): every rule of the catalogue, one result per finding (file and line;
/// field, span and masked excerpt in the message and properties), and malformed records as tool execution notifications.
/// </summary>
internal sealed class SarifReportWriter(IReadOnlyList<RuleInfo> rules) : IReportWriter
{
    private readonly SarifLog _log = new(rules);

    public void Add(ScannedRecord record)
    {
        foreach (var located in record.Findings)
        {
            var f = located.Finding;
            var w = _log.StartResult(f.RuleId, f.Severity, $"{f.Type} ({f.Category}) in field {located.Field}: {f.Excerpt}");
            w.WriteStartArray("locations");
            SarifLog.WriteLocation(w, record.File, record.Line, located.Field);
            w.WriteEndArray();
            w.WriteStartObject("partialFingerprints");
            w.WriteString("drydockFinding/v1", SarifLog.Fingerprint(f.RuleId, record.File, record.Line, located.Field, located.Start));
            w.WriteEndObject();
            w.WriteStartObject("properties");
            w.WriteString("category", f.Category);
            w.WriteString("type", f.Type);
            w.WriteString("severity", f.Severity.Name());
            w.WriteNumber("confidence", f.Confidence);
            w.WriteString("field", located.Field);
            if (record.RecordId is not null) w.WriteString("recordId", record.RecordId);
            w.WriteNumber("start", located.Start);
            w.WriteNumber("end", located.End);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        if (record.Problem is { } problem) _log.AddNotification(problem.File, problem.Line, $"{problem.File}:{problem.Line}: {problem.Reason}");
    }

    public void Complete(ScanTotals totals, Stream output) => _log.Complete(totals.Malformed == 0, output);

    public void Dispose() => _log.Dispose();
}
