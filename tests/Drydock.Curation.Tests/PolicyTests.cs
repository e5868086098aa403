using Drydock.Curation.Policy;
using Drydock.Detection.Configuration;
using Drydock.Detection.Rules;

namespace Drydock.Curation.Tests;

public class PolicyTests
{
    [Fact]
    public void StarterPolicy_LoadsToTheDefaults()
    {
        Assert.Equal(new CleaningPolicy().Hash, PolicyLoader.Parse("drydock.yaml", StarterPolicy.Text).Hash);
        var whole = ConfigShape.Map().With(PolicyLoader.Sections).With(UserRuleLoader.Sections);
        Assert.Empty(UserRuleLoader.Read(ConfigReader.Parse("drydock.yaml", StarterPolicy.Text, whole)));
        Assert.ThrowsAny<ConfigFileException>(() => UserRuleLoader.Parse("rules.yaml", StarterPolicy.Text)); // a rules file holds rules only
    }

    [Fact]
    public void Parse_Settings_Applied()
    {
        var policy = PolicyLoader.Parse("p.yaml", """
            use-case: { name: support-bot, max-classification: internal }
            sources:
              - { path: data/web/**, classification: public, trust: untrusted, owner: crawler }
            actions: { url: allow, injection: drop }
            types:
              email: { action: quarantine, redaction: fake }
            dedup: { threshold: 0.9, near: false }
            """);
        Assert.Equal("support-bot", policy.UseCase);
        Assert.Equal(Classification.Internal, policy.MaxClassification);
        Assert.False(Assert.Single(policy.Sources).Trusted);
        Assert.Equal(CleanAction.Drop, policy.CategoryActions["injection"]);
        Assert.Equal(CleanAction.Quarantine, policy.TypeActions["email"]);
        Assert.Equal(RedactionMode.Fake, policy.RedactionFor("email"));
        Assert.Equal(RedactionMode.Pseudonym, policy.RedactionFor("person-name"));
        Assert.False(policy.NearDedup);
        Assert.Equal(0.9, policy.NearDuplicateThreshold);
        Assert.NotEqual(new CleaningPolicy().Hash, policy.Hash);
    }

    [Theory]
    [InlineData("acton:\n  pii: redact\n", 1, "acton")]
    [InlineData("version: banana\n", 1, "version")]
    [InlineData("sources:\n  - path: data/**\n    clasification: highly-sensitive\n", 3, "sources[0].clasification")]
    [InlineData("thresholds:\n  treshold: 0.9\n", 2, "thresholds.treshold")]
    [InlineData("types:\n  email:\n    redation: fake\n", 3, "types.email.redation")]
    [InlineData("types:\n  email: fake\n", 2, "types.email")]
    [InlineData("internal-domains: corp.example\n", 1, "internal-domains")]
    [InlineData("rules:\n  - id: X-1\n    category: secret\n    type: t\n    severity: high\n    pattern: abc\n    keyword: [abc]\n", 7, "rules[0].keyword")]
    [InlineData("actions:\n  pii: scrub\n", 2, "actions.pii")]
    [InlineData("actions:\n  pi: redact\n", 2, "actions.pi")]
    [InlineData("use-case:\n  max-classification: secret\n", 2, "use-case.max-classification")]
    [InlineData("dedup:\n  threshold: 1.5\n", 2, "dedup.threshold")]
    [InlineData("sources:\n  - classification: public\n", 2, "sources[0].path")]
    public void Parse_BadSetting_NamesLineAndField(string yaml, long line, string field)
    {
        var e = Assert.Throws<Drydock.Detection.Configuration.ConfigFileException>(() => PolicyLoader.Parse("drydock.yaml", yaml));
        Assert.Equal(line, e.Line);
        Assert.Equal(field, e.Field);
        Assert.StartsWith("drydock.yaml:", e.Message, StringComparison.Ordinal);
    }
}
