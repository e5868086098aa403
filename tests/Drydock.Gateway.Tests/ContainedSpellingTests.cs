using Drydock.Gateway.Operations;
using Drydock.Provenance.Registry;

namespace Drydock.Gateway.Tests;

/// <summary>A contained model is refused under every spelling a model server may read as the same model.</summary>
public sealed class ContainedSpellingTests
{
    private static readonly Contained s_view = Contained.From(
        [new DeploymentState("m", false, "mv-1", "m", [new DeploymentEvent("de-1", "m", "disable", "mv-1", "m", "incident", "ops", "2026-12-06T00:00:00Z")])],
        new Dictionary<string, string>(StringComparer.Ordinal));

    [Theory]
    [InlineData("m")]
    [InlineData("M")]
    [InlineData("m ")]
    [InlineData(" m")]
    [InlineData("m\t")]
    [InlineData("m\n")]
    [InlineData("m\u200b")]
    [InlineData("m\u00ad")]
    [InlineData("m\u0000")]
    [InlineData("\uff4d")]
    [InlineData("m/")]
    [InlineData("./m")]
    [InlineData("m:latest")]
    [InlineData("M:Q4")]
    [InlineData("MV-1")]
    public void AnotherSpellingOfAContainedModel_IsRefused(string requested) => Assert.Null(s_view.Resolve(requested).Upstream);

    [Theory]
    [InlineData("m2")]
    [InlineData("mm")]
    [InlineData("other:m")]
    public void AnotherModel_IsServed(string requested) => Assert.Equal(requested, s_view.Resolve(requested).Upstream);
}
