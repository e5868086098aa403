using System.CommandLine;
using System.Text;
using Drydock.Cli.Infrastructure;
using Drydock.Datasets.Output;
using Drydock.Provenance;
using Drydock.Provenance.ThreatModels;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock threat-model init|show|approve</c>.</summary>
internal static class ThreatModelCommand
{
    private const string DefaultFile = "threat-model.yaml";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("threat-model", "Write, show and approve the project's threat model (datasets cannot be approved without an approved one).");

        var init = new Command("init", "Write a threat-model.yaml to fill in.");
        var output = new Option<string>("--output", "-o") { Description = "Where to write it.", DefaultValueFactory = _ => DefaultFile };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing file." };
        init.Options.Add(output);
        init.Options.Add(force);
        ProjectContext.AddOptions(init);
        init.SetAction((parse, _) => ProjectContext.Guard("threat-model init", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            var target = parse.GetValue(output)!;
            if (File.Exists(target) && !parse.GetValue(force)) throw new ArgumentException($"{target} already exists (use --force to overwrite)");
            using var file = new AtomicFile(target);
            file.Stream.Write(Encoding.UTF8.GetBytes(ThreatModel.Template(context.Policy.Project)));
            file.Commit();
            stdout.WriteLine($"wrote {target}; fill in every TODO, then run 'drydock threat-model approve {target}'");
            return ExitCodes.Ok;
        }));

        var show = new Command("show", "Show the project's registered threat model and its status (or check a file).");
        var which = new Argument<string?>("file-or-id") { Description = "A threat-model file to validate, or a registered id (default: the project's latest).", Arity = ArgumentArity.ZeroOrOne };
        show.Arguments.Add(which);
        ProjectContext.AddOptions(show);
        show.SetAction((parse, _) => ProjectContext.Guard("threat-model show", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            var target = parse.GetValue(which);
            if (target is not null && File.Exists(target))
            {
                var text = File.ReadAllText(target);
                var project = ThreatModel.Validate(target, text);
                stdout.Write(text);
                stdout.WriteLine($"# {target}: valid threat model for project {project} (not registered until approved)");
                return ExitCodes.Ok;
            }

            using var registry = context.OpenRegistry();
            var record = target is null ? registry.LatestThreatModel(context.Policy.Project) : registry.GetThreatModel(target);
            if (record is null) throw new ArgumentException($"project '{context.Policy.Project}' has no registered threat model (drydock threat-model init)");
            var status = registry.Status("threat-model", record.Id, context.Policy.RequiredApprovalRoles);
            stdout.Write(record.Content);
            stdout.WriteLine($"# {record.Id} (project {record.Project}, sha256:{record.Sha256[..12]}) registered {record.RegisteredAt} by {record.RegisteredBy}: {status.State}");
            foreach (var a in registry.Approvals("threat-model", record.Id)) stdout.WriteLine($"# {a.At} {a.Decision} by {a.Actor} as {a.Role}{(a.Comment is { Length: > 0 } c ? ": " + c : "")}");
            return ExitCodes.Ok;
        }));

        var approve = new Command("approve", "Validate a threat model, register it and record its approval (or rejection).");
        var file = new Argument<string>("file") { Description = "The threat-model YAML.", DefaultValueFactory = _ => DefaultFile };
        var role = new Option<string>("--role") { Description = "The approver's role.", DefaultValueFactory = _ => "security-reviewer" };
        role.AcceptOnlyFromAmong([.. Curation.Policy.CleaningPolicy.Roles]);
        var decision = new Option<string>("--decision") { Description = "approve or reject.", DefaultValueFactory = _ => "approve" };
        decision.AcceptOnlyFromAmong("approve", "reject");
        var comment = new Option<string?>("--comment") { Description = "Why." };
        approve.Arguments.Add(file);
        approve.Options.Add(role);
        approve.Options.Add(decision);
        approve.Options.Add(comment);
        ProjectContext.AddOptions(approve);
        approve.SetAction((parse, _) => ProjectContext.Guard("threat-model approve", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            var path = parse.GetValue(file)!;
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file (drydock threat-model init writes one)");
            var text = File.ReadAllText(path);
            var project = ThreatModel.Validate(path, text);
            using var registry = context.OpenRegistry();
            var actor = Actor.Current;
            var record = registry.RegisterThreatModel(project, text, actor);
            var approval = registry.Approve("threat-model", record.Id, parse.GetValue(role)!, parse.GetValue(decision)!, parse.GetValue(comment), actor, context.Approval);
            stdout.WriteLine($"{record.Id}: threat model of project {project}, {approval.Decision} by {actor} as {approval.Role}");
            return ExitCodes.Ok;
        }));

        command.Subcommands.Add(init);
        command.Subcommands.Add(show);
        command.Subcommands.Add(approve);
        return command;
    }
}
