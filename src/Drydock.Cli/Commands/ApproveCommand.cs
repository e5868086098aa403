using System.CommandLine;
using Drydock.Cli.Infrastructure;
using Drydock.Curation.Policy;
using Drydock.Provenance;
using Drydock.Provenance.Registry;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock approve</c> and <c>drydock lineage</c>.</summary>
internal static class ApproveCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("approve", "Record an approval decision on a dataset or model (approval runs the gates: threat model, classification, separation of duties).");
        var kind = new Argument<string>("kind") { Description = "dataset or model." };
        kind.AcceptOnlyFromAmong("dataset", "model");
        var id = new Argument<string>("id") { Description = "The dataset or model id." };
        var role = new Option<string>("--role") { Description = "data-owner or security-reviewer.", Required = true };
        role.AcceptOnlyFromAmong([.. CleaningPolicy.Roles]);
        var decision = new Option<string>("--decision") { Description = "approve or reject.", Required = true };
        decision.AcceptOnlyFromAmong("approve", "reject");
        var comment = new Option<string?>("--comment") { Description = "Why." };
        command.Arguments.Add(kind);
        command.Arguments.Add(id);
        command.Options.Add(role);
        command.Options.Add(decision);
        command.Options.Add(comment);
        ProjectContext.AddOptions(command);
        command.SetAction((parse, _) => ProjectContext.Guard("approve", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            using var registry = context.OpenRegistry();
            var roles = context.Policy.RequiredApprovalRoles;
            var subjectKind = parse.GetValue(kind)!;
            var record = registry.Approve(subjectKind, parse.GetValue(id)!, parse.GetValue(role)!, parse.GetValue(decision)!, parse.GetValue(comment), Actor.Current, context.Approval);
            var status = registry.Status(subjectKind, record.SubjectId, roles);
            stdout.WriteLine($"{record.Id}: {record.Decision} of {subjectKind} {record.SubjectId} by {record.Actor} as {record.Role}");
            stdout.WriteLine($"{subjectKind} {record.SubjectId} is {status.State}{(status.Reasons.Count > 0 ? ": " + string.Join("; ", status.Reasons.ToArray()) : "")}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command CreateLineage(TextWriter stdout, TextWriter stderr) =>
        RegistryView.Create("lineage", "Show where a dataset came from and which models used it, or which datasets, sources and ledgers made a model.",
            "A dataset or model id.", ["tree", "json"], "lineage", stderr, (context, registry, id, format) =>
            {
                var tree = Lineage.Of(registry, id, context.Policy.RequiredApprovalRoles);
                if (format == "json") JsonOutput.Write(stdout, w => Lineage.WriteJson(w, tree));
                else Lineage.WriteTree(stdout, tree);
                return ExitCodes.Ok;
            });
}
