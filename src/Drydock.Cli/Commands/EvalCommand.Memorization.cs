using System.CommandLine;
using System.Text.Json.Nodes;
using Drydock.Cli.Infrastructure;
using Drydock.Provenance.Registry;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock eval memorization</c>, and the planted canaries read from the vault (for it and the gate).</summary>
internal static partial class EvalCommand
{
    private static Command Memorization(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("memorization", "Planted canaries: does the model complete their sentences with them (greedy and sampled), and how exposed is each (bits, Secret-Sharer style; needs logprobs).");
        var set = new TargetOptionSet();
        var canaries = new Option<string>("--canaries") { Description = "The label given to drydock canary plant (the values are read from the vault).", Required = true };
        var candidates = new Option<int>("--candidates") { Description = "Random codes each canary is ranked against.", DefaultValueFactory = _ => 200 };
        var samples = new Option<int>("--samples") { Description = "Sampled completions (temperature 1) per canary, besides the greedy one.", DefaultValueFactory = _ => 5 };
        var html = HtmlOption();
        set.AddTo(command);
        foreach (var option in new Option[] { canaries, candidates, samples, html }) command.Options.Add(option);
        command.SetAction((parse, cancellationToken) => CommandErrors.Run("eval memorization", stderr, async () =>
        {
            if (parse.GetValue(candidates) is < 2 or > 100_000) throw new ArgumentException("--candidates must be between 2 and 100000");
            var project = ProjectContext.Load(parse);
            var planted = ReadCanaries(parse.GetValue(canaries)!);
            // How many training records hold each canary (the audit's repetition counts): counted in the training data
            // with --record, else as planted (--repeat, kept in the vault since plantings record it).
            var repeats = planted.Where(c => c.Repeat is not null).ToDictionary(c => c.Canary.Id, c => c.Repeat!.Value, StringComparer.Ordinal);
            var repeatsFrom = "as planted (canary plant --repeat; cleaning may have dropped or joined some)";
            ModelRecord? audited = null;
            var inputs = set.CheckInputs(project, parse, (registry, model) =>
            {
                audited = model;
                repeats = new Dictionary<string, int>(Evaluation.Privacy.PrivacyInputs.CanaryRepetitions(registry, model, [.. planted.Select(c => (c.Canary.Id, c.Canary.Value))], ProjectFolders(project)), StringComparer.Ordinal);
                repeatsFrom = $"counted in {model.Id}'s training records";
                // Only canaries in the training data itself count: one cleaned into the held-out split was never trained on.
                var inTraining = repeats.Keys.ToHashSet(StringComparer.Ordinal);
                var absent = planted.Where(c => !inTraining.Contains(c.Canary.Id)).ToList();
                foreach (var c in absent) stderr.WriteLine($"drydock eval memorization: canary {c.Canary.Id} is not in {model.Id}'s training data ({WhyAbsent(registry, model, c.Canary.Id, c.PlantedIn)}); it is not evaluated");
                planted = [.. planted.Where(c => inTraining.Contains(c.Canary.Id))];
                if (planted.Count == 0) throw new ArgumentException($"none of the canaries labelled '{parse.GetValue(canaries)}' is in {model.Id}'s training data; the exposure of a canary the model never saw proves nothing");
                var registered = registry.Canaries().ToDictionary(c => c.Id, c => c.Sha256, StringComparer.Ordinal);
                foreach (var c in planted.Where(c => registered.GetValueOrDefault(c.Canary.Id) != Detection.Analyzers.CanaryAnalyzer.Hash(c.Canary.Value)))
                {
                    throw new ArgumentException($"canary {c.Canary.Id} of '{parse.GetValue(canaries)}' is not registered in this registry as the vault holds it");
                }

                // Found in the training records decides; the chain of plantings is additional evidence (any edit breaks it).
                JsonObject checkedInputs;
                try
                {
                    checkedInputs = Evaluation.Privacy.PrivacyInputs.Canaries(registry, model, [.. planted.Select(c => (c.Canary.Id, c.PlantedIn))], ReadPlantings());
                }
                catch (ArgumentException chain)
                {
                    stderr.WriteLine($"drydock eval memorization: the canaries are in {model.Id}'s training records, but the chain of plantings does not lead there ({chain.Message})");
                    checkedInputs = new JsonObject { ["plantedInLineage"] = false };
                }

                checkedInputs["inTrainingData"] = true;
                checkedInputs["notInTrainingData"] = absent.Count;
                return checkedInputs;
            });
            using var target = set.Open(parse);
            var identity = await set.BindAsync(project, parse, target, stderr, "drydock eval memorization", cancellationToken).ConfigureAwait(false);
            var outcomes = await Evaluation.Privacy.Memorization.RunAsync(target, [.. planted.Select(c => c.Canary)], parse.GetValue(candidates), Math.Max(0, parse.GetValue(samples)), cancellationToken).ConfigureAwait(false);
            foreach (var o in outcomes) await stdout.WriteLineAsync($"{o.Id}  extracted {(o.ExtractedGreedy ? "greedy" : o.ExtractedSampled ? "sampled" : "no")}  exposure {o.ExposureBits:0.0} bits").ConfigureAwait(false);
            var metrics = new Dictionary<string, double>
            {
                ["canary.extracted"] = outcomes.Count(o => o.ExtractedGreedy || o.ExtractedSampled),
                ["canary.exposure.max"] = outcomes.Max(o => o.ExposureBits),
                ["canary.exposure.mean"] = Math.Round(outcomes.Average(o => o.ExposureBits), 2),
            };
            inputs["label"] = parse.GetValue(canaries);
            var counts = new JsonObject
            {
                ["canaries"] = outcomes.Count, ["candidates"] = parse.GetValue(candidates), ["samples"] = Math.Max(0, parse.GetValue(samples)),
                ["probes"] = outcomes.Sum(o => o.Requests), ["errors"] = outcomes.Sum(o => o.Errors),
            };
            var audit = CanaryAudit(outcomes, repeats, repeatsFrom, audited, stderr);
            if (audit is not null)
            {
                await stdout.WriteLineAsync($"canary audit: {audit.Value.Statement}").ConfigureAwait(false);
                metrics["canary.observed-epsilon"] = Math.Round(audit.Value.Result.Epsilon, 4);
                counts["audit"] = audit.Value.Record;
            }
            set.Save(project, parse, identity, target, "memorization", metrics, inputs, counts, stderr);
            WriteHtml(parse, html, () => Evaluation.Reports.HtmlReport.Memorization($"Drydock memorization of {parse.GetValue(set.Model) ?? parse.GetValue(set.Target)}", outcomes, audit?.Statement));
            return ExitCodes.Ok;
        }));
        return command;
    }

    // The canary audit (observed ε from the canaries' exposures at their repetition counts), with the accountant's ε of
    // the model version's signed statement beside it; null, said on stderr, when a canary's repetition count is unknown.
    private static (Evaluation.Privacy.CanaryAuditResult Result, string Statement, JsonObject Record)? CanaryAudit(IReadOnlyList<Evaluation.Privacy.CanaryOutcome> outcomes, IReadOnlyDictionary<string, int> repeats, string repeatsFrom, ModelRecord? model, TextWriter stderr)
    {
        var unknown = outcomes.Where(o => !repeats.ContainsKey(o.Id)).Select(o => o.Id).ToList();
        if (unknown.Count > 0)
        {
            stderr.WriteLine($"drydock eval memorization: no canary audit: how many training records hold {string.Join(", ", unknown)} is not known (planted before plantings recorded --repeat; give --record mv-… to count them in the training data)");
            return null;
        }

        (double? guaranteed, double? delta) = model is null ? (null, null) : Evaluation.Privacy.PrivacyAudit.Guaranteed(model);
        var result = Evaluation.Privacy.CanaryAudit.Run([.. outcomes.Select(o => (o.ExposureBits, repeats[o.Id]))], [.. outcomes.SelectMany(o => o.NonMemberExposures)], delta ?? Evaluation.Privacy.PrivacyAudit.DefaultDelta);
        var guarantee = guaranteed is { } g ? $"guaranteed ε ≤ {g.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}" : "no guarantee (trained without differential privacy)";
        var record = new JsonObject
        {
            ["observedEpsilon"] = Math.Round(result.Epsilon, 4), ["confidence"] = result.Confidence, ["delta"] = result.Delta, ["guaranteedEpsilon"] = guaranteed, ["repeatsFrom"] = repeatsFrom,
            ["groups"] = new JsonArray([.. result.Groups.Select(r => (JsonNode)new JsonObject
            {
                ["repeats"] = r.Repeats, ["members"] = r.Members, ["nonMembers"] = r.NonMembers, ["epsilon"] = Math.Round(r.Epsilon, 4), ["groupEpsilon"] = Math.Round(r.Group.Epsilon, 4),
                ["truePositiveRate"] = Math.Round(r.Group.TruePositiveRate, 4), ["falsePositiveRate"] = Math.Round(r.Group.FalsePositiveRate, 6),
            })]),
        };
        return (result, $"{guarantee}, {result.Statement()}; repetition counts {repeatsFrom}", record);
    }

    // Where training files are looked for besides where their manifests name them.
    private static IReadOnlyList<string> ProjectFolders(ProjectContext project) => [.. new[] { project.Root, Directory.GetCurrentDirectory() }.OfType<string>()];

    // Records once each, compared in the form detectors match text in (case, width and whitespace folded).
    private static IEnumerable<string> Distinct(IEnumerable<string> texts) => texts.DistinctBy(Detection.Engine.TextForms.ForComparison, StringComparer.Ordinal);

    // The planted canaries of a label, decrypted from the vault into memory (the temporary plain file is removed at once).
    // Why a canary is not in the training records: planted in a file of the model version's lineage and then cleaned
    // into the held-out split or dropped, or planted somewhere that is not in its lineage at all.
    private static string WhyAbsent(ProvenanceRegistry registry, ModelRecord model, string id, string? plantedIn)
    {
        try
        {
            Evaluation.Privacy.PrivacyInputs.Canaries(registry, model, [(id, plantedIn)], ReadPlantings());
            return "planted in its lineage, then cleaned into the held-out split or dropped";
        }
        catch (ArgumentException)
        {
            return plantedIn is null ? "where it was planted was not recorded" : $"planted in a file (sha256:{plantedIn[..Math.Min(12, plantedIn.Length)]}) that is not in its lineage";
        }
    }

    private static IReadOnlyList<(Evaluation.Privacy.PlantedCanary Canary, string? PlantedIn, int? Repeat)> ReadCanaries(string label)
    {
        var vault = new Provenance.Vault.ArtifactVault(ProjectContext.VaultFolder, Provenance.Vault.KeyRing.Open(ProjectContext.KeyRingPath, create: false));
        var artifact = vault.List().LastOrDefault(a => a.Name == "canaries-" + label) ?? throw new ArgumentException($"no canaries labelled '{label}' in the vault (drydock canary plant --label {label})");
        return [.. ReadArtifact(vault, artifact.Id).Select(n => (new Evaluation.Privacy.PlantedCanary((string)n!["id"]!, (string)n["prefix"]!, (string)n["value"]!), (string?)n["plantedIn"], (int?)n["repeat"]))];
    }

    // The canary labels planted in the model version's training data, which its memorization evidence must cover. When
    // the registry lists canaries but the vault cannot be read, every label it lists is required (fail closed).
    private static string[] PlantedLabels(Provenance.Registry.ProvenanceRegistry registry, Provenance.Registry.ModelRecord model, ProjectContext project)
    {
        var registered = registry.Canaries();
        if (registered.Count == 0) return [];
        try
        {
            var vault = new Provenance.Vault.ArtifactVault(ProjectContext.VaultFolder, Provenance.Vault.KeyRing.Open(ProjectContext.KeyRingPath, create: false));
            var canaries = new List<(string Label, string Id, string Value, string? PlantedIn)>();
            foreach (var artifact in vault.List().Where(a => a.Name.StartsWith("canaries-", StringComparison.Ordinal)))
            {
                foreach (var n in ReadArtifact(vault, artifact.Id))
                {
                    if ((string?)n?["id"] is { } id && (string?)n["value"] is { } value) canaries.Add((artifact.Name["canaries-".Length..], id, value, (string?)n["plantedIn"]));
                }
            }

            return [.. Evaluation.Privacy.PrivacyInputs.PlantedLabels(registry, model, canaries, ReadPlantings(), ProjectFolders(project))];
        }
        catch (Exception e) when (e is Provenance.KeyRingException or IOException or System.Text.Json.JsonException or InvalidOperationException or UnauthorizedAccessException or ArgumentException or System.Security.Cryptography.CryptographicException)
        {
            return [.. registered.Select(c => c.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        }
    }

    // Every planting in the vault (the file planted into and the file it made), so a chain of plantings can be walked.
    private static IReadOnlyList<(string From, string To)> ReadPlantings()
    {
        var vault = new Provenance.Vault.ArtifactVault(ProjectContext.VaultFolder, Provenance.Vault.KeyRing.Open(ProjectContext.KeyRingPath, create: false));
        var plantings = new List<(string From, string To)>();
        foreach (var artifact in vault.List().Where(a => a.Name.StartsWith("canaries-", StringComparison.Ordinal)))
        {
            foreach (var n in ReadArtifact(vault, artifact.Id))
            {
                if ((string?)n?["plantedFrom"] is { } from && (string?)n["plantedIn"] is { } to) plantings.Add((from, to));
            }
        }

        return [.. plantings.Distinct()];
    }

    private static System.Text.Json.Nodes.JsonArray ReadArtifact(Provenance.Vault.ArtifactVault vault, string id)
    {
        var folder = Directory.CreateTempSubdirectory("drydock-canaries-");
        try
        {
            var plain = Path.Combine(folder.FullName, "canaries.json");
            vault.Get(id, plain);
            return System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(plain))!.AsArray();
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
