using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Drydock.Gateway;

/// <summary>What a guard does with a finding: pass it, redact it, flag it (log only) or block the request.</summary>
public enum GuardMode
{
    /// <summary>Let it through, recorded.</summary>
    Allow,
    /// <summary>Replace the value with a typed placeholder.</summary>
    Redact,
    /// <summary>Refuse the request or answer.</summary>
    Block,
}

/// <summary>A tier: which models, how many tokens, streaming, how strict the guards are, and the request rate.</summary>
public sealed record Tier(string Name, IReadOnlyList<string> Models, int MaxTokens, bool Streaming, GuardMode Input, GuardMode Output, int RequestsPerMinute)
{
    /// <summary>True when the tier may use <paramref name="model"/> ("*" allows any).</summary>
    public bool Allows(string model) => Models.Contains("*") || Models.Contains(model);
}

/// <summary>The gateway's settings: the upstream, the tiers, the streaming hold-back window.</summary>
public sealed record GatewayOptions
{
    /// <summary>Built-in tiers, used when drydock.yaml names none.</summary>
    public static readonly IReadOnlyList<Tier> DefaultTiers =
    [
        new("internal", ["*"], 4096, true, GuardMode.Block, GuardMode.Redact, 600),
        new("public", ["*"], 1024, true, GuardMode.Block, GuardMode.Block, 60),
        new("default", ["*"], 2048, true, GuardMode.Block, GuardMode.Redact, 120),
    ];

    /// <summary>The upstream OpenAI-compatible base URL (ending in /v1).</summary>
    public required Uri Upstream { get; init; }

    /// <summary>Tiers by name.</summary>
    public IReadOnlyDictionary<string, Tier> Tiers { get; init; } = DefaultTiers.ToDictionary(t => t.Name);

    /// <summary>Characters of an answer held back while streaming, so a value split across chunks is caught before any of it leaves.</summary>
    public int StreamWindow { get; init; } = 256;

    /// <summary>Largest request body accepted.</summary>
    public long MaxRequestBytes { get; init; } = 1 << 20;

    /// <summary>Upstream timeout.</summary>
    public TimeSpan UpstreamTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Where request metadata is appended (JSONL), or null.</summary>
    public string? AuditPath { get; init; }

    /// <summary>Reads the <c>gateway:</c> section of drydock.yaml (tiers, stream-window); errors name file, line and field.</summary>
    public static IReadOnlyDictionary<string, Tier>? TiersFrom(string path)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(File.ReadAllText(path)));
        }
        catch (YamlException e)
        {
            throw new GatewayConfigException($"{path}:{e.Start.Line}: {e.Message}");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root
            || !root.Children.TryGetValue(new YamlScalarNode("gateway"), out var gateway) || gateway is not YamlMappingNode g
            || !g.Children.TryGetValue(new YamlScalarNode("tiers"), out var tiersNode))
        {
            return null;
        }

        if (tiersNode is not YamlMappingNode tiers) throw new GatewayConfigException($"{path}:{tiersNode.Start.Line}: field gateway.tiers must be a mapping of tier names");
        var result = new Dictionary<string, Tier>(StringComparer.Ordinal);
        foreach (var (nameNode, valueNode) in tiers.Children)
        {
            var name = ((YamlScalarNode)nameNode).Value ?? "";
            if (valueNode is not YamlMappingNode t) throw new GatewayConfigException($"{path}:{valueNode.Start.Line}: field gateway.tiers.{name} must be a mapping");
            string? Scalar(string key) => t.Children.TryGetValue(new YamlScalarNode(key), out var v) ? (v as YamlScalarNode)?.Value : null;
            int Int(string key, int fallback)
            {
                var s = Scalar(key);
                if (s is null) return fallback;
                return int.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0 ? v : throw new GatewayConfigException($"{path}:{t.Start.Line}: field gateway.tiers.{name}.{key} must be a positive integer");
            }

            if (Scalar("tokens-per-minute") is not null) throw new GatewayConfigException($"{path}:{t.Start.Line}: field gateway.tiers.{name}.tokens-per-minute is not supported yet");
            GuardMode Mode(string key, GuardMode fallback) => Scalar(key) switch
            {
                null => fallback,
                "allow" => GuardMode.Allow,
                "redact" => GuardMode.Redact,
                "block" => GuardMode.Block,
                var other => throw new GatewayConfigException($"{path}:{t.Start.Line}: field gateway.tiers.{name}.{key}: '{other}' is not allow, redact or block"),
            };

            var models = t.Children.TryGetValue(new YamlScalarNode("models"), out var m) && m is YamlSequenceNode seq ? seq.Children.Select(c => ((YamlScalarNode)c).Value ?? "").ToList() : ["*"];
            var streaming = Scalar("streaming") switch { null or "true" => true, "false" => false, var other => throw new GatewayConfigException($"{path}:{t.Start.Line}: field gateway.tiers.{name}.streaming: '{other}' is not true or false") };
            result[name] = new Tier(name, models, Int("max-tokens", 2048), streaming, Mode("input", GuardMode.Block), Mode("output", GuardMode.Redact), Int("requests-per-minute", 120));
        }

        return result;
    }
}

/// <summary>A configuration error found at start (the message names file, line and field).</summary>
public sealed class GatewayConfigException(string message) : Exception(message);
