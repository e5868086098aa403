using System.CommandLine;
using System.Text;
using System.Text.Json;
using Drydock.Cli.Infrastructure;
using Drydock.Datasets.Output;
using Drydock.Provenance;
using Drydock.Provenance.Registry;
using Drydock.Provenance.Signing;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock dataset register|list|show|diff</c>: dataset versions in the registry.</summary>
internal static class DatasetCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("dataset", "Register cleaned dataset versions and inspect them.");
        command.Subcommands.Add(Register(stdout, stderr));
        command.Subcommands.Add(List(stdout, stderr));
        command.Subcommands.Add(Show(stdout, stderr));
        command.Subcommands.Add(Diff(stdout, stderr));
        return command;
    }

    internal static Option<string> FormatOption(params string[] formats)
    {
        var option = new Option<string>("--format") { Description = $"Output format: {string.Join("|", formats)}.", DefaultValueFactory = _ => formats[0] };
        option.AcceptOnlyFromAmong(formats);
        return option;
    }

    private static Command Register(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("register", "Register the dataset a 'drydock clean' manifest describes; signs the manifest (MANIFEST.dsse.json).");
        var manifestArg = new Argument<string>("manifest") { Description = "The manifest written by drydock clean." };
        var name = new Option<string?>("--name") { Description = "A name (default: the output file's name)." };
        var parents = new Option<string[]>("--parent") { Description = "A dataset this one derives from (inputs that are registered datasets are found by themselves).", AllowMultipleArgumentsPerToken = true };
        command.Arguments.Add(manifestArg);
        command.Options.Add(name);
        command.Options.Add(parents);
        ProjectContext.AddOptions(command);
        command.SetAction((parse, _) => ProjectContext.Guard("dataset register", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            var manifestPath = parse.GetValue(manifestArg)!;
            if (!File.Exists(manifestPath)) throw new FileNotFoundException($"{manifestPath}: no such file");
            var json = File.ReadAllBytes(manifestPath);
            var manifest = DatasetManifest.Parse(manifestPath, json);
            var directory = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
            var output = Locate(manifestPath, directory, manifest.Output, manifest.Version, "output");
            var ledger = Locate(manifestPath, directory, manifest.LedgerFile, manifest.LedgerSha256, "ledger");
            var holdout = manifest.HoldoutFile is null ? null : Locate(manifestPath, directory, manifest.HoldoutFile, manifest.HoldoutSha256!, "holdout");

            using var registry = context.OpenRegistry();
            var id = "ds-" + manifest.Version[..12];
            if (registry.FindDataset(id) is { } existing)
            {
                stdout.WriteLine($"{existing.Id} already registered (sha256:{existing.Version}, {existing.Name})");
                return ExitCodes.Ok;
            }

            var actor = Actor.Current;
            var datasetName = parse.GetValue(name) ?? Path.GetFileName(manifest.Output);
            using var key = SigningKey.Load(ProjectContext.SigningKeyPath);
            // Locate has just checked each file against the manifest's SHA-256: only the manifest itself is hashed here.
            string Name(string p) => Path.GetRelativePath(directory, Path.GetFullPath(p)).Replace('\\', '/');
            var subjects = new List<Subject> { new(Name(manifestPath), Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(json))), new(Name(output), manifest.Version), new(Name(ledger), manifest.LedgerSha256) };
            if (holdout is not null) subjects.Add(new(Name(holdout), manifest.HoldoutSha256!));
            // Every file of the dataset version is signed, the quarantine too (verify refuses a signature that leaves one out).
            foreach (var (field, file, sha) in SignedCoverage.ManifestFiles(manifestPath, json).Where(f => f.Field == "quarantine"))
            {
                subjects.Add(new(Name(Locate(manifestPath, directory, file, sha, field)), sha));
            }

            var statement = Dsse.Statement(subjects, Dsse.DatasetPredicate, w =>
            {
                w.WriteStartObject();
                w.WriteString("datasetId", id);
                w.WriteString("datasetVersion", "sha256:" + manifest.Version);
                w.WriteString("name", datasetName);
                w.WriteString("project", manifest.Project);
                w.WriteString("useCase", manifest.UseCase);
                w.WriteString("classification", manifest.Classification);
                w.WriteString("registeredBy", actor);
                w.WriteEndObject();
            });
            var envelope = Dsse.Sign(statement, key);
            var envelopePath = manifestPath + ".dsse.json";
            using (var file = new AtomicFile(envelopePath))
            {
                file.Stream.Write(envelope);
                file.Commit();
            }

            var (dataset, _) = registry.RegisterDataset(manifest, Encoding.UTF8.GetString(json), datasetName, parse.GetValue(parents) ?? [], Encoding.UTF8.GetString(envelope), actor);
            stdout.WriteLine($"{dataset.Id} registered: sha256:{dataset.Version}, {dataset.Records} records, {dataset.Classification} data, project {dataset.Project}");
            if (dataset.Parents.Count > 0) stdout.WriteLine($"  parents: {string.Join(", ", dataset.Parents.ToArray())}");
            stdout.WriteLine($"  signed by {key.KeyId}: {envelopePath}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static string Locate(string manifestPath, string directory, string recorded, string sha256, string field)
    {
        var candidates = new[] { recorded, Path.Combine(directory, recorded), Path.Combine(directory, Path.GetFileName(recorded)) };
        var found = candidates.FirstOrDefault(File.Exists) ?? throw new RegistryException($"{manifestPath}: field {field}.file: {recorded} not found (looked next to the manifest too)");
        if (Dsse.Sha256Of(found) != sha256) throw new RegistryException($"{manifestPath}: field {field}: {found} does not match the manifest's SHA-256 (it changed after drydock clean)");
        return found;
    }

    private static Command List(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("list", "List registered datasets with their approval status.");
        var format = FormatOption("table", "json");
        command.Options.Add(format);
        ProjectContext.AddOptions(command);
        command.SetAction((parse, _) => ProjectContext.Guard("dataset list", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            using var registry = context.OpenRegistry();
            var roles = context.Policy.RequiredApprovalRoles;
            var rows = registry.ListDatasets().Select(d => (Dataset: d, Status: registry.Status("dataset", d.Id, roles))).ToList();
            if (parse.GetValue(format) == "json")
            {
                JsonOutput.Write(stdout, w =>
                {
                    w.WriteStartArray();
                    foreach (var (d, status) in rows) WriteSummary(w, d, status);
                    w.WriteEndArray();
                });
                return ExitCodes.Ok;
            }

            stdout.WriteLine($"{"ID",-18} {"NAME",-28} {"RECORDS",9} {"CLASSIFICATION",-16} {"STATUS",-9} REGISTERED");
            foreach (var (d, status) in rows)
            {
                stdout.WriteLine($"{d.Id,-18} {Clip(d.Name, 28),-28} {d.Records,9} {d.Classification,-16} {status.State,-9} {d.RegisteredAt} {d.RegisteredBy}");
            }

            if (rows.Count == 0) stdout.WriteLine("(no datasets; register one with 'drydock dataset register MANIFEST')");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Show(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("show", "Show one dataset: version, sources, counts, approvals and the gates that approval must pass.");
        var id = new Argument<string>("id") { Description = "Dataset id, id prefix or sha256:VERSION." };
        var format = FormatOption("table", "json");
        command.Arguments.Add(id);
        command.Options.Add(format);
        ProjectContext.AddOptions(command);
        command.SetAction((parse, _) => ProjectContext.Guard("dataset show", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            using var registry = context.OpenRegistry();
            var roles = context.Policy.RequiredApprovalRoles;
            var d = registry.GetDataset(parse.GetValue(id)!);
            var status = registry.Status("dataset", d.Id, roles);
            var gates = registry.GateReasons("dataset", d.Id, context.Approval);
            var approvals = registry.Approvals("dataset", d.Id);
            var sources = registry.Sources(d.Sources);
            if (parse.GetValue(format) == "json")
            {
                JsonOutput.Write(stdout, w =>
                {
                    w.WriteStartObject();
                    WriteFields(w, d, status);
                    w.WriteStartArray("sources");
                    foreach (var s in sources)
                    {
                        w.WriteStartObject();
                        w.WriteString("id", s.Id);
                        w.WriteString("path", s.Path);
                        w.WriteString("classification", s.Classification);
                        w.WriteString("trust", s.Trust);
                        w.WriteString("owner", s.Owner);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    WriteStrings(w, "gates", gates);
                    w.WriteStartArray("approvals");
                    foreach (var a in approvals) WriteApproval(w, a);
                    w.WriteEndArray();
                    w.WritePropertyName("manifest");
                    using (var manifest = JsonDocument.Parse(d.Manifest)) manifest.WriteTo(w);
                    w.WriteEndObject();
                });
                return ExitCodes.Ok;
            }

            stdout.WriteLine($"dataset      {d.Id}  {d.Name}");
            stdout.WriteLine($"version      sha256:{d.Version}");
            stdout.WriteLine($"records      {d.Records}");
            stdout.WriteLine($"project      {d.Project} (use case {d.UseCase}, may train on {d.MaxClassification} at most)");
            stdout.WriteLine($"holds        {d.Classification} data");
            stdout.WriteLine($"ledger       sha256:{d.LedgerSha256}");
            stdout.WriteLine($"manifest     sha256:{d.ManifestSha256}{(d.Envelope is null ? "" : " (signed)")}");
            stdout.WriteLine($"registered   {d.RegisteredAt} by {d.RegisteredBy}");
            stdout.WriteLine($"parents      {(d.Parents.Count == 0 ? "-" : string.Join(", ", d.Parents.ToArray()))}");
            foreach (var s in sources) stdout.WriteLine($"source       {s.Path}  {s.Classification}, {s.Trust}, owner {s.Owner ?? "-"}");
            stdout.WriteLine($"status       {status.State}{(status.Reasons.Count > 0 ? ": " + string.Join("; ", status.Reasons.ToArray()) : "")}");
            foreach (var g in gates) stdout.WriteLine($"gate         {g}");
            foreach (var a in approvals) stdout.WriteLine($"decision     {a.At} {a.Decision} by {a.Actor} as {a.Role}{(a.Comment is { Length: > 0 } c ? ": " + c : "")}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Diff(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("diff", "Compare two dataset versions: records, inputs, policy and the counts per outcome, action and type.");
        var a = new Argument<string>("from") { Description = "The older dataset." };
        var b = new Argument<string>("to") { Description = "The newer dataset." };
        var format = FormatOption("table", "json");
        command.Arguments.Add(a);
        command.Arguments.Add(b);
        command.Options.Add(format);
        ProjectContext.AddOptions(command);
        command.SetAction((parse, _) => ProjectContext.Guard("dataset diff", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            using var registry = context.OpenRegistry();
            var from = registry.GetDataset(parse.GetValue(a)!);
            var to = registry.GetDataset(parse.GetValue(b)!);
            var changes = DatasetDiff.Compare(from, to);
            if (parse.GetValue(format) == "json")
            {
                JsonOutput.Write(stdout, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("from", from.Id);
                    w.WriteString("to", to.Id);
                    w.WriteStartArray("changes");
                    foreach (var c in changes)
                    {
                        w.WriteStartObject();
                        w.WriteString("field", c.Field);
                        w.WriteString("from", c.From);
                        w.WriteString("to", c.To);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                });
                return ExitCodes.Ok;
            }

            stdout.WriteLine($"{from.Id} ({from.Name}) -> {to.Id} ({to.Name})");
            if (changes.Count == 0) stdout.WriteLine("no differences");
            var width = changes.Count == 0 ? 0 : changes.Max(c => c.Field.Length);
            foreach (var c in changes) stdout.WriteLine($"  {c.Field.PadRight(width)}  {c.From ?? "-"} -> {c.To ?? "-"}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    internal static void WriteSummary(Utf8JsonWriter w, DatasetRecord d, ApprovalStatus status)
    {
        w.WriteStartObject();
        WriteFields(w, d, status);
        w.WriteEndObject();
    }

    private static void WriteFields(Utf8JsonWriter w, DatasetRecord d, ApprovalStatus status)
    {
        w.WriteString("id", d.Id);
        w.WriteString("version", "sha256:" + d.Version);
        w.WriteString("name", d.Name);
        w.WriteString("project", d.Project);
        w.WriteString("useCase", d.UseCase);
        w.WriteString("classification", d.Classification);
        w.WriteString("maxClassification", d.MaxClassification);
        w.WriteNumber("records", d.Records);
        w.WriteString("ledgerSha256", d.LedgerSha256);
        w.WriteString("manifestSha256", d.ManifestSha256);
        w.WriteBoolean("signed", d.Envelope is not null);
        WriteStrings(w, "parents", d.Parents);
        w.WriteString("registeredBy", d.RegisteredBy);
        w.WriteString("registeredAt", d.RegisteredAt);
        w.WriteString("status", status.State);
        WriteStrings(w, "statusReasons", status.Reasons);
    }

    internal static void WriteApproval(Utf8JsonWriter w, ApprovalRecord a)
    {
        w.WriteStartObject();
        w.WriteString("id", a.Id);
        w.WriteString("subjectKind", a.SubjectKind);
        w.WriteString("subjectId", a.SubjectId);
        w.WriteString("role", a.Role);
        w.WriteString("decision", a.Decision);
        w.WriteString("comment", a.Comment);
        w.WriteString("actor", a.Actor);
        w.WriteString("at", a.At);
        w.WriteEndObject();
    }

    internal static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    private static string Clip(string s, int width) => s.Length <= width ? s : s[..(width - 1)] + "…";
}
