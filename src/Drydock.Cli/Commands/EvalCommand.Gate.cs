using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Cli.Infrastructure;
using Drydock.Evaluation;
using Drydock.Evaluation.Gate;
using Drydock.Evaluation.Probes;
using Drydock.Provenance.Signing;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock gate</c>: the release decision from the evaluations recorded against a model version, signed and recorded.</summary>
internal static partial class EvalCommand
{
    public static Command CreateGate(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("gate", "The release gate: check a model version's recorded evaluations against drydock.yaml's thresholds (and its base model); exit 1 means no-ship. The decision is signed and recorded.");
        var model = new Option<string>("--model") { Description = "The model version (mv-…).", Required = true };
        var baseModel = new Option<string?>("--base-model") { Description = "The base model version: rates may not be worse than its by more than gate.regression-points." };
        var format = CommandOptions.Format("table", "json");
        foreach (var option in new Option[] { model, baseModel, format }) command.Options.Add(option);
        ProjectContext.AddOptions(command);
        command.SetAction(async (parse, _) =>
        {
            // With --format json a refusal is a JSON object on stdout too (the message also on stderr), so a pipeline
            // reading stdout never takes silence for a decision.
            var json = parse.GetValue(format) == "json";
            using var refusal = new StringWriter();
            var code = await Decide(parse, json ? refusal : stderr).ConfigureAwait(false);
            if (json && refusal.ToString() is { Length: > 0 } message)
            {
                await stderr.WriteAsync(message).ConfigureAwait(false);
                await stdout.WriteLineAsync(new JsonObject { ["model"] = parse.GetValue(model), ["decision"] = "refused", ["exitCode"] = code, ["error"] = message.TrimEnd() }
                    .ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping })).ConfigureAwait(false);
            }

            return code;
        });
        return command;

        Task<int> Decide(System.CommandLine.ParseResult parse, TextWriter errors) => ProjectContext.Guard("gate", errors, () =>
        {
            var context = ProjectContext.Load(parse);
            var policy = GatePolicy.From(context.File["gate"]);
            var suites = RequiredSuites(policy);
            using var registry = context.OpenRegistry();
            // A decision on a registry that fails verification would name evidence that may have been edited away.
            var verification = Provenance.Audit.AuditLog.Verify(registry.Database);
            var broken = verification.Ok ? Provenance.Audit.AuditWitness.Advance(registry.Database, DateTimeOffset.UtcNow) : verification.Problem;
            if (broken is not null)
            {
                throw new GateRefusedException($"the registry at {registry.Database.Display} fails drydock audit verify ({broken}); the gate does not decide on it");
            }

            var subject = registry.GetModel(parse.GetValue(model)!);
            var baseRecord = parse.GetValue(baseModel) is { } b ? registry.GetModel(b) : RegisteredBase(registry, subject, policy, stderr);
            if (baseRecord?.Id == subject.Id) throw new ArgumentException("--base-model is the model itself");
            var resultsKey = ResultsKeys.Load(context, null, registry);
            var result = ReleaseGate.Decide(subject, registry.Evaluations(subject.Id), baseRecord, baseRecord is null ? null : registry.Evaluations(baseRecord.Id), policy, suites,
                e => ResultsFile.CheckRecorded(e, resultsKey), PlantedLabels(registry, subject, context));

            var checks = result.Checks;
            var ship = result.Ship;
            var checksJson = new JsonArray([.. checks.Select(c => (JsonNode)new JsonObject { ["check"] = c.Name, ["passed"] = c.Passed, ["evidence"] = c.Evidence })]);
            var evidenceJson = new JsonArray([.. result.Evidence.Select(e => (JsonNode)new JsonObject
            {
                ["evaluation"] = e.EvaluationId, ["kind"] = e.Kind, ["model"] = e.ModelId, ["fingerprint"] = e.Fingerprint, ["at"] = e.At, ["target"] = e.Target, ["judge"] = e.Judge, ["systemPrompt"] = e.SystemPrompt,
            })]);
            // The decision names the policy it was judged against and the audit head it was judged on.
            var policyJson = policy.ToJson(suites);
            var policySha = policy.Sha256(suites);
            var headJson = new JsonObject { ["seq"] = verification.Entries, ["hash"] = verification.Head };
            string? envelope = null;
            if (File.Exists(ProjectContext.SigningKeyPath))
            {
                using var key = SigningKey.Load(ProjectContext.SigningKeyPath);
                var statement = Dsse.Statement([new Subject("model:" + subject.Id, subject.Digest)], Dsse.GatePredicate, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("modelId", subject.Id);
                    w.WriteString("decision", ship ? "ship" : "no-ship");
                    w.WriteString("baseModel", baseRecord?.Id);
                    w.WritePropertyName("checks");
                    System.Text.Json.JsonDocument.Parse(checksJson.ToJsonString()).WriteTo(w);
                    w.WritePropertyName("evidence");
                    System.Text.Json.JsonDocument.Parse(evidenceJson.ToJsonString()).WriteTo(w);
                    w.WriteString("policySha256", policySha);
                    w.WritePropertyName("policy");
                    System.Text.Json.JsonDocument.Parse(policyJson.ToJsonString()).WriteTo(w);
                    w.WritePropertyName("auditHead");
                    System.Text.Json.JsonDocument.Parse(headJson.ToJsonString()).WriteTo(w);
                    w.WriteEndObject();
                });
                envelope = Encoding.UTF8.GetString(Dsse.Sign(statement, key));
            }

            var recordedChecks = new JsonObject
            {
                ["checks"] = checksJson.DeepClone(), ["evidence"] = evidenceJson.DeepClone(), ["policySha256"] = policySha, ["policy"] = policyJson.DeepClone(), ["auditHead"] = headJson.DeepClone(),
            }.ToJsonString();
            var decision = registry.RecordGateDecision(subject.Id, ship ? "ship" : "no-ship", baseRecord?.Id, recordedChecks, envelope, Provenance.Actor.Current);
            if (parse.GetValue(format) == "json")
            {
                stdout.WriteLine(new JsonObject { ["model"] = subject.Id, ["decision"] = decision.Decision, ["id"] = decision.Id, ["signed"] = envelope is not null, ["checks"] = checksJson, ["evidence"] = evidenceJson, ["policySha256"] = policySha, ["policy"] = policyJson, ["auditHead"] = headJson }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            }
            else
            {
                foreach (var c in checks) stdout.WriteLine($"{(c.Passed ? "pass" : "FAIL")}  {c.Name,-44} {c.Evidence}");
                foreach (var e in result.Evidence) stdout.WriteLine($"evidence  {e.EvaluationId}  {e.Kind,-12} {e.ModelId}  fingerprint {e.Fingerprint[..12]}  {e.At}  {e.Target}  judge {e.Judge}  system prompt {(e.SystemPrompt.StartsWith("sha256:", StringComparison.Ordinal) ? e.SystemPrompt[..Math.Min(23, e.SystemPrompt.Length)] : e.SystemPrompt)}");
                if (result.Evidence.Count == 0) stdout.WriteLine("evidence  none: no evaluation of this model version counts");
                stdout.WriteLine($"policy sha256:{policySha[..12]} ({string.Join(", ", suites.Select(x => $"{x.Name}@{x.Version}"))}; strategies {string.Join(",", policy.Strategies)}; max-error-rate {policy.MaxErrorRate.ToString(CultureInfo.InvariantCulture)}); audit head {verification.Entries} {verification.Head[..12]}");
                stdout.WriteLine($"{subject.Id}: {(ship ? "SHIP" : "NO-SHIP")} ({decision.Id}{(envelope is null ? ", unsigned: no signing key" : ", signed")})");
            }

            return ship ? ExitCodes.Ok : ExitCodes.Findings;
        });
    }

    // Without --base-model, the base registered with the model version, when it is a model version of this registry
    // (by id, or by the digest in NAME@sha256:DIGEST): leaving the option out must not skip the regression checks.
    // A base outside the registry has no evaluations here to compare with (said on stderr); with no check on that
    // compares with a base, there is nothing to compare.
    private static Provenance.Registry.ModelRecord? RegisteredBase(Provenance.Registry.ProvenanceRegistry registry, Provenance.Registry.ModelRecord subject, GatePolicy policy, TextWriter stderr)
    {
        var registered = subject.BaseModel?.Trim();
        if (string.IsNullOrEmpty(registered)) return null;
        var at = registered.LastIndexOf("sha256:", StringComparison.OrdinalIgnoreCase);
        var digest = at >= 0 ? registered[(at + "sha256:".Length)..] : null;
        var found = registry.FindModel(registered)
            ?? (digest is null ? null : registry.ListModels().Where(m => m.Id != subject.Id && string.Equals(m.Digest, digest, StringComparison.OrdinalIgnoreCase)).OrderBy(m => m.RegisteredAt, StringComparer.Ordinal).FirstOrDefault());
        if (found is null)
        {
            stderr.WriteLine($"drydock gate: {subject.Id}'s registered base model ({registered}) is not a model version in this registry: no regression checks (register and evaluate the base to compare with it)");
            return null;
        }

        var compares = policy.Thresholds.Any(t => t.Value is not null && (GatePolicy.Metrics[t.Key].StartsWith("attack.", StringComparison.Ordinal) || t.Key == "membership-auc"));
        if (!compares) return null;
        stderr.WriteLine($"drydock gate: comparing with {subject.Id}'s registered base model {found.Id} (no --base-model given)");
        return found;
    }

    // The suites the gate requires, loaded; one that cannot be loaded, or two of one name (a metric would read either),
    // is a policy the gate cannot decide on: refused (GateRefusedException, reported by CommandErrors).
    private static List<ProbeSuite> RequiredSuites(GatePolicy policy)
    {
        List<ProbeSuite> suites;
        try
        {
            suites = [.. policy.Suites.Select(ProbeSuite.Load)];
        }
        catch (ProbeSuiteException e)
        {
            throw new GateRefusedException(e.Message);
        }

        if (suites.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new GateRefusedException($"gate.suites: two required suites are named '{twice.Key}' ({string.Join(", ", policy.Suites.Where((_, i) => suites[i].Name == twice.Key))}); a metric would read either");
        }

        return suites;
    }
}
