using System.CommandLine;
using System.Text;
using System.Text.Json;
using Drydock.Cli.Infrastructure;
using Drydock.Datasets.Output;
using Drydock.Detection;

namespace Drydock.Cli.Reporting;

/// <summary>The options and plumbing shared by verbs that report findings: --format, --output, --fail-on.</summary>
internal static class ReportOptions
{
    public static Option<string> Format()
    {
        var option = new Option<string>("--format", "-f") { Description = "Report format: table, json or sarif.", DefaultValueFactory = _ => "table" };
        option.AcceptOnlyFromAmong("table", "json", "sarif");
        return option;
    }

    public static Option<string?> Output() => new("--output", "-o") { Description = "Write the report to this file (atomically) instead of stdout." };

    public static Option<string> FailOn(string defaultValue)
    {
        var option = new Option<string>("--fail-on") { Description = "Exit 1 when a finding has at least this severity: low, medium, high, critical or none.", DefaultValueFactory = _ => defaultValue };
        option.AcceptOnlyFromAmong("low", "medium", "high", "critical", "none");
        return option;
    }

    /// <summary>1 when a severity reaches the threshold, else 0.</summary>
    public static int Exit(string threshold, IEnumerable<Severity> severities) =>
        threshold != "none" && SeverityNames.TryParse(threshold, out var min) && severities.Any(s => s >= min) ? ExitCodes.Findings : ExitCodes.Ok;

    /// <summary>Writes the report to stdout, or atomically to <paramref name="output"/>.</summary>
    public static void Emit(TextWriter stdout, string? output, string text)
    {
        if (output is null)
        {
            stdout.Write(text);
            return;
        }

        using var file = new AtomicFile(output);
        file.Stream.Write(Encoding.UTF8.GetBytes(text));
        file.Commit();
    }

    /// <summary>The <c>tool</c> object every JSON report starts with.</summary>
    public static void WriteTool(Utf8JsonWriter w)
    {
        w.WriteStartObject("tool");
        w.WriteString("name", "drydock");
        w.WriteString("version", ToolInfo.Version);
        w.WriteEndObject();
    }
}
