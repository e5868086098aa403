using System.Text.Json.Nodes;
using Drydock.Detection.Configuration;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;

namespace Drydock.Training.Tests;

/// <summary><c>training.privacy</c> and <c>policy.max-epsilon</c>: read strictly, planned by the accountant, checked against the data's classification, and the ε spent computed from what the trainer did.</summary>
public sealed class PrivacyPlanTests : IDisposable
{
    private const string Head = "training:\n  base-model: { path: b, sha256: \"0000000000000000000000000000000000000000000000000000000000000000\" }\n  dataset: ds\n  batch-size: 16\n  epochs: 3\n";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private TrainingPlan Load(string yaml)
    {
        var path = _dir.File("d.yaml", Head + yaml);
        return TrainingPlan.From(ConfigReader.Load(path, ConfigShape.Map(("training", TrainingPlan.Shape)))["training"], path);
    }

    private static DatasetRecord Dataset(long records, string classification) =>
        new("ds-1", new string('a', 64), "ds", "p", "support", classification, "confidential", records, "m", "l", [], [], "{}", null, "alice", "2026-11-28T10:00:00.000Z");

    [Fact]
    public void Privacy_IsRead_WithItsPolicyCaps_AndRecordedInThePlan()
    {
        var plan = Load("  privacy: { epsilon: 4, delta: 0.00001 }\n  policy: { max-epsilon: { confidential: 8, regulated: 1 } }\n");
        Assert.Equal(new PrivacyPlan(4, null, 1e-5, 1.0), plan.Privacy);
        Assert.Equal(new Dictionary<string, double> { ["confidential"] = 8, ["regulated"] = 1 }, plan.Policy.MaxEpsilon);
        Assert.Equal(4, (double)plan.ToJson()["privacy"]!["epsilon"]!);
        Assert.Null(Load("").ToJson()["privacy"]);
    }

    [Theory]
    [InlineData("  privacy: { epsilon: 4, noise-multiplier: 1 }\n", "d.yaml:6", "training.privacy: give exactly one of epsilon")]
    [InlineData("  privacy: { delta: 0.00001 }\n", "d.yaml:6", "training.privacy: give exactly one of epsilon")]
    [InlineData("  privacy: { epsilon: 0 }\n", "d.yaml:6", "training.privacy.epsilon: must be a positive number")]
    [InlineData("  privacy: { noise-multiplier: 1, clip: 1 }\n", "d.yaml:6", "training.privacy.clip")]
    [InlineData("  privacy: { epsilon: 1, delta: 2 }\n", "d.yaml:6", "training.privacy.delta")]
    [InlineData("  policy: { max-epsilon: { secret: 1 } }\n", "d.yaml:6", "training.policy.max-epsilon.secret")]
    public void BadPrivacySettings_NameFileLineAndField(string yaml, string where, string what)
    {
        var error = Assert.ThrowsAny<ConfigFileException>(() => Load(yaml));
        Assert.Contains(where, error.Message, StringComparison.Ordinal);
        Assert.Contains(what, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_PlansTheNoiseForTheTargetEpsilon_WithinTheCap()
    {
        var check = PrivacyCheck.Run(Load("  privacy: { epsilon: 4 }\n  policy: { max-epsilon: { confidential: 8 } }\n"), Dataset(2000, "confidential"))!;
        Assert.True(check.Passed, check.Evidence);
        Assert.Contains("δ = 5E-05", check.Evidence, StringComparison.Ordinal); // default δ: 1/(10·records)
        var budget = PrivacyBudget.Plan(new PrivacyPlan(4, null, null, 1.0), 2000, 16, 3);
        Assert.InRange(budget.Epsilon, 4 - PrivacyAccountant.EpsilonTolerance, 4);
        Assert.Equal((0.008, 3 * 125L), (budget.SamplingRate, budget.Steps));
    }

    [Fact]
    public void Check_RefusesAnEpsilonAboveTheCapForTheClassification()
    {
        var check = PrivacyCheck.Run(Load("  privacy: { noise-multiplier: 0.5 }\n  policy: { max-epsilon: { regulated: 1 } }\n"), Dataset(2000, "regulated"))!;
        Assert.False(check.Passed);
        Assert.Contains("at most 1 for regulated data", check.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_RefusesAPlanWithoutDp_WhenTheClassificationIsCapped_AndIgnoresOthers()
    {
        var plan = Load("  policy: { max-epsilon: { regulated: 1 } }\n");
        Assert.False(PrivacyCheck.Run(plan, Dataset(2000, "regulated"))!.Passed);
        Assert.Null(PrivacyCheck.Run(plan, Dataset(2000, "internal")));
    }

    [Theory]
    [InlineData("  privacy: { epsilon: 4, delta: 0.001 }\n", 2000, "below 1/records")]
    [InlineData("  privacy: { epsilon: 4 }\n", 10, "too small for the sampling rate")]
    [InlineData("  privacy: { epsilon: 0.0001 }\n", 2000, "no noise multiplier")]
    public void Check_RefusesWhatTheAccountantCannotGive_WithTheReason(string yaml, long records, string reason)
    {
        var check = PrivacyCheck.Run(Load(yaml), Dataset(records, "internal"))!;
        Assert.False(check.Passed);
        Assert.Contains(reason, check.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Spent_IsTheAccountantsEpsilonForTheStepsTheTrainerTook()
    {
        var plan = new JsonObject { ["privacy"] = PrivacyBudget.Plan(new PrivacyPlan(null, 1.1, 1e-5, 1.0), 2000, 20, 5).ToJson() }.ToJsonString();
        var metrics = new JsonObject { ["privacy"] = new JsonObject { ["noiseMultiplier"] = 1.1, ["samplingRate"] = 0.01, ["maxGradNorm"] = 1.0, ["steps"] = 200 } };
        var spent = TrainerPrivacy.Spent(plan, metrics)!;
        Assert.Equal(PrivacyAccountant.Epsilon(0.01, 1.1, 200, 1e-5).Epsilon, spent.Epsilon, 1e-12);
        Assert.Null(TrainerPrivacy.Spent("{}", metrics));
        Assert.Contains("reports no privacy", Assert.Throws<PrivacyAccountingException>(() => TrainerPrivacy.Spent(plan, new JsonObject())).Message);
        metrics["privacy"]!["noiseMultiplier"] = 0.5;
        Assert.Contains("weaker than the plan", Assert.Throws<PrivacyAccountingException>(() => TrainerPrivacy.Spent(plan, metrics)).Message);
    }
}
