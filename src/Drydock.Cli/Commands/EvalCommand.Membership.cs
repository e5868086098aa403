using System.CommandLine;
using System.Text.Json.Nodes;
using Drydock.Cli.Infrastructure;
using Drydock.Evaluation;
using Drydock.Evaluation.Gate;
using Drydock.Evaluation.Targets;
using Drydock.Provenance.Registry;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock eval membership</c> (with its reference model bound to the base model) and <c>drydock eval extraction</c>.</summary>
internal static partial class EvalCommand
{
    private static Command Membership(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("membership", "Membership inference: can training records (members) be told from held-out ones (non-members) by their likelihood? AUC, TPR at 1% FPR, advantage (needs logprobs).");
        var set = new TargetOptionSet();
        var members = new Option<string>("--members") { Description = "Training records (JSONL).", Required = true };
        var nonMembers = new Option<string>("--non-members") { Description = "Held-out records never trained on (JSONL; drydock clean --holdout).", Required = true };
        var reference = new Option<string?>("--reference-target") { Description = "A reference model's endpoint (the base model): scores become the difference from it." };
        var referenceModel = new Option<string?>("--reference-model") { Description = "The reference model's name (required for an endpoint)." };
        var limit = new Option<int>("--limit") { Description = "Records read from each file.", DefaultValueFactory = _ => 500 };
        var html = HtmlOption();
        set.AddTo(command);
        foreach (var option in new Option[] { members, nonMembers, reference, referenceModel, limit, html }) command.Options.Add(option);
        command.SetAction((parse, cancellationToken) => CommandErrors.Run("eval membership", stderr, async () =>
        {
            var project = ProjectContext.Load(parse);
            if (parse.GetValue(limit) < 1) throw new ArgumentException("--limit must be at least 1");
            var allMembers = Datasets.DatasetReader.Texts(parse.GetValue(members)!);
            // Distinct records (in the normalised form records are compared in): 60 copies of one record are one record.
            var memberTexts = Distinct(allMembers).Take(parse.GetValue(limit)).ToList();
            var nonMemberTexts = Distinct(Datasets.DatasetReader.EnumerateTexts(parse.GetValue(nonMembers)!)).Take(parse.GetValue(limit)).ToList();
            ModelRecord? audited = null;
            var inputs = set.CheckInputs(project, parse, (registry, model) =>
            {
                audited = model;
                return Evaluation.Privacy.PrivacyInputs.Membership(registry, model, parse.GetValue(members)!, parse.GetValue(nonMembers)!, allMembers, nonMemberTexts, ProjectFolders(project));
            });
            nonMemberTexts = Evaluation.Privacy.PrivacyInputs.Independent(nonMemberTexts, inputs, stderr);
            foreach (var input in (inputs["rawInputs"] as JsonArray ?? []).Where(i => (string?)i?["status"] != "compared"))
            {
                var sha = (string?)input!["sha256"] ?? "";
                var state = (string?)input["status"] == "changed" ? "changed since cleaning" : "missing";
                await stderr.WriteLineAsync($"drydock eval membership: {(string?)input["file"]}, an input {(string?)input["dataset"]} was cleaned from (sha256:{sha[..Math.Min(12, sha.Length)]}), is {state}: the non-members were not compared with its records as they were before cleaning (recorded with the evaluation)").ConfigureAwait(false);
            }

            if (parse.GetValue(reference) is { } referenceUrl)
            {
                var targetUrl = parse.GetValue(set.Target)!;
                var subject = TargetIdentity.Of(targetUrl, ModelName(targetUrl, parse.GetValue(set.Model)));
                if (subject.IsSameModelAs(TargetIdentity.Of(referenceUrl, ModelName(referenceUrl, parse.GetValue(referenceModel), "--reference-model"))))
                {
                    throw new ArgumentException($"--reference-target {referenceUrl} is the target itself ({subject.Target} {subject.Model}): calibrated against itself every score is 0 and the AUC 0.5 proves nothing; give the base model as the reference, or no reference");
                }
            }

            using var target = set.Open(parse);
            var identity = await set.BindAsync(project, parse, target, stderr, "drydock eval membership", cancellationToken).ConfigureAwait(false);
            using var referenceTarget = parse.GetValue(reference) is { } r ? set.Open(parse, r, parse.GetValue(referenceModel)) : null;
            var referenceBinding = referenceTarget is null ? null : await BindReference(project, parse, set, referenceTarget, parse.GetValue(reference)!, parse.GetValue(referenceModel), stderr, cancellationToken).ConfigureAwait(false);
            if (referenceBinding is not null) foreach (var (key, value) in referenceBinding) inputs[key] = value?.DeepClone();
            var result = await Evaluation.Privacy.MembershipTest.RunAsync(target, referenceTarget, memberTexts, nonMemberTexts, cancellationToken).ConfigureAwait(false);
            await stdout.WriteLineAsync($"{(referenceTarget is null ? "loss" : "reference-calibrated")} attack on {result.Members} members and {result.NonMembers} non-members: AUC {result.Auc:0.000}, TPR at 1% FPR {result.TprAt1PercentFpr:0.000}, advantage {result.Advantage:0.000}").ConfigureAwait(false);
            // The empirical privacy audit, beside the accountant's ε the model version's signed statement records (if any).
            (double? guaranteed, double? delta) = audited is null ? (null, null) : Evaluation.Privacy.PrivacyAudit.Guaranteed(audited);
            var observed = Evaluation.Privacy.PrivacyAudit.Observed(result, delta ?? Evaluation.Privacy.PrivacyAudit.DefaultDelta);
            var audit = Evaluation.Privacy.PrivacyAudit.Statement(guaranteed, observed);
            await stdout.WriteLineAsync($"privacy audit: {audit}").ConfigureAwait(false);
            // Scores that all tie (constant log-probabilities) give an AUC of exactly 0.5 whatever the model learned.
            if (result.Roc.Count - 1 <= 1) await stderr.WriteLineAsync($"drydock eval membership: every one of the {result.Members} members and {result.NonMembers} non-members scored the same (the endpoint's log-probabilities do not vary): the AUC of 0.5 proves nothing, and the gate records this evaluation as inconclusive").ConfigureAwait(false);
            else if (result.TiedPairShare > ReleaseGate.MaxTiedPairShare)
            {
                var share = (result.TiedPairShare * 100).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);
                await stderr.WriteLineAsync($"drydock eval membership: {share} % of the {(long)result.Members * result.NonMembers} member/non-member pairs scored the same (more than {ReleaseGate.MaxTiedPairShare * 100:0} %): the AUC rests on ties, not on the model, and the gate records this evaluation as inconclusive; evaluate a target whose log-probabilities vary with the text (finer scores)").ConfigureAwait(false);
            }

            var policy = GatePolicy.From(project.File["gate"]);
            if (result.Members < policy.MinMembers || result.NonMembers < policy.MinNonMembers)
            {
                await stderr.WriteLineAsync($"drydock eval membership: {result.Members} members and {result.NonMembers} non-members are fewer than the gate counts ({policy.MinMembers} and {policy.MinNonMembers}: gate.min-members, gate.min-non-members)").ConfigureAwait(false);
            }

            var counts = new JsonObject
            {
                ["members"] = result.Members, ["nonMembers"] = result.NonMembers, ["distinctScores"] = result.Roc.Count - 1, ["tiedPairShare"] = result.TiedPairShare, ["probes"] = (result.Members + result.NonMembers) * (referenceTarget is null ? 1 : 2), ["errors"] = 0,
                ["reference"] = parse.GetValue(reference),
                ["audit"] = new JsonObject
                {
                    ["observedEpsilon"] = Math.Round(observed.Epsilon, 4), ["confidence"] = observed.Confidence, ["delta"] = delta ?? Evaluation.Privacy.PrivacyAudit.DefaultDelta,
                    ["truePositiveRate"] = Math.Round(observed.TruePositiveRate, 4), ["falsePositiveRate"] = Math.Round(observed.FalsePositiveRate, 4), ["guaranteedEpsilon"] = guaranteed,
                },
            };
            if ((referenceTarget as ModelTarget)?.DigestChange is { } referenceChange) throw new ArgumentException($"not recorded: the reference {referenceChange}");
            set.Save(project, parse, identity, target, "membership", new Dictionary<string, double> { ["membership.auc"] = result.Auc, ["membership.tpr-at-1pct-fpr"] = result.TprAt1PercentFpr, ["membership.advantage"] = result.Advantage, ["membership.observed-epsilon"] = Math.Round(observed.Epsilon, 4) }, inputs, counts, stderr);
            WriteHtml(parse, html, () => Evaluation.Reports.HtmlReport.Membership($"Drydock membership inference on {parse.GetValue(set.Model) ?? parse.GetValue(set.Target)}", result, audit));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Extraction(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("extraction", "Training-data extraction: each personal value or secret in the training records is asked for with the text that precedes it; a greedy continuation holding it is a leak. Also verbatim continuation of records. Counts only, never values.");
        var set = new TargetOptionSet();
        var records = new Option<string>("--records") { Description = "The training records as they were before cleaning (any dataset format).", Required = true };
        var limit = new Option<int>("--limit") { Description = "Records read.", DefaultValueFactory = _ => 500 };
        var maxValues = new Option<int>("--max-values") { Description = "Most value probes.", DefaultValueFactory = _ => 300 };
        set.AddTo(command);
        foreach (var option in new Option[] { records, limit, maxValues }) command.Options.Add(option);
        command.SetAction((parse, cancellationToken) => CommandErrors.Run("eval extraction", stderr, async () =>
        {
            var project = ProjectContext.Load(parse);
            var texts = Distinct(Datasets.DatasetReader.EnumerateTexts(parse.GetValue(records)!)).Take(parse.GetValue(limit)).ToList();
            var inputs = set.CheckInputs(project, parse, (registry, model) => Evaluation.Privacy.PrivacyInputs.Records(registry, model, parse.GetValue(records)!));
            using var target = set.Open(parse);
            var identity = await set.BindAsync(project, parse, target, stderr, "drydock eval extraction", cancellationToken).ConfigureAwait(false);
            var result = await Evaluation.Privacy.Extraction.RunAsync(target, project.Rules().CreateDetector(), texts, parse.GetValue(maxValues), cancellationToken).ConfigureAwait(false);
            await stdout.WriteLineAsync($"{result.Leaked} of {result.Values} personal values and secrets extracted ({result.LeakRate:P1}){(result.LeakedByType.Count > 0 ? ": " + string.Join(", ", result.LeakedByType.Select(kv => $"{kv.Key} {kv.Value}").ToArray()) : "")}; {result.Verbatim} of {result.Records} records continued verbatim ({result.VerbatimRate:P1})").ConfigureAwait(false);
            if (result.Values == 0 && parse.GetValue(set.Record) is not null)
            {
                throw new ArgumentException($"{parse.GetValue(records)}: no personal value or secret to ask for in {texts.Count} records; an extraction evaluation with nothing to find proves nothing and is not recorded (use the training records as they were before cleaning)");
            }

            var counts = new JsonObject
            {
                ["values"] = result.Values, ["records"] = result.Records, ["probes"] = result.Values + result.Records, ["errors"] = result.Errors,
            };
            set.Save(project, parse, identity, target, "extraction", new Dictionary<string, double> { ["extraction.pii-leak"] = result.LeakRate, ["extraction.verbatim"] = result.VerbatimRate }, inputs, counts, stderr);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>
    /// Binds a membership evaluation's reference model as the target is bound: reads the digest it states (or an ONNX
    /// model's files' digest). With --record, a reference stating the evaluated model version's own digest is refused
    /// (calibrated against itself the AUC is 0.5 whatever it memorised); when the model version has a registered base,
    /// the reference must state that base's digest; otherwise it is unbound, and the gate counts the evaluation only
    /// with <c>gate: unbound-endpoints: allow</c>. Returns what goes into the evidence's inputs.
    /// </summary>
    private static async Task<JsonObject> BindReference(ProjectContext project, ParseResult parse, TargetOptionSet set, IEvaluationTarget reference, string url, string? name, TextWriter stderr, CancellationToken cancellationToken)
    {
        var bound = await Bind(TargetIdentity.Of(url, ModelName(url, name, "--reference-model")), reference, cancellationToken).ConfigureAwait(false);
        var result = new JsonObject { ["referenceDigest"] = bound.Digest, ["referenceBound"] = false };
        if (parse.GetValue(set.Record) is not { } modelId) return result;
        using var registry = project.OpenRegistry();
        var model = registry.GetModel(modelId);
        if (bound.Digest is not null && string.Equals(bound.Digest, model.Digest, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"--reference-target {url} serves {model.Id} itself (it states its digest sha256:{model.Digest}): calibrated against itself every score is 0 and the AUC 0.5 proves nothing; give the base model as the reference, or no reference");
        }

        var registeredBase = model.BaseModel?.Trim();
        if (string.IsNullOrEmpty(registeredBase))
        {
            stderr.WriteLine($"drydock eval membership: {model.Id} has no registered base model, so the reference {url} cannot be bound to one; the gate counts this evaluation only with gate: unbound-endpoints: allow");
            return result;
        }

        var at = registeredBase.LastIndexOf("sha256:", StringComparison.OrdinalIgnoreCase);
        var baseDigest = at >= 0 ? registeredBase[(at + "sha256:".Length)..] : registry.FindModel(registeredBase)?.Digest;
        if (baseDigest is null) throw new ArgumentException($"{model.Id}'s registered base model ({registeredBase}) has no digest in this registry, so the reference {url} cannot be checked to be it");
        if (!string.Equals(bound.Digest, baseDigest, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"--reference-target {url} {(bound.Digest is null ? "states no model digest" : $"serves a model of digest sha256:{bound.Digest}")}, not {model.Id}'s registered base model ({registeredBase}); the reference must be the base model, stating its digest ({ModelTarget.DigestHeader}), or no reference");
        }

        result["referenceBound"] = true;
        return result;
    }
}
