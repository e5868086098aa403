using System.CommandLine;
using System.Text;
using Drydock.Cli.Infrastructure;
using Drydock.Cli.Reporting;
using Drydock.Detection;
using Drydock.Detection.Engine;
using Drydock.SupplyChain.ModelFiles;
using Drydock.SupplyChain.Pinning;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock model scan</c> and <c>drydock supply-chain check</c>: their table, JSON and SARIF reports.</summary>
internal static class SupplyChainCommand
{
    public static Command CreateModelScan(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("scan", "Scan model files before loading them: pickles (PyTorch, joblib, numpy) against an allow-list, safetensors, GGUF, ONNX, Keras.");
        var paths = new Argument<string[]>("paths") { Description = "Files or folders.", Arity = ArgumentArity.OneOrMore };
        var format = ReportOptions.Format();
        var output = ReportOptions.Output();
        var failOn = ReportOptions.FailOn("high");
        command.Arguments.Add(paths);
        foreach (var option in new Option[] { format, output, failOn }) command.Options.Add(option);
        command.SetAction((parse, _) => ProjectContext.Guard("model scan", stderr, () =>
        {
            var reports = ModelScanner.ScanPaths(parse.GetValue(paths) ?? []).ToList();
            var findings = reports.SelectMany(r => r.Findings).OrderByDescending(f => f.Severity).ThenBy(f => f.File, StringComparer.Ordinal).ThenBy(f => f.Offset).ToList();
            var text = parse.GetValue(format) switch
            {
                "json" => ModelJson(reports, findings),
                "sarif" => Sarif(findings.Select(f => (f.File, 0L, f.Entry is null ? $"{f.Category}/{f.Type}" : $"{f.Category}/{f.Type} in {f.Entry}", f.Category, f.Type, f.Severity, f.Message))),
                _ => ModelTable(reports, findings),
            };
            ReportOptions.Emit(stdout, parse.GetValue(output), text);
            return ReportOptions.Exit(parse.GetValue(failOn)!, findings.Select(f => f.Severity));
        }));
        return command;
    }

    public static Command CreateCheck(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("supply-chain", "Supply-chain checks of a training project.");
        var check = new Command("check", "Report unpinned dependencies (requirements*.txt, pyproject.toml, environment.yml, package.json, .csproj) and models loaded from mutable references.");
        var root = new Argument<string>("path") { Description = "The training project (folder or file).", DefaultValueFactory = _ => "." };
        var format = ReportOptions.Format();
        var failOn = ReportOptions.FailOn("medium");
        check.Arguments.Add(root);
        check.Options.Add(format);
        check.Options.Add(failOn);
        check.SetAction((parse, _) => ProjectContext.Guard("supply-chain check", stderr, () =>
        {
            var path = parse.GetValue(root)!;
            if (!File.Exists(path) && !Directory.Exists(path)) throw new FileNotFoundException($"{path}: no such file or folder");
            var findings = PinningChecker.Check(path);
            var text = parse.GetValue(format) switch
            {
                "json" => PinningJson(findings),
                "sarif" => Sarif(findings.Select(f => (f.File, (long)Math.Max(1, f.Line), f.Type, "supply-chain", f.Type, f.Severity, f.Message))),
                _ => PinningTable(findings),
            };
            stdout.Write(text);
            return ReportOptions.Exit(parse.GetValue(failOn)!, findings.Select(f => f.Severity));
        }));
        command.Subcommands.Add(check);
        return command;
    }

    private static string ModelTable(List<ModelFileReport> reports, List<ModelFinding> findings)
    {
        var b = new StringBuilder();
        b.AppendLine($"{reports.Count} files, {findings.Count} findings");
        foreach (var r in reports) b.AppendLine($"  {r.Kind,-12} {r.Bytes,14}  sha256:{r.Sha256}  {r.File}");
        foreach (var f in findings) b.AppendLine($"{f.Severity.Name(),-8} {f.Category,-10} {f.Type,-26} {f.File}{(f.Entry is null ? "" : "!" + f.Entry)}@{f.Offset}: {f.Message}");
        return b.ToString();
    }

    private static string ModelJson(List<ModelFileReport> reports, List<ModelFinding> findings)
    {
        var sb = new StringWriter();
        JsonOutput.Write(sb, w =>
        {
            w.WriteStartObject();
            ReportOptions.WriteTool(w);
            w.WriteStartObject("summary");
            w.WriteNumber("files", reports.Count);
            w.WriteNumber("findings", findings.Count);
            w.WriteEndObject();
            w.WriteStartArray("files");
            foreach (var r in reports)
            {
                w.WriteStartObject();
                w.WriteString("file", r.File);
                w.WriteString("kind", r.Kind);
                w.WriteNumber("bytes", r.Bytes);
                w.WriteString("sha256", r.Sha256);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("findings");
            foreach (var f in findings)
            {
                w.WriteStartObject();
                w.WriteString("file", f.File);
                w.WriteString("entry", f.Entry);
                w.WriteNumber("offset", f.Offset);
                w.WriteString("category", f.Category);
                w.WriteString("type", f.Type);
                w.WriteString("severity", f.Severity.Name());
                w.WriteString("message", f.Message);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
        return sb.ToString();
    }

    private static string PinningTable(List<PinningFinding> findings)
    {
        var b = new StringBuilder();
        b.AppendLine($"{findings.Count} findings");
        foreach (var f in findings) b.AppendLine($"{f.Severity.Name(),-8} {f.Type,-24} {f.File}:{f.Line}: {f.Message}");
        return b.ToString();
    }

    private static string PinningJson(List<PinningFinding> findings)
    {
        var sb = new StringWriter();
        JsonOutput.Write(sb, w =>
        {
            w.WriteStartObject();
            ReportOptions.WriteTool(w);
            w.WriteStartArray("findings");
            foreach (var f in findings)
            {
                w.WriteStartObject();
                w.WriteString("file", f.File);
                w.WriteNumber("line", f.Line);
                w.WriteString("type", f.Type);
                w.WriteString("severity", f.Severity.Name());
                w.WriteString("message", f.Message);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
        return sb.ToString();
    }

    // SARIF (SarifLog): one rule per finding type, DD-SC-<type>, its default level the most severe of its findings.
    private static string Sarif(IEnumerable<(string File, long Line, string Detail, string Category, string Type, Severity Severity, string Message)> found)
    {
        var results = found.ToList();
        static string RuleId(string type) => "DD-SC-" + type;
        var rules = results.GroupBy(r => r.Type, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new RuleInfo { Id = RuleId(g.Key), Category = g.First().Category, Type = g.Key, Severity = g.Max(r => r.Severity), Description = $"{g.First().Category}: {g.Key}" }).ToList();
        using var log = new SarifLog(rules);
        foreach (var r in results)
        {
            var w = log.StartResult(RuleId(r.Type), r.Severity, r.Message);
            w.WriteStartArray("locations");
            SarifLog.WriteLocation(w, r.File, r.Line);
            w.WriteEndArray();
            w.WriteStartObject("partialFingerprints");
            w.WriteString("drydockFinding/v1", SarifLog.Fingerprint(RuleId(r.Type), r.File, r.Line, r.Detail));
            w.WriteEndObject();
            w.WriteStartObject("properties");
            w.WriteString("category", r.Category);
            w.WriteString("type", r.Type);
            w.WriteString("detail", r.Detail);
            w.WriteString("severity", r.Severity.Name());
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return log.Complete(executionSuccessful: true);
    }
}
