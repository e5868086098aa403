using Drydock.Evaluation.Gate;
using Drydock.Evaluation.Probes;
using Drydock.Evaluation.Strategies;
using Drydock.Provenance.Registry;

namespace Drydock.Evaluation.Tests;

/// <summary>
/// The gate's configuration rules: system prompts compared by their whole hash, and a regression comparison only
/// between runs of the candidate and its base under the same system prompt.
/// </summary>
public sealed class ReleaseGateConfigurationTests
{
    private const string Registered = "2026-11-28T10:00:00.000Z";
    private static readonly IReadOnlyList<ProbeSuite> s_suites = [.. ProbeSuite.BuiltIn.Select(ProbeSuite.Load)];
    private static readonly ModelRecord s_model = new("mv-1", "tuned", new string('c', 64), "base@sha256:" + new string('b', 64), [], [], null, "alice", Registered);
    private static readonly ModelRecord s_base = new("mv-0", "base", new string('b', 64), null, [], [], null, "alice", Registered);

    // Every attack limit at 1: only the regression comparison can stop the candidate.
    private static readonly GatePolicy s_lenient = new(GatePolicy.Default.Thresholds.ToDictionary(t => t.Key, t => GatePolicy.Metrics[t.Key].StartsWith("attack.", StringComparison.Ordinal) ? (double?)1 : null), 5);

    // Two system prompt hashes that share their first 12 hex digits, as a birthday search finds.
    private static readonly string s_x = "d909d549162a" + new string('0', 52);
    private static readonly string s_y = "d909d549162a" + new string('1', 52);

    // A probe run as eval records it, every probe answered: obeyed (every attack succeeded) or refused, under a given
    // system prompt (its hash) or the planted one (null).
    private static EvaluationRecord Probes(string id, ModelRecord model, int minute, bool obeyed, string? promptSha256, IReadOnlyList<ProbeSuite>? suites = null)
    {
        suites ??= s_suites;
        var strategies = AttackStrategy.All;
        var results = new List<ProbeResult>();
        foreach (var probe in suites.SelectMany(s => s.Probes))
        {
            foreach (var strategy in strategies.Where(s => AttackStrategy.Apply(s, probe.Turns, probe.Translations) is not null))
            {
                results.Add(new ProbeResult($"{probe.Suite}/{probe.Id}/{strategy}", probe.Suite, probe.Id, probe.Family, strategy, obeyed, !obeyed, "r", null, 1));
            }
        }

        var run = new EvaluationRun(RunIdentity.Sha256(id), results, results.Count, 0, null);
        var target = new TargetIdentity("endpoint", "http://t/v1", model.Digest, "m");
        var identity = new RunIdentity(target.Kind, target.Target, target.Digest, "m", promptSha256 ?? RunIdentity.Sha256("planted " + id), [.. suites.Select(SuiteIdentity.Of)], strategies, "rules", "r", "1", model.Id);
        var evidence = EvidenceBuilder.Probes(identity, target, run, suites, strategies, results.Count, "abc", promptSha256 is null ? "planted" : "given");
        return new EvaluationRecord(id, model.Id, "probes", "t", ReleaseGate.ProbeMetrics(results), null, "alice", $"2026-11-28T10:{minute:00}:00.000Z") { Evidence = evidence };
    }

    private static string Why(GateResult result) => string.Join("\n", result.Checks.Select(c => $"{c.Name}: {c.Evidence}"));

    [Fact]
    public void SystemPromptsWhoseHashesShareTheirFirst12Digits_AreTwoConfigurations_RecordedWhole()
    {
        var everySuite = Probes("ev-x", s_model, 1, obeyed: false, s_x);
        var extraction = Probes("ev-y", s_model, 2, obeyed: false, s_y, [.. s_suites.Where(s => s.Name == "system-prompt-extraction")]);
        var policy = s_lenient with { Thresholds = GatePolicy.Default.Thresholds.ToDictionary(t => t.Key, t => GatePolicy.Metrics[t.Key].StartsWith("attack.", StringComparison.Ordinal) ? (double?)0.05 : null) };
        var result = ReleaseGate.Decide(s_model, [everySuite, extraction], null, null, policy, s_suites);
        Assert.False(result.Ship, Why(result));
        var mixed = Assert.Single(result.Checks, c => c.Name == "probe configuration");
        Assert.Contains($"system prompt sha256:{s_x}", mixed.Evidence, StringComparison.Ordinal);
        Assert.Contains($"system prompt sha256:{s_y}", mixed.Evidence, StringComparison.Ordinal);
        Assert.Equal([$"sha256:{s_x}", $"sha256:{s_y}"], result.Evidence.Select(e => e.SystemPrompt));

        // Under one prompt, the same runs are one configuration.
        var same = ReleaseGate.Decide(s_model, [everySuite, Probes("ev-x2", s_model, 2, obeyed: false, s_x, [.. s_suites.Where(s => s.Name == "system-prompt-extraction")])], null, null, policy, s_suites);
        Assert.True(same.Ship, Why(same));
    }

    [Fact]
    public void ARegressionComparison_CountsOnlyUnderTheSameSystemPrompt()
    {
        var candidate = Probes("ev-1", s_model, 2, obeyed: true, s_x);
        // The base obeys under its planted prompt: compared with it, the candidate would be no worse.
        var basePlanted = Probes("ev-0", s_base, 1, obeyed: true, null);
        var other = ReleaseGate.Decide(s_model, [candidate], s_base, [basePlanted], s_lenient, s_suites);
        Assert.False(other.Ship, Why(other));
        var configuration = Assert.Single(other.Checks, c => !c.Passed);
        Assert.Equal("base probe configuration", configuration.Name);
        Assert.Contains($"mv-1's evaluation ev-1 ran under system prompt sha256:{s_x}, mv-0's evaluation ev-0 under sha256:{RunIdentity.Sha256("planted ev-0")} (planted: no --system-prompt)", configuration.Evidence, StringComparison.Ordinal);
        Assert.Contains("evaluate the base model under the candidate's system prompt", configuration.Evidence, StringComparison.Ordinal);
        Assert.DoesNotContain(other.Checks, c => c.Name.StartsWith("regression", StringComparison.Ordinal));

        // A prompt whose hash shares 12 digits with the candidate's is another prompt.
        var near = ReleaseGate.Decide(s_model, [candidate], s_base, [Probes("ev-0", s_base, 1, obeyed: true, s_y)], s_lenient, s_suites);
        Assert.Contains(near.Checks, c => c.Name == "base probe configuration" && !c.Passed);

        // Under the candidate's prompt the base refuses: the candidate is 100 points worse.
        var worse = ReleaseGate.Decide(s_model, [candidate], s_base, [Probes("ev-0", s_base, 1, obeyed: false, s_x)], s_lenient, s_suites);
        Assert.False(worse.Ship, Why(worse));
        Assert.DoesNotContain(worse.Checks, c => c.Name == "base probe configuration");
        Assert.Contains(worse.Checks, c => c.Name == "regression attack.jailbreak" && !c.Passed && c.Evidence.Contains("100 points worse", StringComparison.Ordinal));

        // Both under their own planted prompts (which differ by hash, as each is derived from its target) compare.
        var planted = ReleaseGate.Decide(s_model, [Probes("ev-1", s_model, 2, obeyed: true, null)], s_base, [basePlanted], s_lenient, s_suites);
        Assert.True(planted.Ship, Why(planted));
        Assert.Contains(planted.Checks, c => c.Name == "regression attack.jailbreak" && c.Passed);
    }
}
