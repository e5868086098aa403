using System.CommandLine;
using Drydock.Cli.Infrastructure;
using Drydock.Provenance.Audit;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock audit verify|log</c>: the registry's hash-chained audit log.</summary>
internal static class AuditCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("audit", "Verify and read the registry's hash-chained audit log.");

        var verify = new Command("verify", "Check the whole chain and every registry row against it; exit 1 naming the first bad entry.");
        var head = new Option<string?>("--head") { Description = "A head hash published earlier: also detects entries removed from the end." };
        verify.Options.Add(head);
        ProjectContext.AddOptions(verify);
        verify.SetAction((parse, _) => ProjectContext.Guard("audit verify", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            using var registry = context.OpenRegistry();
            var result = AuditLog.Verify(registry.Database, parse.GetValue(head));
            if (!result.Ok)
            {
                stderr.WriteLine($"drydock audit verify: FAILED at entry {result.FirstBadSeq}: {result.Problem}");
                return ExitCodes.Findings;
            }

            stdout.WriteLine($"audit log ok: {result.Entries} entries, every registry row accounted for; head {result.Head}");
            return ExitCodes.Ok;
        }));

        var log = new Command("log", "Show audit entries, newest first.");
        var subject = new Option<string?>("--subject") { Description = "Only this subject (an id such as ds-…, or table/id)." };
        var actor = new Option<string?>("--actor") { Description = "Only this actor." };
        var action = new Option<string?>("--action") { Description = "Only this action (dataset.register, dataset.approve, …)." };
        var since = new Option<string?>("--since") { Description = "Only entries at or after this UTC time (2026-11-28 or 2026-11-28T10:00:00Z)." };
        var limit = new Option<int>("--limit") { Description = "At most this many entries.", DefaultValueFactory = _ => 50 };
        var format = DatasetCommand.FormatOption("table", "json");
        foreach (var option in new Option[] { subject, actor, action, since, limit, format }) log.Options.Add(option);
        ProjectContext.AddOptions(log);
        log.SetAction((parse, _) => ProjectContext.Guard("audit log", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            if (parse.GetValue(limit) < 1) throw new ArgumentException("--limit must be at least 1");
            using var registry = context.OpenRegistry();
            var entries = AuditLog.Query(registry.Database, new AuditFilter(parse.GetValue(subject), parse.GetValue(actor), parse.GetValue(action), parse.GetValue(since), parse.GetValue(limit)));
            if (parse.GetValue(format) == "json")
            {
                JsonOutput.Write(stdout, w =>
                {
                    w.WriteStartArray();
                    foreach (var e in entries)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("seq", e.Seq);
                        w.WriteString("at", e.At);
                        w.WriteString("actor", e.Actor);
                        w.WriteString("action", e.Action);
                        w.WriteString("subject", e.Subject);
                        w.WriteString("details", e.Details);
                        w.WriteString("prevHash", e.PrevHash);
                        w.WriteString("hash", e.Hash);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                });
                return ExitCodes.Ok;
            }

            foreach (var e in entries) stdout.WriteLine($"{e.Seq,6}  {e.At}  {e.Actor,-14} {e.Action,-24} {e.Subject}  {e.Hash[..12]}");
            if (entries.Count == 0) stdout.WriteLine("(no entries)");
            return ExitCodes.Ok;
        }));

        command.Subcommands.Add(verify);
        command.Subcommands.Add(log);
        return command;
    }
}
