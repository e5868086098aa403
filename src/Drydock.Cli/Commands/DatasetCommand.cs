using System.CommandLine;
using System.Text.Json;
using Drydock.Cli.Infrastructure;
using Drydock.Cli.Reporting;
using Drydock.Provenance;
using Drydock.Provenance.Registry;

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
            var registration = DatasetRegistration.Check(parse.GetValue(manifestArg)!);
            using var registry = context.OpenRegistry();
            var (dataset, created, envelopePath, keyId) = registration.Register(registry, parse.GetValue(name), parse.GetValue(parents) ?? [], ProjectContext.SigningKeyPath, Actor.Current);
            if (!created)
            {
                stdout.WriteLine($"{dataset.Id} already registered (sha256:{dataset.Version}, {dataset.Name})");
                return ExitCodes.Ok;
            }

            stdout.WriteLine($"{dataset.Id} registered: sha256:{dataset.Version}, {dataset.Records} records, {dataset.Classification} data, project {dataset.Project}");
            if (dataset.Parents.Count > 0) stdout.WriteLine($"  parents: {string.Join(", ", dataset.Parents.ToArray())}");
            stdout.WriteLine($"  signed by {keyId}: {envelopePath}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command List(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("list", "List registered datasets with their approval status.");
        var format = CommandOptions.Format("table", "json");
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
                    foreach (var (d, status) in rows) RegistryJson.WriteSummary(w, d, status);
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

    private static Command Show(TextWriter stdout, TextWriter stderr) =>
        RegistryView.Create("show", "Show one dataset: version, sources, counts, approvals and the gates that approval must pass.",
            "Dataset id, id prefix or sha256:VERSION.", ["table", "json"], "dataset show", stderr, (context, registry, id, format) =>
        {
            var roles = context.Policy.RequiredApprovalRoles;
            var d = registry.GetDataset(id);
            var status = registry.Status("dataset", d.Id, roles);
            var gates = registry.GateReasons("dataset", d.Id, context.Approval);
            var approvals = registry.Approvals("dataset", d.Id);
            var sources = registry.Sources(d.Sources);
            if (format == "json")
            {
                JsonOutput.Write(stdout, w =>
                {
                    w.WriteStartObject();
                    RegistryJson.WriteFields(w, d, status);
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
                    JsonFields.WriteStrings(w, "gates", gates);
                    w.WriteStartArray("approvals");
                    foreach (var a in approvals) RegistryJson.WriteApproval(w, a);
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
        });

    private static Command Diff(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("diff", "Compare two dataset versions: records, inputs, policy and the counts per outcome, action and type.");
        var a = new Argument<string>("from") { Description = "The older dataset." };
        var b = new Argument<string>("to") { Description = "The newer dataset." };
        var format = CommandOptions.Format("table", "json");
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

    private static string Clip(string s, int width) => s.Length <= width ? s : s[..(width - 1)] + "…";
}
