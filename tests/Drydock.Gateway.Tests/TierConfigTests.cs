using Drydock.Detection.Configuration;
using Drydock.Tests.Shared;

namespace Drydock.Gateway.Tests;

public sealed class TierConfigTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Tiers_AreReadFromDrydockYaml()
    {
        var path = _dir.File("drydock.yaml", """
            gateway:
              tiers:
                partner:
                  models: [support-7b]
                  max-tokens: 512
                  streaming: false
                  output: block
                  requests-per-minute: 30
                  tokens-per-minute: 4000
              aliases:
                support: support-7b-v3
              stream-window: 128
              upstream-idle-timeout: 15
              abuse-threshold: 0.6
              audit:
                retention-days: 7
                text: hash
            """);
        var options = Read(path);
        var tier = Assert.Single(options.Tiers).Value;
        Assert.Equal(("partner", 512, false, GuardMode.Block, GuardMode.Block, 30, 4000), (tier.Name, tier.MaxTokens, tier.Streaming, tier.Input, tier.Output, tier.RequestsPerMinute, tier.TokensPerMinute));
        Assert.True(tier.Allows("support-7b"));
        Assert.False(tier.Allows("other"));
        Assert.Equal("support-7b-v3", options.Aliases["support"]);
        Assert.Equal((7, Audit.AuditText.Hash, 0.6, 128), (options.AuditRetentionDays, options.AuditText, options.AbuseThreshold, options.StreamWindow));
        Assert.Equal(TimeSpan.FromSeconds(15), options.UpstreamIdleTimeout);
        Assert.Same(Defaults, Read(_dir.File("plain.yaml", "")));
    }

    private static readonly GatewayOptions Defaults = new() { Upstream = new Uri("http://127.0.0.1:1/v1") };

    // A file holding only the gateway section, read by the strict reader as drydock.yaml's gateway: is.
    private static GatewayOptions Read(string path) => Defaults.With(ConfigReader.Load(path, ConfigShape.Map(("gateway", GatewayOptions.Shape)))["gateway"]);

    [Theory]
    [InlineData("output: maybe", "gateway.tiers.t.output")]
    [InlineData("max-tokens: -3", "gateway.tiers.t.max-tokens")]
    [InlineData("streaming: sometimes", "gateway.tiers.t.streaming")]
    [InlineData("tokens-per-minute: 0", "gateway.tiers.t.tokens-per-minute")]
    [InlineData("requests-per-minute: [1]", "gateway.tiers.t.requests-per-minute")]
    [InlineData("tokens-per-minit: 100", "gateway.tiers.t.tokens-per-minit: unknown setting")]
    [InlineData("max-tokens: 60000", "gateway.tiers.t.max-tokens: 60000 is above the tier")]
    public void BadTiers_NameFileLineAndField(string setting, string field)
    {
        var path = _dir.File("bad.yaml", $"gateway:\n  tiers:\n    t:\n      {setting}\n");
        var error = Assert.Throws<ConfigFileException>(() => Read(path));
        Assert.Contains("bad.yaml:4", error.Message, StringComparison.Ordinal);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("  audit:\n    text: everything\n", "bad.yaml:3", "gateway.audit.text")]
    [InlineData("  abuse-threshold: 3\n", "bad.yaml:2", "gateway.abuse-threshold")]
    [InlineData("  tiers:\n    admin:\n      max-tokens: 5\n", "bad.yaml:3", "reserved")]
    [InlineData("  aliases: [a, b]\n", "bad.yaml:2", "gateway.aliases")]
    [InlineData("  upstream-idle-timeout: 0\n", "bad.yaml:2", "gateway.upstream-idle-timeout")]
    [InlineData("  upstream-idle-timout: 5\n", "bad.yaml:2", "gateway.upstream-idle-timout: unknown setting")]
    [InlineData("  audit:\n    keep: all\n", "bad.yaml:3", "gateway.audit.keep: unknown setting")]
    public void BadGatewaySettings_NameFileLineAndField(string yaml, string where, string field)
    {
        var error = Assert.Throws<ConfigFileException>(() => Read(_dir.File("bad.yaml", "gateway:\n" + yaml)));
        Assert.Contains(where, error.Message, StringComparison.Ordinal);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }
}
