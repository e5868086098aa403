using System.CommandLine;
using Drydock.Cli.Infrastructure;
using System.Globalization;
using Drydock.Gateway.Audit;
using Drydock.Provenance.Audit;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock audit verify|log</c>: the registry's hash-chained audit log; <c>audit requests|purge</c>: the gateway's request log.</summary>
internal static class AuditCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("audit", "Verify and read the registry's hash-chained audit log, and query the gateway's request log.");

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

            // A consistent older copy of the whole project state passes the chain: the witness outside the project does not.
            if (AuditWitness.Advance(registry.Database, DateTimeOffset.UtcNow) is { } rolledBack)
            {
                stderr.WriteLine($"drydock audit verify: FAILED: {rolledBack}");
                return ExitCodes.Findings;
            }

            stdout.WriteLine($"audit log ok: {result.Entries} entries, every registry row accounted for; head {result.Head}");

            // The gateway's key file against the key events of the chain: an edit, a key put back or a revocation undone.
            var events = registry.ApiKeyEvents();
            if (!Gateway.Keys.ApiKeyStore.Exists(ProjectContext.KeysFolder))
            {
                if (events.Count > 0) stderr.WriteLine($"drydock audit verify: note: the audit log records {events.Count} API key change(s); there is no key store in {ProjectContext.KeysFolder} to check against them");
                return ExitCodes.Ok;
            }

            IReadOnlyList<string> problems;
            Gateway.Keys.ApiKeyStore store;
            try
            {
                store = Gateway.Keys.ApiKeyStore.Open(ProjectContext.KeysFolder);
                problems = store.Compare(events);
            }
            catch (Gateway.Keys.ApiKeyStoreException e)
            {
                stderr.WriteLine($"drydock audit verify: FAILED: key store: {e.Message}");
                return ExitCodes.Findings;
            }

            if (problems.Count > 0)
            {
                stderr.WriteLine($"drydock audit verify: FAILED: the key store does not match the audit log:");
                foreach (var problem in problems) stderr.WriteLine($"  - {problem}");
                return ExitCodes.Findings;
            }

            stdout.WriteLine($"key store ok: {store.List().Count} keys in {store.FilePath}, each as the audit log recorded it");
            return ExitCodes.Ok;
        }));

        var log = new Command("log", "Show audit entries, newest first.");
        var subject = new Option<string?>("--subject") { Description = "Only this subject (an id such as ds-…, or table/id)." };
        var actor = new Option<string?>("--actor") { Description = "Only this actor." };
        var action = new Option<string?>("--action") { Description = "Only this action (dataset.register, dataset.approve, …)." };
        var since = new Option<string?>("--since") { Description = "Only entries at or after this UTC time (2026-11-28 or 2026-11-28T10:00:00Z)." };
        var limit = new Option<int>("--limit") { Description = "At most this many entries.", DefaultValueFactory = _ => 50 };
        var format = CommandOptions.Format("table", "json");
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
        command.Subcommands.Add(Requests(stdout, stderr));
        command.Subcommands.Add(Purge(stdout, stderr));
        return command;
    }

    private static Option<string> FolderOption() => new("--folder") { Description = "The gateway's request log folder.", DefaultValueFactory = _ => CommandOptions.RequestLogFolder };

    private static Command Requests(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("requests", "Query the gateway's request log (metadata; text only if the policy kept it, redacted or hashed).");
        var folder = FolderOption();
        var key = new Option<string?>("--key") { Description = "Only this key id." };
        var model = new Option<string?>("--model") { Description = "Only this model." };
        var status = new Option<int?>("--status") { Description = "Only this HTTP status." };
        var since = new Option<string?>("--since") { Description = "Only requests at or after this UTC time (2026-11-28 or 2026-11-28T10:00:00Z)." };
        var findings = new Option<bool>("--findings") { Description = "Only requests with input or output findings." };
        var limit = new Option<int>("--limit") { Description = "At most this many (the newest).", DefaultValueFactory = _ => 100 };
        var format = CommandOptions.Format("table", "json");
        foreach (var option in new Option[] { folder, key, model, status, since, findings, limit, format }) command.Options.Add(option);
        command.SetAction((parse, _) => ProjectContext.Guard("audit requests", stderr, () =>
        {
            DateTimeOffset? from = null;
            if (parse.GetValue(since) is { } s)
            {
                from = DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : throw new ArgumentException($"--since '{s}' is not a date or time");
            }

            if (parse.GetValue(limit) < 1) throw new ArgumentException("--limit must be at least 1");
            var lines = RequestAuditLog.Query(parse.GetValue(folder)!, new RequestFilter(parse.GetValue(key), parse.GetValue(model), parse.GetValue(status), from, parse.GetValue(findings), parse.GetValue(limit)));
            if (parse.GetValue(format) == "json")
            {
                var array = new System.Text.Json.Nodes.JsonArray([.. lines]);
                stdout.WriteLine(array.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
                return ExitCodes.Ok;
            }

            foreach (var l in lines)
            {
                stdout.WriteLine($"{l["at"]}  {l["status"],3}  {l["key"] ?? "-",-8} {l["tier"] ?? "-",-9} {l["model"] ?? "-",-14} {l["ms"],7} ms  {l["tokens"] ?? 0,6} tok  in[{l["inputFindings"]}] out[{l["outputFindings"]}]{(l["alert"] is { } a ? "  ALERT " + a : "")}");
            }

            if (lines.Count == 0) stdout.WriteLine("(no requests)");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Purge(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("purge", "Delete gateway request-log and signal-log days older than the retention (the gateway also does this hourly).");
        var folder = FolderOption();
        var days = new Option<int>("--retention-days") { Description = "Days to keep.", DefaultValueFactory = _ => 30 };
        command.Options.Add(folder);
        command.Options.Add(days);
        command.SetAction((parse, _) => ProjectContext.Guard("audit purge", stderr, () =>
        {
            if (parse.GetValue(days) < 1) throw new ArgumentException("--retention-days must be at least 1");
            var deleted = RequestAuditLog.Purge(parse.GetValue(folder)!, parse.GetValue(days), DateTimeOffset.UtcNow);
            stdout.WriteLine($"deleted {deleted} day file(s) older than {parse.GetValue(days)} days");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
