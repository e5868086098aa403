using Drydock.Provenance.ThreatModels;

namespace Drydock.Provenance.Tests;

public sealed class ThreatModelTests
{
    private const string Filled = """
        project: support-bot
        assets: [support tickets]
        attackers: [API users extracting records]
        data-sensitivity: confidential
        users: [support agents]
        damage:
          leak: customer emails exposed
          lie: wrong refund policy
          obey: a ticket makes the model issue refunds
        """;

    [Fact]
    public void Template_IsRefusedUntilFilledIn_NamingLineAndField()
    {
        var error = Assert.Throws<ThreatModelException>(() => ThreatModel.Validate("tm.yaml", ThreatModel.Template("support-bot")));
        Assert.StartsWith("tm.yaml:", error.Message, StringComparison.Ordinal);
        Assert.Contains("field assets still says TODO", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FilledModel_ValidatesAndNamesItsProject() => Assert.Equal("support-bot", ThreatModel.Validate("tm.yaml", Filled));

    [Theory]
    [InlineData("data-sensitivity: confidential", "data-sensitivity: secret", "data-sensitivity")]
    [InlineData("  obey: a ticket makes the model issue refunds", "", "damage.obey")]
    [InlineData("users: [support agents]", "users: []", "users")]
    public void MissingOrBadFields_AreNamed(string from, string to, string field)
    {
        var error = Assert.Throws<ThreatModelException>(() => ThreatModel.Validate("tm.yaml", Filled.Replace(from, to, StringComparison.Ordinal)));
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadYaml_NamesTheLine() =>
        Assert.Contains("tm.yaml:3", Assert.Throws<ThreatModelException>(() => ThreatModel.Validate("tm.yaml", "project: x\nassets: [unclosed\n")).Message, StringComparison.Ordinal);
}
