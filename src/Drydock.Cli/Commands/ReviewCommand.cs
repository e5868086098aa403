using System.CommandLine;
using System.Text;
using System.Text.Json;
using Drydock.Cli.Infrastructure;
using Drydock.Cli.Reporting;
using Drydock.Curation.Review;
using Drydock.Datasets;
using Drydock.Datasets.Input;
using Drydock.Datasets.Output;
using Drydock.Provenance;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock review sample|apply</c>: human review of flagged and random records.</summary>
internal static class ReviewCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("review", "Human review: export a sample worth a reviewer's time, then apply their decisions (released records flow into the next clean).");

        var sample = new Command("sample", "Export a review set: flagged records (stratified) mixed with a random sample of unflagged ones, as JSONL and a self-contained HTML page.");
        var inputs = new Argument<string[]>("inputs") { Description = "Files, directories or glob patterns.", Arity = ArgumentArity.OneOrMore };
        var size = new Option<int>("--size") { Description = "Records in the set.", DefaultValueFactory = _ => 50 };
        var stratify = new Option<string>("--stratify") { Description = "Stratify flagged records by source, category or both (comma-separated), or none.", DefaultValueFactory = _ => "source,category" };
        var seed = new Option<int>("--seed") { Description = "Random seed (the same seed gives the same set).", DefaultValueFactory = _ => 7 };
        var output = new Option<string>("--output", "-o") { Description = "Folder for sample.jsonl, sample.html and decisions.jsonl.", DefaultValueFactory = _ => "review" };
        var inputFormat = new Option<string>("--input-format") { Description = "Force the input format.", DefaultValueFactory = _ => "auto" };
        inputFormat.AcceptOnlyFromAmong([.. DatasetFormatNames.All]);
        sample.Arguments.Add(inputs);
        foreach (var option in new Option[] { size, stratify, seed, output, inputFormat, ProjectContext.PolicyOption }) sample.Options.Add(option);
        sample.SetAction((parse, _) => ProjectContext.Guard("review sample", stderr, () =>
        {
            var project = ProjectContext.Load(parse);
            var policy = project.Policy;
            if (parse.GetValue(size) < 1) throw new ArgumentException("--size must be at least 1");
            var strata = (parse.GetValue(stratify) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var unknown = strata.Where(s => s is not ("source" or "category" or "none")).ToList();
            if (unknown.Count > 0) throw new ArgumentException($"--stratify: unknown '{unknown[0]}' (use source, category or none)");
            var (files, errors) = InputFiles.Resolve(parse.GetValue(inputs) ?? []);
            if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors.ToArray()));
            if (!DatasetFormatNames.TryParse(parse.GetValue(inputFormat)!, out var format)) throw new ArgumentException("unknown input format");
            var rules = project.Rules();
            var malformed = 0;
            var items = ReviewSampler.Sample(files, policy, rules.CreateDetector(), parse.GetValue(size), strata.Contains("source"), strata.Contains("category"), parse.GetValue(seed), format,
                problem =>
                {
                    malformed++;
                    stderr.WriteLine($"drydock review sample: {problem.File}:{problem.Line}: {problem.Reason} (left out of the sample)");
                });

            var folder = parse.GetValue(output)!;
            Directory.CreateDirectory(folder);
            // The review set holds the records themselves (reviewers must see them): owner-only files.
            AtomicFile.Write(Path.Combine(folder, "sample.jsonl"), Encoding.UTF8.GetBytes(SampleJsonl(items)), ownerOnly: true);
            AtomicFile.Write(Path.Combine(folder, "sample.html"), Encoding.UTF8.GetBytes(ReviewPage.Render(items, $"Drydock review set ({items.Count} records)")), ownerOnly: true);
            AtomicFile.Write(Path.Combine(folder, "decisions.jsonl"), Encoding.UTF8.GetBytes(Template(items)), ownerOnly: true);
            stdout.WriteLine($"{items.Count} records ({items.Count(i => i.Flagged)} flagged, {items.Count(i => !i.Flagged)} random) in {folder}/sample.html and sample.jsonl");
            stdout.WriteLine($"fill in {folder}/decisions.jsonl (reviewer, decision approve|reject, note), then: drydock review apply {folder}/decisions.jsonl");
            return malformed > 0 ? ExitCodes.UsageOrInput : ExitCodes.Ok;
        }));

        var apply = new Command("apply", "Record reviewers' decisions in the review ledger (read by the next clean) and the registry.");
        var file = new Argument<string>("decisions") { Description = "JSONL: recordSha256, reviewer, decision (approve|reject), note; as written by 'review sample'." };
        var ledger = new Option<string?>("--ledger") { Description = "The review ledger (default: .drydock/review/ledger.jsonl in the project)." };
        apply.Arguments.Add(file);
        apply.Options.Add(ledger);
        ProjectContext.AddOptions(apply);
        apply.SetAction((parse, _) => ProjectContext.Guard("review apply", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            var path = parse.GetValue(file)!;
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file");
            List<ReviewDecision> decisions;
            int undecided;
            try
            {
                decisions = ReviewDecisions.Parse(path, out undecided);
            }
            catch (ReviewDecisionException e)
            {
                stderr.WriteLine($"drydock review apply: nothing applied:\n{e.Message}");
                return ExitCodes.UsageOrInput;
            }

            var actor = Actor.Current;
            using var registry = context.OpenRegistry();
            var ledgerPath = parse.GetValue(ledger) ?? Path.Combine(context.Root ?? throw new NoProjectException("no Drydock project here or above: run 'drydock init'"), ReviewDecisions.DefaultLedger);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(ledgerPath))!);
            using (var writer = new StreamWriter(ledgerPath, append: true, new UTF8Encoding(false)))
            {
                foreach (var d in decisions)
                {
                    registry.RecordReview(d.RecordSha256, d.File, d.Line, d.ReviewId, d.Reviewer, d.Decision, d.Note, actor);
                    writer.Write(LedgerLine(d, actor));
                }

                writer.Flush();
            }

            stdout.WriteLine($"{decisions.Count(d => d.Decision == "approve")} approved (released into the next clean), {decisions.Count(d => d.Decision == "reject")} rejected (dropped); ledger {ledgerPath}");
            if (undecided > 0) stderr.WriteLine($"drydock review apply: {undecided} lines without a decision were left for later");
            return ExitCodes.Ok;
        }));

        command.Subcommands.Add(sample);
        command.Subcommands.Add(apply);
        return command;
    }

    private static string SampleJsonl(IEnumerable<ReviewItem> items)
    {
        var b = new StringBuilder();
        foreach (var i in items)
        {
            b.Append(Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("reviewId", i.ReviewId);
                w.WriteString("file", i.File);
                w.WriteNumber("line", i.Line);
                w.WriteString("recordId", i.RecordId);
                w.WriteString("source", i.Source);
                w.WriteString("trust", i.Trusted ? "trusted" : "untrusted");
                w.WriteString("recordSha256", i.RecordSha256);
                w.WriteBoolean("flagged", i.Flagged);
                JsonFields.WriteStrings(w, "categories", i.Categories);
                w.WriteString("poisoning", i.Poisoning);
                w.WriteStartArray("findings");
                foreach (var f in i.Findings)
                {
                    w.WriteStartObject();
                    w.WriteString("category", f.Category);
                    w.WriteString("type", f.Type);
                    w.WriteString("severity", Detection.SeverityNames.Name(f.Severity));
                    w.WriteString("field", f.Field);
                    w.WriteNumber("start", f.Start);
                    w.WriteNumber("end", f.End);
                    w.WriteString("rule", f.RuleId);
                    w.WriteString("excerpt", f.Excerpt);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteStartArray("fields");
                foreach (var field in i.Fields)
                {
                    w.WriteStartObject();
                    w.WriteString("path", field.Path);
                    w.WriteString("text", field.Text);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }));
        }

        return b.ToString();
    }

    private static string Template(IEnumerable<ReviewItem> items) => string.Concat(items.Select(i => Json(w =>
    {
        w.WriteStartObject();
        w.WriteString("reviewId", i.ReviewId);
        w.WriteString("recordSha256", i.RecordSha256);
        w.WriteString("file", i.File);
        w.WriteNumber("line", i.Line);
        w.WriteString("reviewer", "");
        w.WriteString("decision", "");
        w.WriteString("note", "");
        w.WriteEndObject();
    })));

    private static string LedgerLine(ReviewDecision d, string actor) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteString("at", DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));
        w.WriteString("appliedBy", actor);
        w.WriteString("reviewId", d.ReviewId);
        w.WriteString("recordSha256", d.RecordSha256);
        w.WriteString("file", d.File);
        if (d.Line is { } line) w.WriteNumber("line", line);
        w.WriteString("reviewer", d.Reviewer);
        w.WriteString("decision", d.Decision);
        w.WriteString("note", d.Note);
        w.WriteEndObject();
    });

    private static string Json(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(w);
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
