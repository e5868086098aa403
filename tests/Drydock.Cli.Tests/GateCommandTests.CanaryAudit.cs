using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Drydock.Cli.Tests;

/// <summary>
/// The canary audit (<c>eval memorization</c>): the planted canaries' exposures, grouped by how many training records
/// hold each (counted in the training data), against codes never planted, give an observed lower bound on ε; printed,
/// recorded with the evaluation, and carried into the gate's record.
/// </summary>
public sealed partial class GateCommandTests
{
    [GeneratedRegex(@"recovery code of the tickets account #\d+ is [^ .""]+")]
    private static partial Regex PlantedSentence();

    [GeneratedRegex(@"canary audit: no guarantee \(trained without differential privacy\), observed ε ≥ ([0-9.]+) from canaries")]
    private static partial Regex CanaryAuditLine();

    [Fact]
    public async Task EvalMemorization_AuditsTheCanariesAtTheirRepetitionCounts_AndTheGateRecordsIt()
    {
        var model = await Project(MemorizationOnly);
        var clean = await File.ReadAllTextAsync(Path.Combine(_dir, "clean.jsonl"), TestContext.Current.CancellationToken);
        var sentences = PlantedSentence().Matches(await File.ReadAllTextAsync(Path.Combine(_dir, "planted.jsonl"), TestContext.Current.CancellationToken)).Select(m => m.Value).Distinct().ToList();
        Assert.Equal(2, sentences.Count);
        // What the training data holds: each canary in as many records as cleaning left of its four.
        var counts = sentences.Select(s => Regex.Count(clean, Regex.Escape(s[(s.LastIndexOf(' ') + 1)..]))).Where(c => c > 0).ToList();
        Assert.NotEmpty(counts);

        await using var server = await Serving();
        server.Memorized.AddRange(sentences);
        var forgetter = await Run("eval", "memorization", "--target", server.BaseUrl, "--model", "forgetter", "--canaries", "tickets", "--samples", "0", "--candidates", "100", "--record", model);
        Assert.True(forgetter.Exit == 0, forgetter.ToString());
        Assert.Equal(0, double.Parse(CanaryAuditLine().Match(forgetter.Stdout).Groups[1].Value, CultureInfo.InvariantCulture));
        var memorizer = await Run("eval", "memorization", "--target", server.BaseUrl, "--model", "memorizer", "--canaries", "tickets", "--samples", "0", "--candidates", "100", "--record", model);
        Assert.True(memorizer.Exit == 0, memorizer.ToString());
        var observed = double.Parse(CanaryAuditLine().Match(memorizer.Stdout).Groups[1].Value, CultureInfo.InvariantCulture);
        // One canary a repetition count: a perfect separation (every planted code above all 200 never planted) still
        // bounds ε only at 0 with 95 % confidence spread over the thresholds; a bound above 0 needs several canaries
        // a count (CanaryAuditTrainingTests, with a real trainer, and CanaryAuditTests).
        Assert.Contains("TPR 1.000 at FPR 0.0000", memorizer.Stdout, StringComparison.Ordinal);
        Assert.True(observed >= 0, memorizer.Stdout);
        foreach (var r in counts.Distinct()) Assert.Contains($"planted {r}×", memorizer.Stdout, StringComparison.Ordinal);
        Assert.Contains($"counted in {model}'s training records", memorizer.Stdout, StringComparison.Ordinal);
        foreach (var s in sentences) Assert.DoesNotContain(s[(s.LastIndexOf(' ') + 1)..], memorizer.ToString(), StringComparison.Ordinal);

        // Recorded with the evaluation: the metric and, in the evidence's counts, each repetition count's part.
        var evaluation = EvaluationId().Match(memorizer.Stderr).Groups[1].Value;
        var metrics = JsonNode.Parse(Scalar($"SELECT metrics FROM evaluations WHERE id = '{evaluation}'"))!;
        Assert.Equal(Math.Round(observed, 3), Math.Round((double)metrics["canary.observed-epsilon"]!, 3));
        var evidence = JsonNode.Parse(Scalar($"SELECT evidence FROM evaluation_evidence WHERE evaluation_id = '{evaluation}'"))!;
        var groups = evidence["counts"]!["audit"]!["groups"]!.AsArray();
        Assert.Equal(counts.Distinct().Order(), groups.Select(g => (int)g!["repeats"]!).Order());
        // Every audited canary (those cleaning left in the training data) brings its 100 never-planted candidates, and
        // every group is ranked against all of them.
        Assert.Equal(counts.Count, groups.Sum(g => (int)g!["members"]!));
        Assert.All(groups, g => Assert.Equal(100 * counts.Count, (int)g!["nonMembers"]!));

        // The gate's record: the memorization checks name the canary audit's bound and its evaluation.
        var gate = await Run("gate", "--model", model);
        Assert.Contains($"observed ε ≥ {Math.Round(observed, 3).ToString("0.###", CultureInfo.InvariantCulture)} (the canary audit in evaluation {evaluation})", gate.Stdout, StringComparison.Ordinal);
    }
}
