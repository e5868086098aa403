using Drydock.Detection;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Guards;

namespace Drydock.Gateway.Tests;

/// <summary>The input guard over the whole catalogue: what a user pastes or asks, as a block tier judges it.</summary>
public sealed class InputGuardTests
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
    private static readonly TextGuard s_guard = new(s_detector);

    private static string Prompt(string text) => $"Hi, I have a question about my account. {text} Can you help me with this?";

    [Fact]
    public void EveryPastedSecretAndSeriousInjection_Blocks_MediumInjectionIsFlagged()
    {
        var wrong = new List<string>();
        var rules = BuiltInRules.All.Cast<RuleInfo>().Concat(BuiltInRules.Analyzers.SelectMany(a => a.Rules))
            .Where(r => r.Category is Categories.Secret or Categories.Injection);
        foreach (var rule in rules)
        {
            foreach (var example in rule.Examples)
            {
                var prompt = Prompt(example);
                var found = s_detector.Scan(prompt).Where(f => f.RuleId == rule.Id).ToList();
                if (found.Count == 0) continue; // an example of another rule's context (the catalogue test checks each rule alone)
                var result = s_guard.Input(prompt, GuardMode.Block);
                var serious = rule.Category == Categories.Secret || found.Any(f => f.Severity >= Severity.High);
                if (result.Blocked != serious) wrong.Add($"{rule.Id} ({(serious ? "not blocked" : "blocked")}): {example}");
                if (!result.Findings.Any(f => f.RuleId == rule.Id) && found.Any(f => f.Severity >= Severity.Medium)) wrong.Add($"{rule.Id} not flagged: {example}");
            }
        }

        Assert.Empty(wrong);
    }

    [Fact]
    public void OrdinaryQuestions_PassUnflagged()
    {
        foreach (var text in new[] { "How do I reset my password?", "Where is my order 1182?", "Can you summarise the attached meeting notes?", "What are your opening hours?" })
        {
            var result = s_guard.Input(Prompt(text), GuardMode.Block);
            Assert.False(result.Blocked, text);
            Assert.Empty(result.Findings);
        }
    }
}
