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
            project: support
            gateway:
              tiers:
                partner:
                  models: [support-7b]
                  max-tokens: 512
                  streaming: false
                  output: block
                  requests-per-minute: 30
            """);
        var tier = Assert.Single(GatewayOptions.TiersFrom(path)!).Value;
        Assert.Equal(("partner", 512, false, GuardMode.Block, GuardMode.Block, 30), (tier.Name, tier.MaxTokens, tier.Streaming, tier.Input, tier.Output, tier.RequestsPerMinute));
        Assert.True(tier.Allows("support-7b"));
        Assert.False(tier.Allows("other"));
        Assert.Null(GatewayOptions.TiersFrom(_dir.File("plain.yaml", "project: x\n")));
    }

    [Theory]
    [InlineData("output: maybe", "gateway.tiers.t.output")]
    [InlineData("max-tokens: -3", "gateway.tiers.t.max-tokens")]
    [InlineData("streaming: sometimes", "gateway.tiers.t.streaming")]
    [InlineData("tokens-per-minute: 10", "gateway.tiers.t.tokens-per-minute")]
    public void BadTiers_NameFileLineAndField(string setting, string field)
    {
        var path = _dir.File("bad.yaml", $"gateway:\n  tiers:\n    t:\n      {setting}\n");
        var error = Assert.Throws<GatewayConfigException>(() => GatewayOptions.TiersFrom(path));
        Assert.Contains("bad.yaml:4", error.Message, StringComparison.Ordinal);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }
}
