using System.CommandLine;
using Drydock.Cli.Infrastructure;
using Drydock.Detection.Analyzers;
using Drydock.Gateway.Operations;
using Drydock.Provenance;
using Drydock.Provenance.Registry;

namespace Drydock.Cli.Commands;

/// <summary>
/// What the gateway serves and how it is contained: <c>drydock deploy</c> (aliases → approved model versions),
/// <c>drydock incident</c> (contain, timeline, close) and <c>drydock canary</c> (planted secrets the gateway watches for).
/// Every change is a registry row with its audit entry; a running gateway picks it up within two seconds.
/// </summary>
internal static class OperationsCommands
{
    public static Command CreateDeploy(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("deploy", "Point a gateway model alias at an approved model version (or list deployments).");
        var alias = new Argument<string?>("alias") { Description = "The model name clients ask for.", Arity = ArgumentArity.ZeroOrOne };
        var model = new Option<string?>("--model") { Description = "The approved model version (mv-…)." };
        var upstreamModel = new Option<string?>("--upstream-model") { Description = "The name the model server knows it by (default: the model's registered name)." };
        var reason = new Option<string?>("--reason") { Description = "Why (recorded)." };
        var enable = new Option<bool>("--enable") { Description = "Serve a disabled alias again (after containment); refused for a model version that is not approved now." };
        command.Arguments.Add(alias);
        foreach (var option in new Option[] { model, upstreamModel, reason, enable }) command.Options.Add(option);
        ProjectContext.AddOptions(command);
        command.SetAction((parse, _) => ProjectContext.Guard("deploy", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            using var registry = context.OpenRegistry();
            if (parse.GetValue(alias) is not { } name)
            {
                foreach (var d in registry.Deployments())
                {
                    var tripwire = d.ModelId is null ? null : registry.TripwireIndex(d.ModelId);
                    stdout.WriteLine($"{d.Alias,-20} {(d.Enabled ? "enabled" : "DISABLED"),-9} {d.ModelId ?? "(pass-through)",-18} upstream {d.UpstreamModel ?? d.Alias}  ({d.History.Count} changes, last {d.History[^1].Action} {d.History[^1].At} by {d.History[^1].Actor}){(tripwire is null ? "" : $"  tripwire sha256:{tripwire.Sha256[..12]}")}");
                }

                if (registry.Deployments().Count == 0) stdout.WriteLine("(no deployments)");
                return ExitCodes.Ok;
            }

            DeploymentState state;
            if (parse.GetValue(enable))
            {
                // An alias served again needs its version's tripwire index as deploy built it (refused, not served with a 503).
                if (TripwireBuild.Required(context) && registry.Deployments().FirstOrDefault(d => d.Alias == name)?.ModelId is { } served) TripwireBuild.Verify(registry, served);
                state = registry.Enable(name, parse.GetValue(reason), Actor.Current, context.Approval);
            }
            else
            {
                var modelId = parse.GetValue(model) ?? throw new ArgumentException("--model is required to deploy (or --enable)");
                // While a tier checks answers against the training records, the index is built (and recorded) first:
                // a version it cannot be built for is not deployed.
                var gateway = new Gateway.GatewayOptions { Upstream = new Uri("http://127.0.0.1/") }.With(context.File["gateway"]);
                var approved = registry.Status("model", registry.GetModel(modelId).Id, context.Approval.RequiredRoles);
                if (gateway.TripwireRequired && approved.State == "approved")
                {
                    var tripwire = TripwireBuild.Build(context, registry, registry.GetModel(modelId), name, gateway.TripwireRecords, Actor.Current);
                    stdout.WriteLine($"tripwire index {tripwire.File}: {tripwire.Records} {gateway.TripwireRecords} records of {string.Join(", ", tripwire.Datasets)}, sha256:{tripwire.Sha256}");
                }

                state = registry.Deploy(name, modelId, parse.GetValue(upstreamModel), parse.GetValue(reason), Actor.Current, context.Approval);
            }

            stdout.WriteLine($"{state.Alias} → {state.ModelId} (upstream model {state.UpstreamModel}), {(state.Enabled ? "enabled" : "disabled")}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command CreateIncident(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("incident", "Contain incidents (kill switch, revert, key revocation) and read their timelines.");

        var contain = new Command("contain", "Disable a model alias (kill switch), revert it to the previous approved version, or revoke a key; recorded on an incident.");
        var model = new Option<string?>("--model") { Description = "The model alias to contain." };
        var revert = new Option<bool>("--revert") { Description = "Point the alias at the previous approved version instead of disabling it." };
        var key = new Option<string?>("--key") { Description = "An API key id to revoke." };
        var reason = new Option<string?>("--reason") { Description = "Why (recorded)." };
        var incidentOption = new Option<string?>("--incident") { Description = "Record on this incident (default: open a new one)." };
        var redis = CommandOptions.Redis();
        foreach (var option in new Option[] { model, revert, key, reason, incidentOption, redis }) contain.Options.Add(option);
        ProjectContext.AddOptions(contain);
        contain.SetAction((parse, _) => ProjectContext.Guard("incident contain", stderr, () =>
        {
            if (parse.GetValue(model) is null == parse.GetValue(key) is null) throw new ArgumentException("give --model ALIAS or --key ID");
            // A kill switch is never blocked by an unrelated error in drydock.yaml; a revert is a decision and needs the whole file.
            var context = parse.GetValue(revert) ? ProjectContext.Load(parse) : ProjectContext.LoadForEmergency(parse, "incident contain");
            using var registry = context.OpenRegistry();
            var actor = Actor.Current;
            if (parse.GetValue(key) is { } keyId)
            {
                // An unknown key or incident is refused before anything is recorded or changed.
                var keys = GatewayKeys.Store(parse, context);
                if (!keys.List().Any(k => k.Id == keyId)) throw new ArgumentException($"no key {keyId}");
                if (parse.GetValue(incidentOption) is { } given) registry.Incident(given);
                var id = parse.GetValue(incidentOption) ?? registry.OpenIncident("key-compromise", "high", $"key:{keyId}", parse.GetValue(reason), actor);
                if (!keys.Revoke(keyId, $"incident {id}{(parse.GetValue(reason) is { } why ? ": " + why : "")}")) throw new ArgumentException($"no key {keyId}");
                registry.RecordIncident(id, "contained", $"key:{keyId} revoked", actor);
                GatewayKeys.PublishRevocation(parse.GetValue(redis), keyId);
                stdout.WriteLine($"{id}: key {keyId} revoked");
                return ExitCodes.Ok;
            }

            if (parse.GetValue(revert)) TripwireBuild.VerifyRevert(context, registry, parse.GetValue(model)!, parse.GetValue(reason), parse.GetValue(incidentOption), actor);
            var (incident, state) = GatewayOperations.Contain(registry, parse.GetValue(model)!, parse.GetValue(revert), parse.GetValue(reason), parse.GetValue(incidentOption), actor, context.Approval);
            stdout.WriteLine(state.Enabled ? $"{incident}: {state.Alias} reverted to {state.ModelId} (upstream model {state.UpstreamModel})" : $"{incident}: {state.Alias} disabled");
            return ExitCodes.Ok;
        }));

        var list = new Command("list", "List incidents: id, kind, severity, subject, status.");
        ProjectContext.AddOptions(list);
        list.SetAction((parse, _) => ProjectContext.Guard("incident list", stderr, () =>
        {
            using var registry = ProjectContext.Load(parse).OpenRegistry();
            var incidents = registry.Incidents();
            foreach (var t in incidents) stdout.WriteLine($"{t[0].IncidentId}  {t[0].At}  {t[0].Kind,-17} {t[0].Severity,-8} {(t[^1].Action == "closed" ? "closed" : "open"),-6} {t[0].Subject}");
            if (incidents.Count == 0) stdout.WriteLine("(no incidents)");
            return ExitCodes.Ok;
        }));

        var idArgument = new Argument<string>("id") { Description = "The incident id (in-…)." };
        var show = new Command("show", "An incident's timeline.");
        show.Arguments.Add(idArgument);
        ProjectContext.AddOptions(show);
        show.SetAction((parse, _) => ProjectContext.Guard("incident show", stderr, () =>
        {
            using var registry = ProjectContext.Load(parse).OpenRegistry();
            var timeline = registry.Incident(parse.GetValue(idArgument)!);
            stdout.WriteLine($"{timeline[0].IncidentId}: {timeline[0].Kind}, {timeline[0].Severity}, {timeline[0].Subject}");
            foreach (var e in timeline) stdout.WriteLine($"  {e.At}  {e.Action,-10} {e.Actor,-16} {e.Note}");
            return ExitCodes.Ok;
        }));

        var closeId = new Argument<string>("id") { Description = "The incident id." };
        var note = new Option<string?>("--note") { Description = "What was done or found." };
        var close = new Command("close", "Close an incident with a note.");
        close.Arguments.Add(closeId);
        close.Options.Add(note);
        ProjectContext.AddOptions(close);
        close.SetAction((parse, _) => ProjectContext.Guard("incident close", stderr, () =>
        {
            using var registry = ProjectContext.Load(parse).OpenRegistry();
            registry.RecordIncident(parse.GetValue(closeId)!, "closed", parse.GetValue(note), Actor.Current);
            stdout.WriteLine($"{parse.GetValue(closeId)} closed");
            return ExitCodes.Ok;
        }));

        foreach (var sub in new[] { contain, list, show, close }) command.Subcommands.Add(sub);
        return command;
    }

    public static Command CreateCanary(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("canary", "Canaries: random codes planted in training data on purpose; the gateway blocks any answer that repeats one.");
        var create = new Command("create", "Create canaries and print them (only the codes on stdout, one per line; the registry keeps their hashes).");
        var label = new Option<string>("--label") { Description = "What they are for (recorded).", Required = true };
        var count = new Option<int>("--count") { Description = "How many.", DefaultValueFactory = _ => 1 };
        var dataset = new Option<string?>("--dataset") { Description = "The dataset version they are planted in (ds-…)." };
        foreach (var option in new Option[] { label, count, dataset }) create.Options.Add(option);
        ProjectContext.AddOptions(create);
        create.SetAction((parse, _) => ProjectContext.Guard("canary create", stderr, () =>
        {
            if (parse.GetValue(count) is < 1 or > 1000) throw new ArgumentException("--count must be between 1 and 1000");
            using var registry = ProjectContext.Load(parse).OpenRegistry();
            for (var i = 0; i < parse.GetValue(count); i++)
            {
                var value = CanaryAnalyzer.NewValue();
                var record = registry.RegisterCanary(parse.GetValue(label)!, CanaryAnalyzer.Hash(value), parse.GetValue(dataset), Actor.Current);
                stdout.WriteLine(value);
                stderr.WriteLine($"drydock canary: registered {record.Id}; the code is shown only now");
            }

            return ExitCodes.Ok;
        }));

        var list = new Command("list", "List registered canaries (ids, labels, hashes; never the codes).");
        ProjectContext.AddOptions(list);
        list.SetAction((parse, _) => ProjectContext.Guard("canary list", stderr, () =>
        {
            using var registry = ProjectContext.Load(parse).OpenRegistry();
            foreach (var c in registry.Canaries()) stdout.WriteLine($"{c.Id}  {c.CreatedAt}  sha256:{c.Sha256[..16]}…  {c.Label}{(c.DatasetId is null ? "" : "  dataset " + c.DatasetId)}");
            return ExitCodes.Ok;
        }));

        var plant = new Command("plant", "Plant canaries in a JSONL training set (Secret-Sharer style): new random codes in natural sentences, each in --repeat records; values go to the vault, hashes to the registry.");
        var input = new Option<string>("--input") { Description = "The training set (JSONL).", Required = true };
        var output = new Option<string>("--output") { Description = "Where the planted copy goes.", Required = true };
        var plantLabel = new Option<string>("--label") { Description = "What they are for; names the vault artifact (canaries-LABEL).", Required = true };
        var plantCount = new Option<int>("--count") { Description = "How many canaries.", DefaultValueFactory = _ => 3 };
        var repeat = new Option<int>("--repeat") { Description = "In how many records each one is planted.", DefaultValueFactory = _ => 1 };
        var seed = new Option<int>("--seed") { Description = "Chooses the records.", DefaultValueFactory = _ => 1 };
        foreach (var option in new Option[] { input, output, plantLabel, plantCount, repeat, seed }) plant.Options.Add(option);
        ProjectContext.AddOptions(plant);
        plant.SetAction((parse, _) => ProjectContext.Guard("canary plant", stderr, () =>
        {
            if (parse.GetValue(plantCount) is < 1 or > 1000) throw new ArgumentException("--count must be between 1 and 1000");
            if (parse.GetValue(repeat) < 1) throw new ArgumentException("--repeat must be at least 1");
            var label = parse.GetValue(plantLabel)!;
            if (!label.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.')) throw new ArgumentException("--label: letters, digits, '-', '_' and '.' only");
            var canaries = Evaluation.Privacy.CanaryPlanter.Plant(parse.GetValue(input)!, parse.GetValue(output)!, label, parse.GetValue(plantCount), parse.GetValue(repeat), parse.GetValue(seed));
            using var registry = ProjectContext.Load(parse).OpenRegistry();
            var secrets = new System.Text.Json.Nodes.JsonArray();
            // Where they went (the planted file's SHA-256): eval memorization --record checks that this file fed a
            // dataset the model version was trained on.
            var plantedIn = Provenance.Signing.Dsse.Sha256Of(parse.GetValue(output)!);
            // And what they were planted into (the input's SHA-256): a chain of plantings (planted.jsonl → planted2.jsonl) is walked through the lineage.
            var plantedFrom = Provenance.Signing.Dsse.Sha256Of(parse.GetValue(input)!);
            foreach (var c in canaries)
            {
                var record = registry.RegisterCanary(label, CanaryAnalyzer.Hash(c.Value), null, Actor.Current);
                secrets.Add((System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject { ["id"] = record.Id, ["prefix"] = c.Prefix, ["value"] = c.Value, ["plantedIn"] = plantedIn, ["plantedFrom"] = plantedFrom, ["repeat"] = parse.GetValue(repeat) });
                stdout.WriteLine($"{record.Id}  planted {parse.GetValue(repeat)}× in {parse.GetValue(output)}");
            }

            // The values exist only encrypted in the vault; the plain file lives for the moment of the Put.
            var folder = Directory.CreateTempSubdirectory("drydock-canaries-");
            try
            {
                var plain = Path.Combine(folder.FullName, "canaries.json");
                KeyFiles.WriteSecret(plain, System.Text.Encoding.UTF8.GetBytes(secrets.ToJsonString()));
                var vault = new Provenance.Vault.ArtifactVault(ProjectContext.VaultFolder, Provenance.Vault.KeyRing.Open(ProjectContext.KeyRingPath, create: true));
                var artifact = vault.Put(plain, "other", "canaries-" + label, Actor.Current);
                stderr.WriteLine($"drydock canary: values encrypted in the vault as {artifact.Id} (canaries-{label}); drydock eval memorization --canaries {label} reads them");
            }
            finally
            {
                folder.Delete(recursive: true);
            }

            return ExitCodes.Ok;
        }));

        command.Subcommands.Add(create);
        command.Subcommands.Add(list);
        command.Subcommands.Add(plant);
        return command;
    }
}
