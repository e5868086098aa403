using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Drydock.Datasets.Scanning;
using Drydock.Detection;
using Drydock.Detection.Engine;

namespace Drydock.Cli.Reporting;

/// <summary>
/// SARIF 2.1.0 for code-scanning dashboards: one run, every rule of the catalogue in <c>tool.driver.rules</c>,
/// one result per finding (file and line; field, span and masked excerpt in the message and properties), and
/// malformed records as tool execution notifications.
/// </summary>
internal sealed class SarifReportWriter : IReportWriter
{
    private readonly IReadOnlyList<RuleInfo> _rules;
    private readonly Dictionary<string, int> _ruleIndex;
    private readonly SpillFile _results = new(indent: 8);
    private readonly SpillFile _notifications = new(indent: 8);

    public SarifReportWriter(IReadOnlyList<RuleInfo> rules)
    {
        _rules = rules;
        _ruleIndex = rules.Select((r, i) => (r.Id, i)).ToDictionary(p => p.Id, p => p.i, StringComparer.Ordinal);
    }

    public void Add(ScannedRecord record)
    {
        foreach (var located in record.Findings)
        {
            WriteResult(_results.Next(), record, located);
        }

        if (record.Problem is { } problem)
        {
            var w = _notifications.Next();
            w.WriteStartObject();
            w.WriteString("level", "error");
            w.WriteStartObject("message");
            w.WriteString("text", $"{problem.File}:{problem.Line}: {problem.Reason}");
            w.WriteEndObject();
            w.WriteStartArray("locations");
            WriteLocation(w, problem.File, problem.Line);
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }

    private void WriteResult(Utf8JsonWriter w, ScannedRecord record, LocatedFinding located)
    {
        var f = located.Finding;
        w.WriteStartObject();
        w.WriteString("ruleId", f.RuleId);
        if (_ruleIndex.TryGetValue(f.RuleId, out var index)) w.WriteNumber("ruleIndex", index);
        w.WriteString("level", f.Severity >= Severity.High ? "error" : f.Severity == Severity.Medium ? "warning" : "note");
        w.WriteStartObject("message");
        w.WriteString("text", $"{f.Type} ({f.Category}) in field {located.Field}: {f.Excerpt}");
        w.WriteEndObject();
        w.WriteStartArray("locations");
        WriteLocation(w, record.File, record.Line, located.Field);
        w.WriteEndArray();
        w.WriteStartObject("partialFingerprints");
        w.WriteString("drydockFinding/v1", Fingerprint(f.RuleId, record.File, record.Line, located.Field, located.Start));
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

    private static void WriteLocation(Utf8JsonWriter w, string file, long line, string? field = null)
    {
        w.WriteStartObject();
        w.WriteStartObject("physicalLocation");
        w.WriteStartObject("artifactLocation");
        w.WriteString("uri", ArtifactUri(file));
        w.WriteEndObject();
        if (line > 0)
        {
            w.WriteStartObject("region");
            w.WriteNumber("startLine", line);
            w.WriteEndObject();
        }

        w.WriteEndObject();
        if (field is not null)
        {
            w.WriteStartArray("logicalLocations");
            w.WriteStartObject();
            w.WriteString("fullyQualifiedName", field);
            w.WriteString("kind", "member");
            w.WriteEndObject();
            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    private static string ArtifactUri(string file)
    {
        var path = Path.IsPathRooted(file) ? file : Path.GetRelativePath(".", file);
        var segments = path.Replace('\\', '/').Split('/').Select(Uri.EscapeDataString);
        var joined = string.Join('/', segments);
        return Path.IsPathRooted(file) ? "file://" + joined : joined;
    }

    // Identifies the finding's place, never its value.
    private static string Fingerprint(string ruleId, string file, long line, string field, int start) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{ruleId}\n{file}\n{line}\n{field}\n{start}")))[..32];

    public void Complete(ScanTotals totals, Stream output)
    {
        Write(output, "{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \"version\": \"2.1.0\",\n  \"runs\": [\n    {\n      \"tool\": ");
        using (var w = new Utf8JsonWriter(output, JsonReportWriter.Compact))
        {
            w.WriteStartObject();
            w.WriteStartObject("driver");
            w.WriteString("name", "drydock");
            w.WriteString("version", ToolInfo.Version);
            w.WriteString("semanticVersion", ToolInfo.Version);
            w.WriteStartArray("rules");
            foreach (var rule in _rules)
            {
                w.WriteStartObject();
                w.WriteString("id", rule.Id);
                w.WriteString("name", rule.Type);
                w.WriteStartObject("shortDescription");
                w.WriteString("text", rule.Description);
                w.WriteEndObject();
                w.WriteStartObject("defaultConfiguration");
                w.WriteString("level", rule.Severity >= Severity.High ? "error" : rule.Severity == Severity.Medium ? "warning" : "note");
                w.WriteEndObject();
                w.WriteStartObject("properties");
                w.WriteString("category", rule.Category);
                w.WriteString("severity", rule.Severity.Name());
                w.WriteStartArray("tags");
                w.WriteStringValue(rule.Category);
                w.WriteStringValue("security");
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        Write(output, ",\n      \"invocations\": [{\"executionSuccessful\": " + (totals.Malformed == 0 ? "true" : "false") + ", \"toolExecutionNotifications\": [");
        _notifications.CopyTo(output);
        Write(output, _notifications.Count > 0 ? "\n      ]}],\n      \"results\": [" : "]}],\n      \"results\": [");
        _results.CopyTo(output);
        Write(output, _results.Count > 0 ? "\n      ]\n    }\n  ]\n}\n" : "]\n    }\n  ]\n}\n");
        output.Flush();
    }

    private static void Write(Stream output, string text) => output.Write(Encoding.UTF8.GetBytes(text));

    public void Dispose()
    {
        _results.Dispose();
        _notifications.Dispose();
    }
}
