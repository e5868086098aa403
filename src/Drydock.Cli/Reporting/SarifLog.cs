using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Drydock.Detection;
using Drydock.Detection.Engine;

namespace Drydock.Cli.Reporting;

/// <summary>
/// The one SARIF 2.1.0 layout of every report (scan, analyze, model scan, supply-chain check): one run, the rules in
/// <c>tool.driver.rules</c> (id, name, description, default level, category and severity), one invocation with the
/// tool's notifications, then the results, each naming its rule by id and index. Results and notifications stream
/// through spill files, so a report of millions of results is not held in memory.
/// </summary>
internal sealed class SarifLog : IDisposable
{
    private readonly IReadOnlyList<RuleInfo> _rules;
    private readonly Dictionary<string, int> _ruleIndex;
    private readonly SpillFile _results = new(indent: 8);
    private readonly SpillFile _notifications = new(indent: 8);

    public SarifLog(IReadOnlyList<RuleInfo> rules)
    {
        _rules = rules;
        _ruleIndex = [];
        for (var i = 0; i < rules.Count; i++) _ruleIndex.TryAdd(rules[i].Id, i);
    }

    /// <summary>The SARIF level of a severity.</summary>
    public static string Level(Severity severity) => severity >= Severity.High ? "error" : severity == Severity.Medium ? "warning" : "note";

    /// <summary>
    /// Starts a result of <paramref name="ruleId"/>: writes its rule id and index, level and message; the caller writes
    /// the rest of the result's properties and closes the object.
    /// </summary>
    public Utf8JsonWriter StartResult(string ruleId, Severity severity, string message)
    {
        var w = _results.Next();
        w.WriteStartObject();
        w.WriteString("ruleId", ruleId);
        if (_ruleIndex.TryGetValue(ruleId, out var index)) w.WriteNumber("ruleIndex", index);
        w.WriteString("level", Level(severity));
        w.WriteStartObject("message");
        w.WriteString("text", message);
        w.WriteEndObject();
        return w;
    }

    /// <summary>A tool execution notification (a malformed record, an unreadable file) at a file and line.</summary>
    public void AddNotification(string file, long line, string text)
    {
        var w = _notifications.Next();
        w.WriteStartObject();
        w.WriteString("level", "error");
        w.WriteStartObject("message");
        w.WriteString("text", text);
        w.WriteEndObject();
        w.WriteStartArray("locations");
        WriteLocation(w, file, line);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>One location: the file (relative URIs stay relative), the line when known, and the field as a logical location.</summary>
    public static void WriteLocation(Utf8JsonWriter w, string file, long line, string? field = null)
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

    /// <summary>A partial fingerprint: identifies a finding's place (never its value) across runs.</summary>
    public static string Fingerprint(params object[] place) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', place))))[..32];

    private static string ArtifactUri(string file)
    {
        var path = Path.IsPathRooted(file) ? file : Path.GetRelativePath(".", file);
        var segments = path.Replace('\\', '/').Split('/').Select(Uri.EscapeDataString);
        var joined = string.Join('/', segments);
        return Path.IsPathRooted(file) ? "file://" + joined : joined;
    }

    /// <summary>The whole log as text.</summary>
    public string Complete(bool executionSuccessful)
    {
        using var stream = new MemoryStream();
        Complete(executionSuccessful, stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Writes the whole log to <paramref name="output"/>.</summary>
    public void Complete(bool executionSuccessful, Stream output)
    {
        Write(output, "{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \"version\": \"2.1.0\",\n  \"runs\": [\n    {\n      \"tool\": ");
        using (var w = new Utf8JsonWriter(output, Datasets.Output.JsonLineWriter.Compact))
        {
            w.WriteStartObject();
            w.WriteStartObject("driver");
            w.WriteString("name", "drydock");
            w.WriteString("version", ToolInfo.Version);
            w.WriteString("semanticVersion", ToolInfo.Version);
            w.WriteStartArray("rules");
            foreach (var rule in _rules) WriteRule(w, rule);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        Write(output, ",\n      \"invocations\": [{\"executionSuccessful\": " + (executionSuccessful ? "true" : "false") + ", \"toolExecutionNotifications\": [");
        _notifications.CopyTo(output);
        Write(output, _notifications.Count > 0 ? "\n      ]}],\n      \"results\": [" : "]}],\n      \"results\": [");
        _results.CopyTo(output);
        Write(output, _results.Count > 0 ? "\n      ]\n    }\n  ]\n}\n" : "]\n    }\n  ]\n}\n");
        output.Flush();
    }

    private static void WriteRule(Utf8JsonWriter w, RuleInfo rule)
    {
        w.WriteStartObject();
        w.WriteString("id", rule.Id);
        w.WriteString("name", rule.Type);
        w.WriteStartObject("shortDescription");
        w.WriteString("text", rule.Description);
        w.WriteEndObject();
        w.WriteStartObject("defaultConfiguration");
        w.WriteString("level", Level(rule.Severity));
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

    private static void Write(Stream output, string text) => output.Write(Encoding.UTF8.GetBytes(text));

    public void Dispose()
    {
        _results.Dispose();
        _notifications.Dispose();
    }
}
