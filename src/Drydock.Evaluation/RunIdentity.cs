using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Detection.Engine;
using Drydock.Evaluation.Probes;

namespace Drydock.Evaluation;

/// <summary>A suite as an evaluation ran it: name, version and the SHA-256 of its text.</summary>
public sealed record SuiteIdentity(string Name, int Version, string Sha256)
{
    /// <summary>The identity of a loaded suite.</summary>
    public static SuiteIdentity Of(ProbeSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        return new SuiteIdentity(suite.Name, suite.Version, suite.Sha256);
    }

    /// <summary><c>name@version</c>.</summary>
    public override string ToString() => $"{Name}@{Version}";
}

/// <summary>
/// What a probe evaluation measured: the target (endpoint URL, or <c>onnx:</c> with the model's digest), the model
/// name, the system prompt (by hash), the suites (name, version, content hash), the strategies, the judge, the
/// detection rules (by hash), the Drydock version and the model version the results are recorded for (<c>--record</c>,
/// or <c>none</c>), so one model version's answers never stand in for another's. Its <see cref="Fingerprint"/> identifies a run: results are
/// resumed only under the same fingerprint, and the gate lists it with the evidence it used.
/// </summary>
public sealed record RunIdentity(
    string TargetKind, string Target, string? TargetDigest, string Model, string? SystemPromptSha256, IReadOnlyList<SuiteIdentity> Suites,
    IReadOnlyList<string> Strategies, string Judge, string RulesSha256, string ToolVersion, string ModelVersion)
{
    /// <summary>The SHA-256 of the canonical JSON of every field.</summary>
    public string Fingerprint => Sha256(ToJson().ToJsonString());

    /// <summary>The identity as JSON (recorded with the evaluation).</summary>
    public JsonObject ToJson() => new()
    {
        ["targetKind"] = TargetKind,
        ["target"] = Target,
        ["targetDigest"] = TargetDigest,
        ["model"] = Model,
        ["systemPromptSha256"] = SystemPromptSha256,
        ["suites"] = new JsonArray([.. Suites.OrderBy(s => s.Name, StringComparer.Ordinal).Select(s => (JsonNode)new JsonObject { ["name"] = s.Name, ["version"] = s.Version, ["sha256"] = s.Sha256 })]),
        ["strategies"] = new JsonArray([.. Strategies.Order(StringComparer.Ordinal).Select(s => (JsonNode)JsonValue.Create(s)!)]),
        ["judge"] = Judge,
        ["rulesSha256"] = RulesSha256,
        ["toolVersion"] = ToolVersion,
        ["modelVersion"] = string.IsNullOrEmpty(ModelVersion) ? "none" : ModelVersion,
    };

    /// <summary>The SHA-256 (lowercase hex) of UTF-8 text.</summary>
    public static string Sha256(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>The SHA-256 of a detector's rules: each pattern rule's id, category, type and pattern, and each analyzer rule's id.</summary>
    public static string RulesDigest(Detector detector)
    {
        ArgumentNullException.ThrowIfNull(detector);
        var b = new StringBuilder();
        foreach (var r in detector.Rules.OrderBy(r => r.Id, StringComparer.Ordinal)) b.Append(r.Id).Append('\t').Append(r.Category).Append('\t').Append(r.Type).Append('\t').Append(r.Pattern).Append('\n');
        foreach (var id in detector.Analyzers.SelectMany(a => a.Rules).Select(r => r.Id).Order(StringComparer.Ordinal)) b.Append(id).Append('\n');
        return Sha256(b.ToString());
    }
}
