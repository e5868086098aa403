using System.Text.Json.Nodes;
using Drydock.Evaluation.Probes;
using Drydock.Evaluation.Strategies;
using Drydock.Provenance.Registry;

namespace Drydock.Evaluation.Gate;

/// <summary>
/// The target an evaluation asked: <c>endpoint</c> (an OpenAI-compatible URL and a model name, which cannot be tied
/// to a model version's files) or <c>onnx</c> (a model run in process, named by the digest of its files, which the
/// gate compares with the model version's).
/// </summary>
public sealed record TargetIdentity(string Kind, string Target, string? Digest, string Model)
{
    /// <summary>An endpoint URL, or <c>onnx:PATH</c> (digest of the folder or file, as the registry computes it).</summary>
    public static TargetIdentity Of(string target, string model)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!target.StartsWith("onnx:", StringComparison.Ordinal)) return new TargetIdentity("endpoint", target, null, model);
        var path = target["onnx:".Length..];
        return new TargetIdentity("onnx", target, ModelDigest.Of(path).Digest, model);
    }

    /// <summary>As JSON.</summary>
    public JsonObject ToJson() => new() { ["kind"] = Kind, ["target"] = Target, ["digest"] = Digest, ["model"] = Model };

    /// <summary>
    /// True when <paramref name="other"/> is the same model as this one: two onnx targets with the same digest or the
    /// same full path, or two endpoints with the same URL (scheme, host and port folded, a trailing slash ignored) and
    /// the same model name (case folded). A reference model that is the target itself calibrates nothing.
    /// </summary>
    public bool IsSameModelAs(TargetIdentity other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (Kind != other.Kind) return false;
        if (Kind == "onnx")
        {
            return (Digest is not null && string.Equals(Digest, other.Digest, StringComparison.OrdinalIgnoreCase))
                || string.Equals(FullPath(Target), FullPath(other.Target), OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
        }

        return string.Equals(Endpoint(Target), Endpoint(other.Target), StringComparison.Ordinal) && string.Equals(Model, other.Model, StringComparison.OrdinalIgnoreCase);
    }

    private static string FullPath(string target) =>
        Path.TrimEndingDirectorySeparator(Path.GetFullPath(target.StartsWith("onnx:", StringComparison.Ordinal) ? target["onnx:".Length..] : target));

    /// <summary>
    /// An endpoint URL in the form compared: scheme and host lower case, the port always given (a default port
    /// written out or left out alike), a trailing slash ignored; <c>localhost</c> and <c>127.0.0.1</c> stay apart.
    /// </summary>
    internal static string CanonicalEndpoint(string target) => Endpoint(target);

    private static string Endpoint(string target)
    {
        var text = target.Trim();
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)) return text.TrimEnd('/');
        return $"{uri.Scheme.ToLowerInvariant()}://{uri.IdnHost.ToLowerInvariant()}:{uri.Port}{uri.AbsolutePath.TrimEnd('/')}{uri.Query}";
    }
}

/// <summary>
/// The evidence an evaluation records with its figures (<see cref="EvaluationEvidence"/>): for a probe run its
/// identity, counts (planned, sent, answered, errored, skipped, resumed), each suite's families and the results
/// file's digest; for a privacy evaluation its target, the checks its inputs passed and its sizes.
/// </summary>
public static class EvidenceBuilder
{
    /// <summary>The evidence of a probe run.</summary>
    public static EvaluationEvidence Probes(RunIdentity identity, TargetIdentity target, EvaluationRun run, IReadOnlyList<ProbeSuite> suites, IReadOnlyList<string> strategies, int sent, string resultsSha256, string systemPrompt, string? resultsFile = null)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(suites);
        ArgumentNullException.ThrowIfNull(strategies);
        // Each row counts the results of its own suite's probes only (name and probe id), so another suite's answers
        // can never swell a row; two suites of one name in one run are refused.
        if (suites.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice) throw new ArgumentException($"two suites are named '{twice.Key}' in one run");
        var families = new JsonArray();
        foreach (var suite in suites)
        {
            var ids = suite.Probes.Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var family in suite.Probes.Select(p => p.Family).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                var planned = suite.Probes.Where(p => p.Family == family).Sum(p => strategies.Count(s => AttackStrategy.Apply(s, p.Turns, p.Translations) is not null));
                var results = run.Results.Where(r => r.Suite == suite.Name && r.Family == family && ids.Contains(r.Probe) && strategies.Contains(r.Strategy)).ToList();
                families.Add((JsonNode)new JsonObject
                {
                    ["suite"] = suite.Name, ["version"] = suite.Version, ["sha256"] = suite.Sha256, ["family"] = family, ["planned"] = planned,
                    ["answered"] = results.Count(r => r.Error is null), ["errors"] = results.Count(r => r.Error is not null), ["successes"] = results.Count(r => r.Success),
                });
            }
        }

        var json = new JsonObject
        {
            ["kind"] = "probes",
            ["target"] = target.ToJson(),
            ["identity"] = identity.ToJson(),
            ["counts"] = new JsonObject { ["planned"] = run.Planned, ["sent"] = sent, ["answered"] = run.Answered, ["errored"] = run.Errored, ["skipped"] = run.Skipped, ["resumed"] = run.Resumed },
            ["stopped"] = run.Stopped,
            ["families"] = families,
            ["resultsSha256"] = resultsSha256,
            ["resultsFile"] = resultsFile,
            ["systemPrompt"] = systemPrompt,
        };
        return new EvaluationEvidence(run.Fingerprint, run.Complete ? "complete" : "partial", json.ToJsonString());
    }

    /// <summary>
    /// The evidence of a privacy evaluation (<c>memorization</c>, <c>membership</c>, <c>extraction</c>): its target,
    /// the checks its inputs passed, its counts and parameters. The fingerprint is the SHA-256 of all of it.
    /// </summary>
    public static EvaluationEvidence Privacy(string kind, TargetIdentity target, JsonObject inputs, JsonObject counts, string toolVersion)
    {
        ArgumentNullException.ThrowIfNull(target);
        var json = new JsonObject { ["kind"] = kind, ["target"] = target.ToJson(), ["inputs"] = inputs, ["counts"] = counts, ["toolVersion"] = toolVersion };
        return new EvaluationEvidence(RunIdentity.Sha256(json.ToJsonString()), "complete", json.ToJsonString());
    }
}
