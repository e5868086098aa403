using System.Text.RegularExpressions;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Detection.Tests.Rules;

public class CatalogueTests
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);

    public static TheoryData<string> RuleIds() => [.. BuiltInRules.Catalogue.Select(r => r.Id)];

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void Examples_EveryExample_ReportedByItsRule(string id)
    {
        var rule = BuiltInRules.Catalogue.Single(r => r.Id == id);
        Assert.NotEmpty(rule.Examples);
        foreach (var example in rule.Examples)
        {
            var findings = s_detector.Scan(example);
            Assert.True(findings.Any(f => f.RuleId == id),
                $"{id} did not report its example «{example}»; got [{string.Join(", ", findings.Select(f => f.RuleId))}]");
        }
    }

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void CounterExamples_EveryCounterExample_NotReportedByItsRule(string id)
    {
        var rule = BuiltInRules.Catalogue.Single(r => r.Id == id);
        Assert.NotEmpty(rule.CounterExamples);
        foreach (var example in rule.CounterExamples)
        {
            var findings = s_detector.Scan(example);
            Assert.False(findings.Any(f => f.RuleId == id), $"{id} reported its counter-example «{example}»");
        }
    }

    [Fact]
    public void Catalogue_Ids_AreUniqueAndWellFormed()
    {
        var ids = BuiltInRules.Catalogue.Select(r => r.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.All(ids, id => Assert.Matches("^DD-(PII|SEC|INJ|HID|MRK|URL|MAL)-[0-9]{3}$", id));
        Assert.All(BuiltInRules.Catalogue, r => Assert.True(Categories.IsKnown(r.Category), r.Id));
    }

    [Fact]
    public void Catalogue_CoversAtLeastFortySecretFormats()
    {
        var types = BuiltInRules.All.Where(r => r.Category == Categories.Secret).Select(r => r.Type).Distinct().Count();
        Assert.True(types >= 40, $"only {types} secret types");
    }

    [Fact]
    public void Catalogue_PatternsUseOnlyBoundedQuantifiers()
    {
        // Unbounded quantifiers (*, +, {n,}) are what lets a pattern run away on hostile input; every
        // built-in pattern bounds its repetitions so its cost per start position is a constant.
        var unbounded = new Regex(@"(?<!\\)(?:\\\\)*[*+]|\{[0-9]+,\}");
        foreach (var rule in BuiltInRules.All)
        {
            var pattern = rule.Pattern.ToString();
            var stripped = Regex.Replace(pattern, @"\[(?:\\.|[^\]\\])*\]", "[]");
            Assert.False(unbounded.IsMatch(stripped), $"{rule.Id} has an unbounded quantifier: {pattern}");
        }
    }
}
