using Drydock.Detection.Configuration;
using Drydock.Gateway.Audit;

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

/// <summary>What the regurgitation tripwire does with an answer that repeats a training record (<c>regurgitation:</c> of a tier).</summary>
public enum RegurgitationMode
{
    /// <summary>No check (no index is needed).</summary>
    Off,
    /// <summary>Let the answer through; the hit is logged, counted and opens an incident.</summary>
    Flag,
    /// <summary>Replace the repeated words with <c>[TRAINING-DATA]</c>; logged, counted, incident.</summary>
    Redact,
    /// <summary>Replace the whole choice with the blocked notice; logged, counted, incident.</summary>
    Block,
}

/// <summary>
/// A tier: which models, how many tokens, streaming, how strict the guards are, the rate limits, and whether the input
/// guard also has every prompt judged by the semantic injection stage (the sentence encoder).
/// </summary>
public sealed record Tier(string Name, IReadOnlyList<string> Models, int MaxTokens, bool Streaming, GuardMode Input, GuardMode Output, int RequestsPerMinute, int TokensPerMinute, bool SemanticInjection = false, RegurgitationMode Regurgitation = RegurgitationMode.Off)
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

    /// <summary>
    /// The monitor's own state folder (the project's <c>.drydock/monitor/</c>), where the alert relay keeps how far it
    /// has read the alerts log; null: kept in memory only. Never the request log's folder.
    /// </summary>
    public string? MonitorStateFolder { get; init; }

    /// <summary>Days of request log kept.</summary>
    public int AuditRetentionDays { get; init; } = 30;

    /// <summary>What the request log keeps of prompt and answer text.</summary>
    public AuditText AuditText { get; init; } = AuditText.None;

    /// <summary>Abuse score at which a key is alerted on and throttled.</summary>
    public double AbuseThreshold { get; init; } = 0.5;

    /// <summary>How signals are kept (the <c>monitor:</c> section of drydock.yaml).</summary>
    public Monitoring.MonitorSettings Monitor { get; init; } = new();

    /// <summary>How long an abusive key stays throttled.</summary>
    public TimeSpan ThrottleFor { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Identity-provider bearer tokens accepted beside API keys (<c>gateway.identity:</c>), or null for API keys only.</summary>
    public Identity.IdentityOptions? Identity { get; init; }

    /// <summary>
    /// Which training records <c>drydock deploy</c> puts in the regurgitation tripwire's index (<c>gateway.tripwire-records</c>):
    /// <c>all</c> (the default) or <c>sensitive</c>, those the dataset's ledger names (a value redacted, pseudonymised or faked in them).
    /// </summary>
    public string TripwireRecords { get; init; } = "all";

    /// <summary>
    /// How often the registry's whole audit log is walked in the background (<c>gateway.chain-walk-every</c>, seconds;
    /// default 10 minutes): the longest an entry edited before the admin API's verified head goes unnoticed (docs/identity.md).
    /// </summary>
    public TimeSpan ChainWalkEvery { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>True when a tier checks answers against the regurgitation tripwire (deploy then builds its index).</summary>
    public bool TripwireRequired => Tiers.Values.Any(t => t.Regurgitation != RegurgitationMode.Off);

    /// <summary>The shape of the <c>gateway:</c> section of drydock.yaml (checked by <see cref="ConfigReader"/>).</summary>
    public static MapShape Shape { get; } = ConfigShape.Map(
        ("tiers", ConfigShape.MapOf(ConfigShape.Map(
            ("models", ConfigShape.ListOf(ConfigShape.Text)),
            ("max-tokens", ConfigShape.Integer(1)),
            ("streaming", ConfigShape.Boolean),
            ("input", ConfigShape.OneOf("off", "allow", "block")),
            ("output", ConfigShape.OneOf("off", "allow", "redact", "block")),
            ("requests-per-minute", ConfigShape.Integer(1)),
            ("tokens-per-minute", ConfigShape.Integer(1)),
            ("semantic-injection", ConfigShape.Boolean),
            ("regurgitation", ConfigShape.OneOf("off", "flag", "redact", "block"))))),
        ("tripwire-records", ConfigShape.OneOf("all", "sensitive")),
        ("aliases", ConfigShape.MapOf(ConfigShape.Text)),
        ("stream-window", ConfigShape.Integer(0)),
        ("upstream-idle-timeout", ConfigShape.Integer(1)),
        ("abuse-threshold", ConfigShape.Number(0, 1)),
        ("chain-walk-every", ConfigShape.Integer(1, 86_400)),
        ("audit", ConfigShape.Map(
            ("retention-days", ConfigShape.Integer(1)),
            ("text", ConfigShape.OneOf("none", "hash", "redacted")))),
        ("identity", Drydock.Gateway.Identity.IdentityOptions.Shape));

    /// <summary>The tier names a key may have under a checked <c>gateway:</c> section (null: the built-in tiers).</summary>
    public static IReadOnlyCollection<string> TierNames(ConfigNode? gateway) =>
        gateway?["tiers"] is { } tiers ? ReadTiers(tiers).Keys : [.. DefaultTiers.Select(t => t.Name)];

    /// <summary>
    /// Applies a checked <c>gateway:</c> section (tiers, aliases, stream-window, audit, abuse-threshold) to these
    /// options; null leaves them as they are. Errors name file, line and field.
    /// </summary>
    public GatewayOptions With(ConfigNode? gateway)
    {
        if (gateway is null) return this;
        var result = this;
        if (gateway["tiers"] is { } tiers) result = result with { Tiers = ReadTiers(tiers) };
        if (gateway["identity"] is { } identity) result = result with { Identity = Drydock.Gateway.Identity.IdentityOptions.Read(identity, [.. result.Tiers.Keys]) };
        if (gateway["aliases"] is { } aliases) result = result with { Aliases = aliases.Entries.ToDictionary(a => a.Key, a => a.Value.Value ?? "", StringComparer.Ordinal) };
        if (gateway.Number("abuse-threshold") is <= 0) throw gateway.Error("abuse-threshold", "must be a number above 0 and at most 1");
        result = result with
        {
            StreamWindow = gateway.Integer("stream-window") ?? result.StreamWindow,
            UpstreamIdleTimeout = gateway.Integer("upstream-idle-timeout") is { } idle ? TimeSpan.FromSeconds(idle) : result.UpstreamIdleTimeout,
            AbuseThreshold = gateway.Number("abuse-threshold") ?? result.AbuseThreshold,
            TripwireRecords = gateway.Text("tripwire-records") ?? result.TripwireRecords,
            ChainWalkEvery = gateway.Integer("chain-walk-every") is { } walk ? TimeSpan.FromSeconds(walk) : result.ChainWalkEvery,
        };
        if (gateway["audit"] is { } audit)
        {
            result = result with
            {
                AuditRetentionDays = audit.Integer("retention-days") ?? result.AuditRetentionDays,
                AuditText = audit.Text("text") switch { "hash" => AuditText.Hash, "redacted" => AuditText.Redacted, "none" => AuditText.None, _ => result.AuditText },
            };
        }

        return result;
    }

    private static Dictionary<string, Tier> ReadTiers(ConfigNode tiers)
    {
        var result = new Dictionary<string, Tier>(StringComparer.Ordinal);
        foreach (var (name, t) in tiers.Entries)
        {
            if (name == AdminTier) throw t.Error($"'{AdminTier}' is reserved for administrator keys");
            GuardMode Mode(string key, GuardMode fallback) => t.Text(key) switch
            {
                "off" => GuardMode.Off,
                "allow" => GuardMode.Allow,
                "redact" => GuardMode.Redact,
                "block" => GuardMode.Block,
                _ => fallback,
            };
            var tier = new Tier(name, t.Texts("models") ?? ["*"], t.Integer("max-tokens") ?? 2048, t.Boolean("streaming") ?? true,
                Mode("input", GuardMode.Block), Mode("output", GuardMode.Redact), t.Integer("requests-per-minute") ?? 120, t.Integer("tokens-per-minute") ?? 50_000,
                t.Boolean("semantic-injection") ?? false,
                t.Text("regurgitation") switch { "flag" => RegurgitationMode.Flag, "redact" => RegurgitationMode.Redact, "block" => RegurgitationMode.Block, _ => RegurgitationMode.Off });

            // A request reserves its whole answer against the minute's tokens: a larger answer could never be admitted.
            if (tier.MaxTokens > tier.TokensPerMinute) throw t.Error("max-tokens", $"{tier.MaxTokens} is above the tier's tokens-per-minute ({tier.TokensPerMinute}); no request could be admitted");
            result[name] = tier;
        }

        return result;
    }
}

/// <summary>A configuration error found at start (the message names file, line and field).</summary>
public sealed class GatewayConfigException(string message) : Exception(message);
