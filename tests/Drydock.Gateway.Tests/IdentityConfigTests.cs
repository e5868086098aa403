using Drydock.Detection.Configuration;
using Drydock.Tests.Shared;

namespace Drydock.Gateway.Tests;

/// <summary><c>gateway.identity:</c> in drydock.yaml: read whole, and every bad setting named by file, line and field.</summary>
public sealed class IdentityConfigTests : IDisposable
{
    private static readonly GatewayOptions Defaults = new() { Upstream = new Uri("http://127.0.0.1:1/v1") };
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static GatewayOptions Read(string path) => Defaults.With(ConfigReader.Load(path, ConfigShape.Map(("gateway", GatewayOptions.Shape)))["gateway"]);

    [Fact]
    public void Identity_IsReadFromDrydockYaml()
    {
        var path = _dir.File("drydock.yaml", """
            gateway:
              identity:
                issuer: https://login.example.com/
                audience: drydock-gateway
                jwks-file: idp/jwks.json
                algorithms: [RS256, PS256]
                clock-skew: 30
                refresh: 300
                max-token-lifetime: 3600
                claim: roles
                tiers:
                  support-agents: internal
                  everyone: public
                roles:
                  security-oncall: incident-responder
            """);
        var identity = Read(path).Identity!;
        Assert.Equal(("https://login.example.com/", "drydock-gateway", "roles"), (identity.Issuer, identity.Audience, identity.Claim));
        Assert.Equal(Path.Combine(_dir.Path, "idp", "jwks.json"), identity.JwksFile);
        Assert.Null(identity.JwksUrl);
        Assert.Equal(["RS256", "PS256"], identity.Algorithms);
        Assert.Equal((TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5), TimeSpan.FromHours(1)), (identity.ClockSkew, identity.Refresh, identity.MaxTokenLifetime));
        Assert.Equal(["support-agents", "everyone"], identity.Tiers.Select(t => t.Key));
        Assert.Equal("incident-responder", Assert.Single(identity.Roles).Value);
        Assert.Null(Read(_dir.File("plain.yaml", "gateway:\n  stream-window: 8\n")).Identity);
    }

    private const string Head = "gateway:\n  identity:\n    issuer: https://idp/\n    audience: a\n";

    [Theory]
    [InlineData("    jwks-url: https://idp/keys\n    tiers: {g: internal}\n    algorithms: [HS256]\n", "bad.yaml:7", "gateway.identity.algorithms[0]")]
    [InlineData("    jwks-url: https://idp/keys\n    tiers: {g: internal}\n    algorithms: [none]\n", "bad.yaml:7", "gateway.identity.algorithms[0]")]
    [InlineData("    jwks-url: https://idp/keys\n    tiers: {g: internal}\n    clock-skew: 600\n", "bad.yaml:7", "gateway.identity.clock-skew")]
    [InlineData("    jwks-url: https://idp/keys\n    tiers: {g: internal}\n    jwks-uri: x\n", "bad.yaml:7", "gateway.identity.jwks-uri: unknown setting")]
    [InlineData("    jwks-url: https://idp/keys\n    tiers: {g: internal}\n    max-token-lifetime: 2592000\n", "bad.yaml:7", "gateway.identity.max-token-lifetime")]
    [InlineData("    jwks-url: https://idp/keys\n    tiers: {g: internal}\n    max-token-lifetime: 24h\n", "bad.yaml:7", "gateway.identity.max-token-lifetime")]
    [InlineData("    jwks-url: https://idp/keys\n    tiers: {g: partners}\n", "bad.yaml:6", "tier 'partners' is not configured")]
    [InlineData("    jwks-url: https://idp/keys\n    tiers: {g: admin}\n", "bad.yaml:6", "not a model tier")]
    [InlineData("    jwks-url: https://idp/keys\n    roles: {g: superuser}\n", "bad.yaml:6", "gateway.identity.roles.g")]
    [InlineData("    jwks-url: https://idp/keys\n", "bad.yaml:2", "maps no claim value")]
    [InlineData("    tiers: {g: internal}\n", "bad.yaml:2", "exactly one of jwks-url or jwks-file")]
    [InlineData("    jwks-url: https://idp/keys\n    jwks-file: k.json\n    tiers: {g: internal}\n", "bad.yaml:2", "exactly one of jwks-url or jwks-file")]
    [InlineData("    jwks-url: http://idp.example.com/keys\n    tiers: {g: internal}\n", "bad.yaml:5", "must be https")]
    [InlineData("    jwks-url: ftp://idp/keys\n    tiers: {g: internal}\n", "bad.yaml:5", "gateway.identity.jwks-url")]
    public void BadIdentitySettings_NameFileLineAndField(string yaml, string where, string field)
    {
        var error = Assert.Throws<ConfigFileException>(() => Read(_dir.File("bad.yaml", Head + yaml)));
        Assert.Contains(where, error.Message, StringComparison.Ordinal);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingIssuer_IsAnError()
    {
        var error = Assert.Throws<ConfigFileException>(() => Read(_dir.File("bad.yaml", "gateway:\n  identity:\n    audience: a\n    jwks-url: https://idp/k\n    tiers: {g: internal}\n")));
        Assert.Contains("issuer", error.Message, StringComparison.Ordinal);
    }
}
