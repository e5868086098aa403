using System.Globalization;
using Drydock.Gateway.Audit;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Drydock.Gateway;

/// <summary>What a guard does with a finding: pass it, redact it, flag it (log only) or block the request.</summary>
public enum GuardMode
{
    /// <summary>No scanning at all (registered canaries are still checked in answers).</summary>
    Off,
    /// <summary>Let it through, recorded.</summary>
    Allow,
    /// <summary>Replace the value with a typed placeholder.</summary>
    Redact,
    /// <summary>Refuse the request or answer.</summary>
    Block,
}

/// <summary>A tier: which models, how many tokens, streaming, how strict the guards are, and the rate limits.</summary>
public sealed record Tier(string Name, IReadOnlyList<string> Models, int MaxTokens, bool Streaming, GuardMode Input, GuardMode Output, int RequestsPerMinute, int TokensPerMinute)
{
    /// <summary>True when the tier may use <paramref name="model"/> ("*" allows any).</summary>
    public bool Allows(string model) => Models.Contains("*") || Models.Contains(model);
}

/// <summary>The gateway's settings: the upstream, the tiers, aliases, the streaming hold-back window, audit and monitoring.</summary>
public sealed record GatewayOptions
{
    /// <summary>The tier of administrator keys: they reach the admin API and nothing else.</summary>
    public const string AdminTier = "admin";

    /// <summary>Built-in tiers, used when drydock.yaml names none.</summary>
    public static readonly IReadOnlyList<Tier> DefaultTiers =
    [
        new("internal", ["*"], 4096, true, GuardMode.Block, GuardMode.Redact, 600, 200_000),
        new("public", ["*"], 1024, true, GuardMode.Block, GuardMode.Block, 60, 20_000),
        new("default", ["*"], 2048, true, GuardMode.Block, GuardMode.Redact, 120, 50_000),
    ];

    /// <summary>The upstream OpenAI-compatible base URL (ending in /v1).</summary>
    public required Uri Upstream { get; init; }

    /// <summary>Tiers by name.</summary>
    public IReadOnlyDictionary<string, Tier> Tiers { get; init; } = DefaultTiers.ToDictionary(t => t.Name);

    /// <summary>Model aliases clients may ask for, and the upstream model each one means.</summary>
    public IReadOnlyDictionary<string, string> Aliases { get; init; } = new Dictionary<string, string>();

    /// <summary>Characters of an answer held back while streaming, so a value split across chunks is caught before any of it leaves.</summary>
    public int StreamWindow { get; init; } = 64;

    /// <summary>Largest request body accepted.</summary>
    public long MaxRequestBytes { get; init; } = 1 << 20;

    /// <summary>Upstream timeout: until the model server's answer headers.</summary>
    public TimeSpan UpstreamTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>The longest the model server may send nothing while an answer's body or stream is open.</summary>
    public TimeSpan UpstreamIdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The request log's folder (one JSONL file per day), or null for none.</summary>
    public string? AuditFolder { get; init; }

    /// <summary>Days of request log kept.</summary>
    public int AuditRetentionDays { get; init; } = 30;

    /// <summary>What the request log keeps of prompt and answer text.</summary>
    public AuditText AuditText { get; init; } = AuditText.None;

    /// <summary>Abuse score at which a key is alerted on and throttled.</summary>
    public double AbuseThreshold { get; init; } = 0.5;

    /// <summary>How long an abusive key stays throttled.</summary>
    public TimeSpan ThrottleFor { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Applies the <c>gateway:</c> section of drydock.yaml (tiers, aliases, stream-window, audit, abuse-threshold) to
    /// these options. Errors name file, line and field.
    /// </summary>
    public GatewayOptions WithFile(string path)
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
            || !root.Children.TryGetValue(new YamlScalarNode("gateway"), out var gatewayNode))
        {
            return this;
        }

        if (gatewayNode is not YamlMappingNode gateway) throw new GatewayConfigException($"{path}:{gatewayNode.Start.Line}: field gateway must be a mapping");
        var section = new Section(path, "gateway", gateway);
        section.Known("tiers", "aliases", "stream-window", "upstream-idle-timeout", "abuse-threshold", "audit");
        var result = this;
        if (section.Node("tiers") is { } tiersNode) result = result with { Tiers = ReadTiers(path, tiersNode) };
        if (section.Node("aliases") is { } aliasesNode)
        {
            if (aliasesNode is not YamlMappingNode aliases) throw new GatewayConfigException($"{path}:{aliasesNode.Start.Line}: field gateway.aliases must map alias names to upstream model names");
            result = result with { Aliases = aliases.Children.ToDictionary(a => ((YamlScalarNode)a.Key).Value ?? "", a => (a.Value as YamlScalarNode)?.Value ?? throw new GatewayConfigException($"{path}:{a.Value.Start.Line}: field gateway.aliases.{a.Key} must be a model name"), StringComparer.Ordinal) };
        }

        result = result with
        {
            StreamWindow = section.Int("stream-window", result.StreamWindow, min: 0),
            UpstreamIdleTimeout = TimeSpan.FromSeconds(section.Int("upstream-idle-timeout", (int)result.UpstreamIdleTimeout.TotalSeconds, min: 1)),
            AbuseThreshold = section.Double("abuse-threshold", result.AbuseThreshold),
        };
        if (section.Node("audit") is { } auditNode)
        {
            if (auditNode is not YamlMappingNode audit) throw new GatewayConfigException($"{path}:{auditNode.Start.Line}: field gateway.audit must be a mapping");
            var a = new Section(path, "gateway.audit", audit);
            a.Known("retention-days", "text");
            result = result with
            {
                AuditRetentionDays = a.Int("retention-days", result.AuditRetentionDays, min: 1),
                AuditText = a.Choice("text", result.AuditText, ("none", AuditText.None), ("hash", AuditText.Hash), ("redacted", AuditText.Redacted)),
            };
        }

        return result;
    }

    private static Dictionary<string, Tier> ReadTiers(string path, YamlNode tiersNode)
    {
        if (tiersNode is not YamlMappingNode tiers) throw new GatewayConfigException($"{path}:{tiersNode.Start.Line}: field gateway.tiers must be a mapping of tier names");
        var result = new Dictionary<string, Tier>(StringComparer.Ordinal);
        foreach (var (nameNode, valueNode) in tiers.Children)
        {
            var name = ((YamlScalarNode)nameNode).Value ?? "";
            if (name == AdminTier) throw new GatewayConfigException($"{path}:{nameNode.Start.Line}: field gateway.tiers.{name}: '{AdminTier}' is reserved for administrator keys");
            if (valueNode is not YamlMappingNode t) throw new GatewayConfigException($"{path}:{valueNode.Start.Line}: field gateway.tiers.{name} must be a mapping");
            var s = new Section(path, $"gateway.tiers.{name}", t);
            s.Known("models", "max-tokens", "streaming", "input", "output", "requests-per-minute", "tokens-per-minute");
            GuardMode Mode(string key, GuardMode fallback) => s.Choice(key, fallback, ("off", GuardMode.Off), ("allow", GuardMode.Allow), ("redact", GuardMode.Redact), ("block", GuardMode.Block));
            var models = t.Children.TryGetValue(new YamlScalarNode("models"), out var m) && m is YamlSequenceNode seq ? seq.Children.Select(c => ((YamlScalarNode)c).Value ?? "").ToList() : ["*"];
            var tier = new Tier(name, models, s.Int("max-tokens", 2048, min: 1), s.Choice("streaming", true, ("true", true), ("false", false)),
                Mode("input", GuardMode.Block), Mode("output", GuardMode.Redact), s.Int("requests-per-minute", 120, min: 1), s.Int("tokens-per-minute", 50_000, min: 1));

            // A request reserves its whole answer against the minute's tokens: a larger answer could never be admitted.
            if (tier.MaxTokens > tier.TokensPerMinute) throw s.Error("max-tokens", $"{tier.MaxTokens} is above the tier's tokens-per-minute ({tier.TokensPerMinute}); no request could be admitted");
            result[name] = tier;
        }

        return result;
    }

    // One mapping of the file, for reading scalars with errors that name file, line and field.
    private sealed class Section(string path, string prefix, YamlMappingNode node)
    {
        // A setting not understood (a typo such as "tokens-per-minit") stops the start: silently ignored, it would
        // leave the default in force where the file meant something else.
        public void Known(params string[] keys)
        {
            foreach (var (keyNode, _) in node.Children)
            {
                var key = (keyNode as YamlScalarNode)?.Value ?? "";
                if (!keys.Contains(key)) throw new GatewayConfigException($"{path}:{keyNode.Start.Line}: field {prefix}.{key} is not a setting (known: {string.Join(", ", keys)})");
            }
        }

        public YamlNode? Node(string key) => node.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

        public int Int(string key, int fallback, int min)
        {
            if (Scalar(key) is not { } s) return fallback;
            return int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min ? v : throw Error(key, $"'{s}' must be an integer of at least {min}");
        }

        public double Double(string key, double fallback)
        {
            if (Scalar(key) is not { } s) return fallback;
            return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v is > 0 and <= 1 ? v : throw Error(key, $"'{s}' must be a number above 0 and at most 1");
        }

        public T Choice<T>(string key, T fallback, params (string Name, T Value)[] choices)
        {
            if (Scalar(key) is not { } s) return fallback;
            foreach (var (name, value) in choices) if (name == s) return value;
            throw Error(key, $"'{s}' is not {string.Join(", ", choices.Select(c => c.Name).ToArray())}");
        }

        private string? Scalar(string key) => Node(key) is { } v ? (v as YamlScalarNode)?.Value ?? throw Error(key, "must be a single value") : null;

        public GatewayConfigException Error(string key, string message) => new($"{path}:{(Node(key) ?? node).Start.Line}: field {prefix}.{key}: {message}");
    }
}

/// <summary>A configuration error found at start (the message names file, line and field).</summary>
public sealed class GatewayConfigException(string message) : Exception(message);
