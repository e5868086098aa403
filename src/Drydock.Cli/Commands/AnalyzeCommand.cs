using System.CommandLine;
using System.Text;
using Drydock.Cli.Infrastructure;
using Drydock.Cli.Reporting;
using Drydock.Curation.Poisoning;
using Drydock.Curation.Policy;
using Drydock.Datasets;
using Drydock.Datasets.Input;
using Drydock.Datasets.Output;

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
                "json" => PoisoningReports.Json(report, files),
                "sarif" => PoisoningReports.Sarif(report, executionSuccessful: malformed == 0),
                _ => PoisoningReports.Table(report, parse.GetValue(top)),
            };
            ReportOptions.Emit(stdout, parse.GetValue(output), text);

            if (parse.GetValue(triggers) is { } probesPath)
            {
                using var file = new AtomicFile(probesPath);
                file.Stream.Write(Encoding.UTF8.GetBytes(PoisoningReports.Probes(report)));
                file.Commit();
                stderr.WriteLine($"drydock analyze: {report.Triggers.Count} trigger probes written to {probesPath}");
            }

            if (malformed > 0 && !parse.GetValue(allowMalformed)) return ExitCodes.UsageOrInput;
            return ReportOptions.Exit(parse.GetValue(failOn)!, report.Findings.Select(f => f.Severity));
        }));
        return command;
    }
}
