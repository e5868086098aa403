using Drydock.Detection.Configuration;

namespace Drydock.Gateway.Identity;

/// <summary>
/// Bearer tokens from an OpenID Connect identity provider, accepted beside API keys (<c>gateway.identity:</c> in
/// drydock.yaml): who issues them, for whom, which keys sign them (the issuer's JWKS, fetched and cached, or a local
/// JWKS file), which signature algorithms are accepted, and how a claim's values map to a tier and to roles.
/// </summary>
public sealed record IdentityOptions
{
    /// <summary>The algorithms accepted when none are named: RSA and P-256 signatures.</summary>
    public static readonly IReadOnlyList<string> DefaultAlgorithms = ["RS256", "ES256"];

    /// <summary>Every algorithm that may be named: public-key signatures only (never <c>none</c>, never HMAC).</summary>
    public static readonly IReadOnlyList<string> KnownAlgorithms = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

    /// <summary>The roles a claim value may map to (what each may do: docs/identity.md).</summary>
    public static readonly IReadOnlyList<string> KnownRoles = ["viewer", "data-owner", "security-reviewer", "ml-engineer", "release-manager", "incident-responder", "auditor", "admin"];

    /// <summary>The most clock skew that may be allowed.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>The <c>iss</c> a token must carry, exactly.</summary>
    public required string Issuer { get; init; }

    /// <summary>The <c>aud</c> a token must carry.</summary>
    public required string Audience { get; init; }

    /// <summary>The issuer's JWKS address (http(s)); or null with <see cref="JwksFile"/>.</summary>
    public Uri? JwksUrl { get; init; }

    /// <summary>A local JWKS file (offline sites); or null with <see cref="JwksUrl"/>.</summary>
    public string? JwksFile { get; init; }

    /// <summary>The signature algorithms accepted.</summary>
    public IReadOnlyList<string> Algorithms { get; init; } = DefaultAlgorithms;

    /// <summary>How far the gateway's clock and the issuer's may differ (at most <see cref="MaxClockSkew"/>).</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The longest lifetime a token accepted may have (from its <c>iat</c>, or from now when that is later or missing, to its <c>exp</c>).</summary>
    public TimeSpan MaxTokenLifetime { get; init; } = TimeSpan.FromHours(24);

    /// <summary>The longest token lifetime that may be configured.</summary>
    public static readonly TimeSpan MaxConfigurableLifetime = TimeSpan.FromDays(7);

    /// <summary>How often the signing keys are read again (a key the issuer removed stops working within it).</summary>
    public TimeSpan Refresh { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The least time between two reads of the keys (an unknown <c>kid</c> asks for one; a JWKS that is down is not hammered).</summary>
    public TimeSpan MinRefetch { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The claim whose values map to a tier and to roles (a string or an array of strings).</summary>
    public string Claim { get; init; } = "groups";

    /// <summary>Claim value → tier, in the order written: the first value the token holds decides its tier.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Tiers { get; init; } = [];

    /// <summary>Claim value → role; a token holds every role its values map to.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Roles { get; init; } = [];

    /// <summary>The largest token accepted, in characters.</summary>
    public int MaxTokenLength { get; init; } = 8 * 1024;

    /// <summary>The shape of <c>gateway.identity:</c> (checked by the strict config reader).</summary>
    public static MapShape Shape { get; } = ConfigShape.Map(
        ("issuer", ConfigShape.Text),
        ("audience", ConfigShape.Text),
        ("jwks-url", ConfigShape.Text),
        ("jwks-file", ConfigShape.Text),
        ("algorithms", ConfigShape.ListOf(ConfigShape.OneOf([.. KnownAlgorithms]))),
        ("clock-skew", ConfigShape.Integer(0, (long)MaxClockSkew.TotalSeconds)),
        ("refresh", ConfigShape.Integer(10, 86_400)),
        ("max-token-lifetime", ConfigShape.Integer(60, (long)MaxConfigurableLifetime.TotalSeconds)),
        ("claim", ConfigShape.Text),
        ("tiers", ConfigShape.MapOf(ConfigShape.Text)),
        ("roles", ConfigShape.MapOf(ConfigShape.OneOf([.. KnownRoles])))).Requires("issuer", "audience");

    /// <summary>
    /// Reads a checked <c>gateway.identity:</c> section; <paramref name="tiers"/> are the tier names configured. A
    /// relative <c>jwks-file</c> is read from the folder of the file that names it. Errors name file, line and field.
    /// </summary>
    public static IdentityOptions Read(ConfigNode identity, IReadOnlyCollection<string> tiers)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(tiers);
        var url = identity.Text("jwks-url");
        var file = identity.Text("jwks-file");
        if ((url is null) == (file is null)) throw identity.Error("name the signing keys with exactly one of jwks-url or jwks-file");
        Uri? jwks = null;
        if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out jwks) || jwks.Scheme is not ("https" or "http"))) throw identity.Error("jwks-url", $"'{url}' is not an http(s) URL");
        if (jwks is not null && jwks.Scheme != Uri.UriSchemeHttps && !jwks.IsLoopback) throw identity.Error("jwks-url", $"'{url}' must be https (plain http is accepted only on loopback)");
        if (file is not null && !Path.IsPathRooted(file)) file = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(identity.File)) ?? ".", file);
        var algorithms = identity.Texts("algorithms") ?? DefaultAlgorithms;
        if (algorithms.Count == 0) throw identity.Error("algorithms", "names no algorithm; leave it out for RS256 and ES256");
        var tierMap = identity["tiers"]?.Entries.Select(e => new KeyValuePair<string, string>(e.Key, e.Value.Value ?? "")).ToList() ?? [];
        foreach (var (value, node) in identity["tiers"]?.Entries ?? [])
        {
            if (node.Value == GatewayOptions.AdminTier) throw node.Error($"'{GatewayOptions.AdminTier}' is not a model tier; map the value to the admin role under roles");
            if (!tiers.Contains(node.Value ?? "")) throw node.Error($"tier '{node.Value}' is not configured (tiers: {string.Join(", ", tiers)})");
        }

        var roles = identity["roles"]?.Entries.Select(e => new KeyValuePair<string, string>(e.Key, e.Value.Value ?? "")).ToList() ?? [];
        if (tierMap.Count == 0 && roles.Count == 0) throw identity.Error("maps no claim value to a tier or a role: no token could be accepted");
        var issuer = identity.Text("issuer") ?? "";
        var audience = identity.Text("audience") ?? "";
        if (issuer.Length == 0) throw identity.Error("issuer", "is empty");
        if (audience.Length == 0) throw identity.Error("audience", "is empty");
        return new IdentityOptions
        {
            Issuer = issuer,
            Audience = audience,
            JwksUrl = jwks,
            JwksFile = file,
            Algorithms = algorithms,
            ClockSkew = identity.Integer("clock-skew") is { } skew ? TimeSpan.FromSeconds(skew) : TimeSpan.FromSeconds(60),
            Refresh = identity.Integer("refresh") is { } refresh ? TimeSpan.FromSeconds(refresh) : TimeSpan.FromMinutes(10),
            MaxTokenLifetime = identity.Integer("max-token-lifetime") is { } lifetime ? TimeSpan.FromSeconds(lifetime) : TimeSpan.FromHours(24),
            Claim = identity.Text("claim") is { Length: > 0 } claim ? claim : "groups",
            Tiers = tierMap,
            Roles = roles,
        };
    }
}
