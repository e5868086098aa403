using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Drydock.Training;

/// <summary>What the policy allows a plan (<c>training.policy</c>): methods, and ceilings on learning rate and epochs.</summary>
public sealed record TrainingPolicy(IReadOnlyList<string> Methods, double MaxLearningRate, int MaxEpochs, bool RequireEarlyStopping)
{
    /// <summary>Parameter-efficient methods only, learning rate ≤ 3e-4, at most 5 epochs, early stopping required.</summary>
    public static TrainingPolicy Default { get; } = new(["lora", "adapter", "prompt-tuning"], 3e-4, 5, true);
}

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
    /// <summary>The methods a plan may name.</summary>
    public static IReadOnlyList<string> Methods { get; } = ["lora", "adapter", "prompt-tuning", "full"];

    /// <summary>Reads the <c>training:</c> section of <paramref name="path"/>; errors name file, line and field.</summary>
    public static TrainingPlan Load(string path)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(File.ReadAllText(path)));
        }
        catch (YamlException e)
        {
            throw new TrainingPlanException($"{path}:{e.Start.Line}: {e.Message}");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root || !root.Children.TryGetValue(new YamlScalarNode("training"), out var node))
        {
            throw new TrainingPlanException($"{path}: no training: section (see docs/training.md)");
        }

        var t = new Section(path, "training", node);
        var baseModel = t.Child("base-model", required: true)!;
        var lora = t.Child("lora", required: false);
        var early = t.Child("early-stopping", required: false);
        var policyNode = t.Child("policy", required: false);
        var method = t.Choice("method", "lora", Methods);
        var policy = policyNode is null ? TrainingPolicy.Default : new TrainingPolicy(
            policyNode.List("methods") is { Count: > 0 } allowed ? allowed : TrainingPolicy.Default.Methods,
            policyNode.Number("max-learning-rate", TrainingPolicy.Default.MaxLearningRate),
            policyNode.Int("max-epochs", TrainingPolicy.Default.MaxEpochs, 1),
            policyNode.Choice("require-early-stopping", "true", ["true", "false"]) == "true");
        foreach (var m in policy.Methods) if (!Methods.Contains(m)) throw new TrainingPlanException($"{path}:{policyNode!.Line}: field training.policy.methods: '{m}' is not {string.Join(", ", Methods.ToArray())}");
        return new TrainingPlan(
            baseModel.Text("path", required: true)!,
            baseModel.Text("sha256", required: true)!.ToLowerInvariant() is var sha && sha.Length == 64 && sha.All(Uri.IsHexDigit) ? sha : throw baseModel.Error("sha256", "must be 64 hexadecimal digits"),
            t.Text("dataset", required: true)!,
            t.Text("held-out", required: false) ?? "",
            method,
            lora?.Int("rank", 8, 1) ?? 8,
            lora?.Int("alpha", 16, 1) ?? 16,
            lora?.Number("dropout", 0.05) ?? 0.05,
            lora?.List("target-modules") ?? [],
            [.. t.List("frozen-layers").Select(l => int.TryParse(l, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : throw t.Error("frozen-layers", $"'{l}' is not a layer number"))],
            t.Number("learning-rate", 2e-4),
            t.Int("epochs", 3, 1),
            t.Int("batch-size", 8, 1),
            t.Number("weight-decay", 0.01),
            early?.Text("metric", required: false) ?? (early is null ? null : "held-out-loss"),
            early?.Int("patience", 2, 0) ?? 0,
            t.Int("seed", 42, 0),
            policy);
    }

    /// <summary>The plan as canonical JSON (what is signed and recorded).</summary>
    public JsonObject ToJson() => new()
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

    // One mapping of the file: scalars with errors naming file, line and field.
    private sealed class Section(string path, string prefix, YamlNode node)
    {
        private readonly YamlMappingNode _map = node as YamlMappingNode ?? throw new TrainingPlanException($"{path}:{node.Start.Line}: field {prefix} must be a mapping");

        public long Line => _map.Start.Line;

        public Section? Child(string key, bool required)
        {
            if (_map.Children.TryGetValue(new YamlScalarNode(key), out var child)) return new Section(path, $"{prefix}.{key}", child);
            return required ? throw Error(key, "is required") : null;
        }

        public string? Text(string key, bool required)
        {
            if (!_map.Children.TryGetValue(new YamlScalarNode(key), out var v)) return required ? throw Error(key, "is required") : null;
            return (v as YamlScalarNode)?.Value is { Length: > 0 } s ? s : throw Error(key, "must be a single value");
        }

        public int Int(string key, int fallback, int min) => Text(key, false) is not { } s ? fallback
            : int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min ? v : throw Error(key, $"'{s}' must be an integer of at least {min}");

        public double Number(string key, double fallback) => Text(key, false) is not { } s ? fallback
            : double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= 0 && double.IsFinite(v) ? v : throw Error(key, $"'{s}' must be a number of at least 0");

        public string Choice(string key, string fallback, IReadOnlyList<string> choices) => Text(key, false) is not { } s ? fallback
            : choices.Contains(s) ? s : throw Error(key, $"'{s}' is not {string.Join(", ", choices.ToArray())}");

        public List<string> List(string key) => !_map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? []
            : v is YamlSequenceNode seq ? [.. seq.Children.Select(c => (c as YamlScalarNode)?.Value ?? throw Error(key, "items must be single values"))]
            : throw Error(key, "must be a list");

        public TrainingPlanException Error(string key, string message) =>
            new($"{path}:{(_map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v.Start.Line : _map.Start.Line)}: field {prefix}.{key} {message}");
    }
}

/// <summary>A plan that cannot be read (the message names file, line and field): exit code 2.</summary>
public sealed class TrainingPlanException(string message) : Exception(message);
