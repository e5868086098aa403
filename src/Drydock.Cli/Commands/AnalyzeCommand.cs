using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Drydock.Cli.Infrastructure;
using Drydock.Cli.Reporting;
using Drydock.Curation.Poisoning;
using Drydock.Curation.Policy;
using Drydock.Datasets;
using Drydock.Datasets.Input;
using Drydock.Datasets.Output;
using Drydock.Detection;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock analyze</c>: dataset-level poisoning analysis (triggers, payload stuffing, conflicts, outliers, sources).</summary>
internal static class AnalyzeCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("analyze", "Look for poisoning across a dataset: backdoor triggers, payload stuffing, conflicting answers, outliers, and how each source differs from the trusted ones.");
        var inputs = new Argument<string[]>("inputs") { Description = "Files, directories or glob patterns (sources and trust from drydock.yaml).", Arity = ArgumentArity.OneOrMore };
        var format = ReportOptions.Format();
        var output = ReportOptions.Output();
        var triggers = new Option<string?>("--triggers") { Description = "Also write the trigger candidates as JSONL probes for 'drydock eval'." };
        var failOn = ReportOptions.FailOn("high");
        var inputFormat = new Option<string>("--input-format") { Description = $"Force the input format: {string.Join(", ", DatasetFormatNames.All)}.", DefaultValueFactory = _ => "auto" };
        inputFormat.AcceptOnlyFromAmong([.. DatasetFormatNames.All]);
        var allowMalformed = new Option<bool>("--allow-malformed") { Description = "Report malformed records but do not exit 2 because of them." };
        var top = new Option<int>("--top") { Description = "Findings listed in the table report.", DefaultValueFactory = _ => 20 };
        command.Arguments.Add(inputs);
        foreach (var option in new Option[] { format, output, triggers, failOn, inputFormat, allowMalformed, top }) command.Options.Add(option);
        command.Options.Add(ProjectContext.PolicyOption);
        command.SetAction((parse, _) => ProjectContext.Guard("analyze", stderr, () =>
        {
            var policy = ProjectContext.Load(parse).Policy;
            var (files, errors) = InputFiles.Resolve(parse.GetValue(inputs) ?? []);
            foreach (var error in errors) stderr.WriteLine($"drydock analyze: {error}");
            if (errors.Count > 0) return ExitCodes.UsageOrInput;
            if (!DatasetFormatNames.TryParse(parse.GetValue(inputFormat)!, out var forced)) throw new ArgumentException("unknown input format");

            var malformed = 0;
            var records = PoisoningInput.Load(files, policy, forced, problem =>
            {
                if (++malformed <= 20) stderr.WriteLine($"drydock analyze: {problem.File}:{problem.Line}: {problem.Reason}");
            });
            if (malformed > 20) stderr.WriteLine($"drydock analyze: … {malformed - 20} more malformed records");
            var report = PoisoningAnalyzer.Analyze(records);

            var text = parse.GetValue(format) switch
            {
                "json" => Json(report, files),
                "sarif" => Sarif(report),
                _ => Table(report, parse.GetValue(top)),
            };
            ReportOptions.Emit(stdout, parse.GetValue(output), text);

            if (parse.GetValue(triggers) is { } probesPath)
            {
                using var file = new AtomicFile(probesPath);
                file.Stream.Write(Encoding.UTF8.GetBytes(Probes(report)));
                file.Commit();
                stderr.WriteLine($"drydock analyze: {report.Triggers.Count} trigger probes written to {probesPath}");
            }

            if (malformed > 0 && !parse.GetValue(allowMalformed)) return ExitCodes.UsageOrInput;
            return ReportOptions.Exit(parse.GetValue(failOn)!, report.Findings.Select(f => f.Severity));
        }));
        return command;
    }

    private static string Table(PoisoningReport report, int top)
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

    private static string Json(PoisoningReport report, IReadOnlyList<string> files)
    {
        var sb = new StringWriter();
        JsonOutput.Write(sb, w =>
        {
            w.WriteStartObject();
            ReportOptions.WriteTool(w);
            DatasetCommand.WriteStrings(w, "inputs", files);
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

    private static string Sarif(PoisoningReport report)
    {
        var sb = new StringWriter();
        string Level(Severity s) => s >= Severity.High ? "error" : s == Severity.Medium ? "warning" : "note";
        JsonOutput.Write(sb, w =>
        {
            w.WriteStartObject();
            w.WriteString("$schema", "https://json.schemastore.org/sarif-2.1.0.json");
            w.WriteString("version", "2.1.0");
            w.WriteStartArray("runs");
            w.WriteStartObject();
            w.WriteStartObject("tool");
            w.WriteStartObject("driver");
            w.WriteString("name", "drydock");
            w.WriteString("version", ToolInfo.Version);
            w.WriteStartArray("rules");
            foreach (var (id, name, text) in new[]
            {
                ("DD-POI-001", "trigger", "A rare prompt n-gram strongly associated with one output (possible backdoor trigger)."),
                ("DD-POI-002", "payload-stuffing", "A long block of text repeated across many records."),
                ("DD-POI-003", "conflict", "The same prompt with contradictory answers."),
                ("DD-POI-004", "outlier", "A record far from the trusted records' distribution."),
            })
            {
                w.WriteStartObject();
                w.WriteString("id", id);
                w.WriteString("name", name);
                w.WriteStartObject("shortDescription");
                w.WriteString("text", text);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartArray("results");
            foreach (var f in report.Findings)
            {
                w.WriteStartObject();
                w.WriteString("ruleId", f.Type switch { "trigger" => "DD-POI-001", "payload-stuffing" => "DD-POI-002", "conflict" => "DD-POI-003", _ => "DD-POI-004" });
                w.WriteString("level", Level(f.Severity));
                w.WriteStartObject("message");
                w.WriteString("text", f.Summary);
                w.WriteEndObject();
                w.WriteStartArray("locations");
                foreach (var r in f.Records.Take(25))
                {
                    w.WriteStartObject();
                    w.WriteStartObject("physicalLocation");
                    w.WriteStartObject("artifactLocation");
                    w.WriteString("uri", r.File.Replace('\\', '/'));
                    w.WriteEndObject();
                    w.WriteStartObject("region");
                    w.WriteNumber("startLine", r.Line);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteStartObject("properties");
                w.WriteString("category", PoisoningFinding.Category);
                w.WriteString("severity", f.Severity.Name());
                w.WriteNumber("score", f.Score);
                w.WriteNumber("records", f.Records.Count);
                foreach (var (key, value) in f.Evidence) w.WriteString(key, value);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        });
        return sb.ToString();
    }

    private static string Probes(PoisoningReport report)
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
                DatasetCommand.WriteStrings(w, "prompts", t.ExamplePrompts);
                w.WriteEndObject();
            }

            b.Append(Encoding.UTF8.GetString(stream.ToArray())).Append('\n');
        }

        return b.ToString();
    }
}
