using Drydock.Detection.Configuration;
using Drydock.Tests.Shared;

namespace Drydock.Training.Tests;

public sealed class TrainingPlanTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void APlan_IsReadWithDefaults_AndItsPolicy()
    {
        var path = _dir.File("drydock.yaml", $$"""
            training:
              base-model: { path: base, sha256: "{{new string('A', 64)}}" }
              dataset: ds-1
              held-out: holdout.jsonl
              method: adapter
              frozen-layers: [0, 1]
              early-stopping: { patience: 3 }
              policy: { methods: [lora, adapter], max-learning-rate: 0.0001, max-epochs: 2, require-early-stopping: false }
            """);
        var plan = Load(path);
        Assert.Equal(("adapter", new string('a', 64), 2e-4, 3, "held-out-loss", 3), (plan.Method, plan.BaseModelSha256, plan.LearningRate, plan.Epochs, plan.EarlyStoppingMetric, plan.EarlyStoppingPatience));
        Assert.Equal([0, 1], plan.FrozenLayers);
        Assert.Equal(["lora", "adapter"], plan.Policy.Methods);
        Assert.Equal((1e-4, 2, false), (plan.Policy.MaxLearningRate, plan.Policy.MaxEpochs, plan.Policy.RequireEarlyStopping));
        Assert.Equal(42, (int)plan.ToJson()["seed"]!);
    }

    [Theory]
    [InlineData("training:\n  dataset: ds\n", "d.yaml:2", "training.base-model: is required")]
    [InlineData("training:\n  base-model: { path: b, sha256: nothex }\n  dataset: ds\n", "d.yaml:2", "training.base-model.sha256: must be 64")]
    [InlineData("training:\n  base-model: { path: b, sha256: \"0000000000000000000000000000000000000000000000000000000000000000\" }\n  dataset: ds\n  method: rlhf\n", "d.yaml:4", "training.method: 'rlhf'")]
    [InlineData("training:\n  base-model: { path: b, sha256: \"0000000000000000000000000000000000000000000000000000000000000000\" }\n  dataset: ds\n  epochs: 0\n", "d.yaml:4", "training.epochs")]
    [InlineData("training:\n  base-model: { path: b, sha256: \"0000000000000000000000000000000000000000000000000000000000000000\" }\n  dataset: ds\n  learning-rate: fast\n", "d.yaml:4", "training.learning-rate")]
    [InlineData("project: x\n", "d.yaml", "no training: section")]
    public void BadPlans_NameFileLineAndField(string yaml, string where, string what)
    {
        var error = Assert.ThrowsAny<Exception>(() => Load(_dir.File("d.yaml", yaml)));
        Assert.True(error is ConfigFileException or TrainingPlanException, error.ToString());
        Assert.Contains(where, error.Message, StringComparison.Ordinal);
        Assert.Contains(what, error.Message, StringComparison.Ordinal);
    }

    // A file holding the training section (and a project name), read by the strict reader as drydock.yaml's training: is.
    private static TrainingPlan Load(string path) =>
        TrainingPlan.From(ConfigReader.Load(path, ConfigShape.Map(("project", ConfigShape.Text), ("training", TrainingPlan.Shape)))["training"], path);
}
