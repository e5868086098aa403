using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using Drydock.Cli.Infrastructure;
using Drydock.Cli.Reporting;
using Drydock.Curation;
using Drydock.Datasets;
using Drydock.Datasets.Input;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock clean</c>: the policy-driven cleaning of a dataset (see docs/clean.md).</summary>
internal static class CleanCommand
{
    private const int MaxMalformedOnStderr = 20;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("clean", "Normalise, redact, quarantine, de-duplicate and split a dataset as drydock.yaml says; writes a ledger and a manifest.");
        var inputs = new Argument<string[]>("inputs") { Description = "Files, directories or glob patterns.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--output", "-o") { Description = "The cleaned dataset (same format as the input).", Required = true };
        var quarantine = new Option<string?>("--quarantine") { Description = "Quarantined and malformed records, whole, with reasons (default: OUTPUT.quarantine.jsonl)." };
        var ledger = new Option<string?>("--ledger") { Description = "One JSON line per action (default: OUTPUT.ledger.jsonl)." };
        var manifest = new Option<string?>("--manifest") { Description = "Dataset version and counts (default: OUTPUT.manifest.json)." };
        var policy = ProjectContext.PolicyOption;
        var holdout = new Option<double>("--holdout") { Description = "Fraction of records written to a held-out file (OUTPUT.holdout.jsonl), e.g. 0.1." };
        var keep = new Option<int?>("--keep") { Description = "Keep only N records, chosen for diversity across sources." };
        var seed = new Option<int>("--seed") { Description = "Seed of the held-out split and of --keep.", DefaultValueFactory = _ => 0 };
        var keyFile = new Option<string?>("--key-file") { Description = $"HMAC key for pseudonyms and ledger hashes (default: ${RedactionKeys.KeyEnvironment}, else {RedactionKeys.DefaultKeyFile}, created on first use)." };
        var allowMalformed = new Option<bool>("--allow-malformed") { Description = "Quarantine malformed records but do not exit 2 because of them." };
        var inputFormat = new Option<string>("--input-format") { Description = $"Force the input format: {string.Join(", ", DatasetFormatNames.All)}.", DefaultValueFactory = _ => "auto" };
        inputFormat.AcceptOnlyFromAmong([.. DatasetFormatNames.All]);
        var threads = new Option<int?>("--threads") { Description = "Worker threads (default: all cores)." };
        command.Arguments.Add(inputs);
        foreach (var option in new Option[] { output, quarantine, ledger, manifest, policy, holdout, keep, seed, keyFile, allowMalformed, inputFormat, threads })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, cancellationToken) =>
        {
            var target = parse.GetValue(output)!;
            return ProjectContext.Guard("clean", stderr, () => Run(new Settings(
                parse.GetValue(inputs) ?? [], target,
                parse.GetValue(quarantine) ?? target + ".quarantine.jsonl",
                parse.GetValue(ledger) ?? target + ".ledger.jsonl",
                parse.GetValue(manifest) ?? target + ".manifest.json",
                parse.GetValue(policy), parse.GetValue(holdout), parse.GetValue(keep), parse.GetValue(seed), parse.GetValue(keyFile),
                parse.GetValue(allowMalformed), parse.GetValue(inputFormat)!, parse.GetValue(threads)), stderr, cancellationToken));
        });
        return command;
    }

    internal sealed record Settings(string[] Inputs, string Output, string Quarantine, string Ledger, string Manifest, string? Policy, double Holdout, int? Keep,
        int Seed, string? KeyFile, bool AllowMalformed, string InputFormat, int? Threads);

    internal static int Run(Settings settings, TextWriter stderr, CancellationToken cancellationToken)
    {
        int Usage(string message)
        {
            stderr.WriteLine($"drydock clean: {message}");
            return ExitCodes.UsageOrInput;
        }

        if (settings.Holdout is < 0 or >= 1) return Usage("--holdout must be at least 0 and below 1");
        if (settings.Keep is < 1) return Usage("--keep must be at least 1");
        if (settings.Threads is < 1) return Usage("--threads must be at least 1");
        if (!DatasetFormatNames.TryParse(settings.InputFormat, out var forcedFormat)) return Usage($"unknown input format {settings.InputFormat}");
        var project = ProjectContext.Load(settings.Policy);
        var root = project.Root;
        project.Announce(stderr);
        var policy = project.Policy;
        var rules = project.Rules();

        var (files, inputErrors) = InputFiles.Resolve(settings.Inputs, notice => stderr.WriteLine($"drydock clean: {notice}"));
        if (inputErrors.Count > 0)
        {
            foreach (var error in inputErrors) stderr.WriteLine($"drydock clean: {error}");
            return ExitCodes.UsageOrInput;
        }

        var holdoutPath = settings.Holdout > 0 ? settings.Output + ".holdout.jsonl" : null;
        var outputs = new List<(string Option, string Path)> { ("--output", settings.Output), ("--quarantine", settings.Quarantine), ("--ledger", settings.Ledger), ("--manifest", settings.Manifest) };
        if (holdoutPath is not null) outputs.Add(("the held-out file", holdoutPath));
        if (OutputPaths.Clash(outputs, files) is { } clash) return Usage(clash);

        var key = CommandErrors.Reading("redaction key", () => RedactionKeys.Load(settings.KeyFile, root));
        var decisions = CommandErrors.Reading("review ledger", () => Curation.Review.ReviewDecisions.Latest(Path.Combine(root ?? "", Curation.Review.ReviewDecisions.DefaultLedger)));

        var malformedShown = 0;
        var options = new CleanOptions
        {
            ReviewDecisions = decisions,
            Output = settings.Output,
            Quarantine = settings.Quarantine,
            Ledger = settings.Ledger,
            Manifest = settings.Manifest,
            Holdout = holdoutPath,
            HoldoutFraction = settings.Holdout,
            Keep = settings.Keep,
            Seed = settings.Seed,
            Reader = new ReaderOptions { Format = forcedFormat },
            Threads = settings.Threads,
            OnMalformed = problem =>
            {
                if (malformedShown++ < MaxMalformedOnStderr) stderr.WriteLine($"drydock clean: {problem}");
            },
        };
        var clock = Stopwatch.StartNew();
        CleanManifest result;
        using (var progress = new ProgressBar(stderr, ReferenceEquals(stderr, Console.Error) && Terminal.ProgressAllowed))
        {
            try
            {
                var current = "";
                result = new Cleaner(policy, rules.CreateDetector(), key, ToolInfo.Version).Run(files, options, (file, position) =>
                {
                    if (!string.Equals(file, current, StringComparison.Ordinal))
                    {
                        current = file;
                        progress.StartFile(file, new FileInfo(file).Length);
                    }

                    progress.FilePosition(position);
                }, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // Interrupted: every output was a temporary file, removed as the run unwound; nothing was replaced.
                stderr.WriteLine("drydock clean: interrupted; no output written");
                return ExitCodes.UsageOrInput;
            }
        }

        var d = result.Dispositions;
        long Count(string name) => d.TryGetValue(name, out var n) ? n : 0;
        var records = result.Inputs.Sum(i => i.Records);
        stderr.WriteLine($"drydock clean: {records:N0} records in {clock.Elapsed.TotalSeconds:0.0} s: {Count("kept"):N0} kept, {Count("quarantined"):N0} quarantined, " +
            $"{Count("malformed"):N0} malformed, {Count("dropped"):N0} dropped, {Count("exact-duplicate"):N0} exact and {Count("near-duplicate"):N0} near duplicates, " +
            $"{Count("held-out"):N0} held out, {Count("split-conflict"):N0} near duplicates of both sides of the split, {Count("not-selected"):N0} not selected");
        stderr.WriteLine($"drydock clean: {settings.Output} is dataset version sha256:{result.DatasetVersion}; manifest {settings.Manifest}");
        return Count("malformed") > 0 && !settings.AllowMalformed ? ExitCodes.UsageOrInput : ExitCodes.Ok;
    }
}
