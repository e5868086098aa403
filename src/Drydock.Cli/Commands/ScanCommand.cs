using System.CommandLine;
using System.Diagnostics;
using Drydock.Cli.Infrastructure;
using Drydock.Cli.Reporting;
using Drydock.Datasets;
using Drydock.Datasets.Output;
using Drydock.Datasets.Input;
using Drydock.Datasets.Scanning;
using Drydock.Detection;
using Drydock.Detection.Engine;
using Drydock.Detection.Configuration;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock scan</c>: finds PII and secrets in datasets and reports them (table, JSON or SARIF).</summary>
internal static class ScanCommand
{
    private const int MaxErrorsOnStderr = 20;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("scan", "Scan datasets (JSONL, JSON, CSV, Parquet; .gz and .zst too) for personal data and secrets.");
        var inputs = new Argument<string[]>("inputs") { Description = "Files, directories or glob patterns.", Arity = ArgumentArity.OneOrMore };
        var format = new Option<string>("--format", "-f") { Description = "Report format: table, json or sarif.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "sarif");
        var output = new Option<string?>("--output", "-o") { Description = "Write the report to this file (atomically) instead of stdout." };
        var failOn = new Option<string>("--fail-on") { Description = "Exit 1 when a finding has at least this severity: low, medium, high, critical or none.", DefaultValueFactory = _ => "high" };
        failOn.AcceptOnlyFromAmong("low", "medium", "high", "critical", "none");
        var categories = new Option<string?>("--categories") { Description = "Only these categories, comma-separated (for example pii,secret)." };
        var inputFormat = new Option<string>("--input-format") { Description = $"Force the input format: {string.Join(", ", DatasetFormatNames.All)}.", DefaultValueFactory = _ => "auto" };
        inputFormat.AcceptOnlyFromAmong([.. DatasetFormatNames.All]);
        var allowMalformed = new Option<bool>("--allow-malformed") { Description = "Report malformed records but do not exit 2 because of them." };
        var config = ProjectContext.PolicyOption;
        var rules = new Option<string[]>("--rules") { Description = "Extra YAML rule files (user patterns run in linear time).", AllowMultipleArgumentsPerToken = true };
        var maxRecordBytes = new Option<int>("--max-record-bytes") { Description = "Records larger than this are reported and skipped.", DefaultValueFactory = _ => 64 * 1024 * 1024 };
        var threads = new Option<int?>("--threads") { Description = "Worker threads (default: all cores)." };
        var top = new Option<int>("--top") { Description = "Findings listed in the table report.", DefaultValueFactory = _ => 20 };
        var semantic = new Option<bool>("--semantic") { Description = "Injection: a sentence encoder also judges the fields the cheap stage sends it (wording no pattern knows)." };

        command.Arguments.Add(inputs);
        foreach (var option in new Option[] { format, output, failOn, categories, inputFormat, allowMalformed, config, rules, maxRecordBytes, threads, top, semantic })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(new ScanSettings(
            parse.GetValue(inputs) ?? [],
            parse.GetValue(format)!,
            parse.GetValue(output),
            parse.GetValue(failOn)!,
            parse.GetValue(categories),
            parse.GetValue(inputFormat)!,
            parse.GetValue(allowMalformed),
            parse.GetValue(config),
            parse.GetValue(rules) ?? [],
            parse.GetValue(maxRecordBytes),
            parse.GetValue(threads),
            parse.GetValue(top),
            parse.GetValue(semantic)), stdout, stderr, cancellationToken)));
        return command;
    }

    internal sealed record ScanSettings(
        string[] Inputs, string Format, string? Output, string FailOn, string? Categories, string InputFormat, bool AllowMalformed,
        string? Config, string[] RuleFiles, int MaxRecordBytes, int? Threads, int Top, bool Semantic = false);

    internal static int Run(ScanSettings settings, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        int Usage(string message)
        {
            stderr.WriteLine($"drydock scan: {message}");
            return ExitCodes.UsageOrInput;
        }

        var categoryFilter = RuleSet.ParseCategories(settings.Categories, out var categoryError);
        if (categoryError is not null) return Usage(categoryError);
        if (settings.MaxRecordBytes < 1024) return Usage("--max-record-bytes must be at least 1024");
        if (settings.Threads is < 1) return Usage("--threads must be at least 1");
        if (settings.Top < 0) return Usage("--top must not be negative");
        if (!DatasetFormatNames.TryParse(settings.InputFormat, out var forcedFormat)) return Usage($"unknown input format {settings.InputFormat}");

        RuleSet rules;
        try
        {
            var project = ProjectContext.Load(settings.Config);
            project.Announce(stderr);
            rules = project.Rules(settings.RuleFiles);
        }
        catch (ConfigFileException e)
        {
            return Usage(e.Message);
        }

        Semantic.SemanticInjectionJudge? judge = null;
        if (settings.Semantic && (categoryFilter is null || categoryFilter.Contains(Categories.Injection)))
        {
            try
            {
                judge = Semantic.SemanticInjectionJudge.Load();
            }
            catch (Semantic.SemanticModelException e)
            {
                stderr.WriteLine($"drydock scan: {e.Message}");
                return ExitCodes.UsageOrInput;
            }

            rules = rules.WithInjectionJudge(judge);
        }

        using var judgeLifetime = judge;
        rules = rules.Only(categoryFilter);

        var (files, inputErrors) = InputFiles.Resolve(settings.Inputs, notice => stderr.WriteLine($"drydock scan: {notice}"));
        if (inputErrors.Count > 0)
        {
            foreach (var error in inputErrors) stderr.WriteLine($"drydock scan: {error}");
            return ExitCodes.UsageOrInput;
        }

        if (settings.Output is { } reportPath && OutputPaths.Clash([("--output", reportPath)], files) is { } clash) return Usage(clash);

        var detector = rules.CreateDetector();
        var scanner = new DatasetScanner(detector, settings.Threads);
        var reader = new DatasetReader(new ReaderOptions { Format = forcedFormat, MaxRecordBytes = settings.MaxRecordBytes });
        var toTerminal = settings.Output is null && !Console.IsOutputRedirected && ReferenceEquals(stdout, Console.Out);
        using IReportWriter report = settings.Format switch
        {
            "json" => new JsonReportWriter(),
            "sarif" => new SarifReportWriter([.. rules.Catalogue]),
            _ => new TableReportWriter(settings.Top, toTerminal && Terminal.ColorAllowed),
        };

        var totals = new ScanTotals();
        var errorsShown = 0;
        var clock = Stopwatch.StartNew();
        var inputFailed = false;
        using (var progress = new ProgressBar(stderr, ReferenceEquals(stderr, Console.Error) && Terminal.ProgressAllowed))
        {
            foreach (var file in files)
            {
                var input = new InputTotals(file);
                totals.Inputs.Add(input);
                try
                {
                    var sniffed = reader.Detect(file);
                    input.Format = sniffed.Format.Name();
                    input.Compression = sniffed.Compression;
                    progress.StartFile(file, new FileInfo(file).Length);
                    foreach (var batch in scanner.Scan(reader.Read(file, sniffed, progress.FilePosition), cancellationToken))
                    {
                        totals.AddBytes(input, batch.Bytes);
                        foreach (var record in batch.Records)
                        {
                            totals.Add(input, record);
                            report.Add(record);
                            if (record.Problem is { } problem && errorsShown++ < MaxErrorsOnStderr)
                            {
                                stderr.WriteLine($"drydock scan: {problem.File}:{problem.Line}: {problem.Reason}");
                            }
                        }

                        progress.Advance(batch.Records.Count, batch.Bytes);
                    }

                }
                catch (DatasetException e)
                {
                    inputFailed = true;
                    input.Error = e.Reason;
                    stderr.WriteLine($"drydock scan: {e.Message}");
                }
            }
        }

        if (errorsShown > MaxErrorsOnStderr)
        {
            stderr.WriteLine($"drydock scan: … {errorsShown - MaxErrorsOnStderr:N0} more malformed record(s) (see the report)");
        }

        if (report is TableReportWriter table && toTerminal)
        {
            table.Seconds = clock.Elapsed.TotalSeconds;
        }

        if (settings.Output is { } outputPath)
        {
            using var file = new AtomicFile(outputPath);
            report.Complete(totals, file.Stream);
            file.Commit();
        }
        else
        {
            stdout.Flush();
            using var stream = ReferenceEquals(stdout, Console.Out) ? Console.OpenStandardOutput() : new TextWriterStream(stdout);
            report.Complete(totals, stream);
        }

        if (inputFailed || (totals.Malformed > 0 && !settings.AllowMalformed))
        {
            return ExitCodes.UsageOrInput;
        }

        return settings.FailOn != "none" && SeverityNames.TryParse(settings.FailOn, out var threshold) && totals.Highest >= threshold
            ? ExitCodes.Findings
            : ExitCodes.Ok;
    }
}
