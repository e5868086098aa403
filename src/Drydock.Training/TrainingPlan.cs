using System.Globalization;
using System.Text.Json.Nodes;
using Drydock.Detection.Configuration;

namespace Drydock.Training;

/// <summary>What the policy allows a plan (<c>training.policy</c>): methods, and ceilings on learning rate and epochs.</summary>
public sealed record TrainingPolicy(IReadOnlyList<string> Methods, double MaxLearningRate, int MaxEpochs, bool RequireEarlyStopping)
{
    /// <summary>Parameter-efficient methods only, learning rate ≤ 3e-4, at most 5 epochs, early stopping required.</summary>
    public static TrainingPolicy Default { get; } = new(["lora", "adapter", "prompt-tuning"], 3e-4, 5, true);

    /// <summary>The largest ε a plan may spend, per classification of its data (<c>policy.max-epsilon</c>); a classification named here requires DP-SGD.</summary>
    public IReadOnlyDictionary<string, double> MaxEpsilon { get; init; } = new Dictionary<string, double>(StringComparer.Ordinal);

    /// <summary>The classifications <c>max-epsilon</c> may name.</summary>
    public static IReadOnlyList<string> Classifications { get; } = ["public", "internal", "confidential", "regulated", "highly-sensitive"];
}

/// <summary>
/// Differentially private training (<c>training.privacy</c>): a target ε or a noise multiplier (one of them), δ (default
/// 1/(10·records)) and the per-example clipping norm C.
/// </summary>
public sealed record PrivacyPlan(double? Epsilon, double? NoiseMultiplier, double? Delta, double MaxGradNorm);

/// <summary>
/// A training plan (<c>training:</c> in drydock.yaml): the base model (path and pinned SHA-256), the dataset version
/// and held-out set, the method and its settings, the hyperparameters, early stopping and the seed.
/// </summary>
public sealed record TrainingPlan(
    string BaseModelPath,
    string BaseModelSha256,
    string Dataset,
    string HeldOut,
    string Method,
    int LoraRank,
    int LoraAlpha,
    double LoraDropout,
    IReadOnlyList<string> TargetModules,
    IReadOnlyList<int> FrozenLayers,
    double LearningRate,
    int Epochs,
    int BatchSize,
    double WeightDecay,
    string? EarlyStoppingMetric,
    int EarlyStoppingPatience,
    int Seed,
    TrainingPolicy Policy)
{
    /// <summary>DP-SGD settings, or null for ordinary training.</summary>
    public PrivacyPlan? Privacy { get; init; }

    /// <summary>The methods a plan may name.</summary>
    public static IReadOnlyList<string> Methods { get; } = ["lora", "adapter", "prompt-tuning", "full"];

    /// <summary>The shape of the <c>training:</c> section of drydock.yaml (checked by <see cref="ConfigReader"/>).</summary>
    public static MapShape Shape { get; } = ConfigShape.Map(
        ("base-model", ConfigShape.Map(("path", ConfigShape.Text), ("sha256", ConfigShape.Text)).Requires("path", "sha256")),
        ("dataset", ConfigShape.Text),
        ("held-out", ConfigShape.Text),
        ("method", ConfigShape.OneOf([.. Methods])),
        ("lora", ConfigShape.Map(
            ("rank", ConfigShape.Integer(1)),
            ("alpha", ConfigShape.Integer(1)),
            ("dropout", ConfigShape.Number(0)),
            ("target-modules", ConfigShape.ListOf(ConfigShape.Text)))),
        ("frozen-layers", ConfigShape.ListOf(ConfigShape.Integer(0))),
        ("learning-rate", ConfigShape.Number(0)),
        ("epochs", ConfigShape.Integer(1)),
        ("batch-size", ConfigShape.Integer(1)),
        ("weight-decay", ConfigShape.Number(0)),
        ("early-stopping", ConfigShape.Map(("metric", ConfigShape.Text), ("patience", ConfigShape.Integer(0)))),
        ("seed", ConfigShape.Integer(0)),
        ("privacy", ConfigShape.Map(
            ("epsilon", ConfigShape.Number(0)),
            ("noise-multiplier", ConfigShape.Number(0)),
            ("delta", ConfigShape.Number(0, 1)),
            ("max-grad-norm", ConfigShape.Number(0)))),
        ("policy", ConfigShape.Map(
            ("max-epsilon", ConfigShape.Map([.. TrainingPolicy.Classifications.Select(c => (c, (ConfigShape)ConfigShape.Number(0)))])),
            ("methods", ConfigShape.ListOf(ConfigShape.OneOf([.. Methods]))),
            ("max-learning-rate", ConfigShape.Number(0)),
            ("max-epochs", ConfigShape.Integer(1)),
            ("require-early-stopping", ConfigShape.Boolean)))).Requires("base-model", "dataset");

    /// <summary>The plan of a checked <c>training:</c> section; <paramref name="file"/> names the file when the section is missing.</summary>
    public static TrainingPlan From(ConfigNode? training, string file)
    {
        if (training is null) throw new TrainingPlanException($"{file}: no training: section (see docs/training.md)");
        var baseModel = training["base-model"]!;
        string NonEmpty(ConfigNode node, string key) => node.Text(key) is { Length: > 0 } s ? s : throw node.Error(key, "must not be empty");
        var sha = NonEmpty(baseModel, "sha256").ToLowerInvariant();
        if (sha.Length != 64 || !sha.All(Uri.IsHexDigit)) throw baseModel.Error("sha256", "must be 64 hexadecimal digits");
        var lora = training["lora"];
        var early = training["early-stopping"];
        var policyNode = training["policy"];
        var policy = policyNode is null ? TrainingPolicy.Default : new TrainingPolicy(
            policyNode.Texts("methods") is { Count: > 0 } allowed ? allowed : TrainingPolicy.Default.Methods,
            policyNode.Number("max-learning-rate") ?? TrainingPolicy.Default.MaxLearningRate,
            policyNode.Integer("max-epochs") ?? TrainingPolicy.Default.MaxEpochs,
            policyNode.Boolean("require-early-stopping") ?? TrainingPolicy.Default.RequireEarlyStopping)
        {
            MaxEpsilon = policyNode["max-epsilon"] is { } caps
                ? TrainingPolicy.Classifications.Where(caps.Has).ToDictionary(c => c, c => Positive(caps, c), StringComparer.Ordinal)
                : new Dictionary<string, double>(StringComparer.Ordinal),
        };
        return new TrainingPlan(
            NonEmpty(baseModel, "path"),
            sha,
            NonEmpty(training, "dataset"),
            training.Text("held-out") ?? "",
            training.Text("method") ?? "lora",
            lora?.Integer("rank") ?? 8,
            lora?.Integer("alpha") ?? 16,
            lora?.Number("dropout") ?? 0.05,
            lora?.Texts("target-modules") ?? [],
            [.. (training.Texts("frozen-layers") ?? []).Select(l => int.Parse(l, NumberStyles.Integer, CultureInfo.InvariantCulture))],
            training.Number("learning-rate") ?? 2e-4,
            training.Integer("epochs") ?? 3,
            training.Integer("batch-size") ?? 8,
            training.Number("weight-decay") ?? 0.01,
            early?.Text("metric") ?? (early is null ? null : "held-out-loss"),
            early is null ? 0 : early.Integer("patience") ?? 2,
            training.Integer("seed") ?? 42,
            policy)
        {
            Privacy = training["privacy"] is { } privacy ? PrivacyFrom(privacy) : null,
        };
    }

    private static double Positive(ConfigNode node, string key) =>
        node.Number(key) is > 0 and var v && !double.IsInfinity(v) ? v : throw node.Error(key, "must be a positive number");

    private static PrivacyPlan PrivacyFrom(ConfigNode privacy)
    {
        var hasEpsilon = privacy.Has("epsilon");
        if (hasEpsilon == privacy.Has("noise-multiplier")) throw privacy.Error("give exactly one of epsilon (the target; the noise multiplier is found for it) and noise-multiplier");
        double? delta = privacy.Has("delta") ? Positive(privacy, "delta") : null;
        if (delta >= 1) throw privacy.Error("delta", "must be below 1 (and below 1/records)");
        return new PrivacyPlan(
            hasEpsilon ? Positive(privacy, "epsilon") : null,
            hasEpsilon ? null : Positive(privacy, "noise-multiplier"),
            delta,
            privacy.Has("max-grad-norm") ? Positive(privacy, "max-grad-norm") : 1.0);
    }

    /// <summary>The plan as canonical JSON (what is signed and recorded).</summary>
    public JsonObject ToJson()
    {
        var json = Json();
        if (Privacy is { } p)
        {
            json["privacy"] = new JsonObject { ["epsilon"] = p.Epsilon, ["noiseMultiplier"] = p.NoiseMultiplier, ["delta"] = p.Delta, ["maxGradNorm"] = p.MaxGradNorm };
        }

        return json;
    }

    private JsonObject Json() => new()
    {
        ["baseModel"] = new JsonObject { ["path"] = BaseModelPath, ["sha256"] = BaseModelSha256 },
        ["dataset"] = Dataset,
        ["heldOut"] = HeldOut,
        ["method"] = Method,
        ["lora"] = new JsonObject { ["rank"] = LoraRank, ["alpha"] = LoraAlpha, ["dropout"] = LoraDropout, ["targetModules"] = new JsonArray([.. TargetModules.Select(m => (JsonNode)JsonValue.Create(m)!)]) },
        ["frozenLayers"] = new JsonArray([.. FrozenLayers.Select(l => (JsonNode)JsonValue.Create(l)!)]),
        ["learningRate"] = LearningRate,
        ["epochs"] = Epochs,
        ["batchSize"] = BatchSize,
        ["weightDecay"] = WeightDecay,
        ["earlyStopping"] = EarlyStoppingMetric is null ? null : new JsonObject { ["metric"] = EarlyStoppingMetric, ["patience"] = EarlyStoppingPatience },
        ["seed"] = Seed,
    };
}

/// <summary>A plan that cannot be read (the message names file, line and field): exit code 2.</summary>
public sealed class TrainingPlanException(string message) : Exception(message);
