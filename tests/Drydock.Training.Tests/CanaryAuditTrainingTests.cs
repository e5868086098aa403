using System.Text.Json.Nodes;
using Drydock.Evaluation.Privacy;
using Drydock.Evaluation.Targets;
using Drydock.Tests.Shared;
using Drydock.Training.Runs;

namespace Drydock.Training.Tests;

/// <summary>
/// The canary audit on a model trained for real (the reference trainer, Debian's python3-torch): canaries planted once
/// and ten times in the training data, a small model fully fine-tuned on it until it memorises, then exposure and the
/// audit run in process (ONNX Runtime). The canaries seen ten times are far more exposed than those seen once, and
/// the audit observes ε &gt; 0 per record from them.
/// </summary>
public sealed class CanaryAuditTrainingTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ARushedModel_MemorisesTheCanariesItSawTenTimes_AndTheAuditObservesEpsilon()
    {
        var random = new Random(1);
        string[] words = ["card", "fee", "loan", "branch", "refund", "transfer"];
        string Corpus(int records) => string.Concat(Enumerable.Range(0, records).Select(_ => new JsonObject { ["text"] = $"Q: {words[random.Next(words.Length)]}? A: choose {words[random.Next(words.Length)]}." }.ToJsonString() + "\n"));
        var raw = _dir.File("raw.jsonl", Corpus(120));
        var held = _dir.File("held.jsonl", Corpus(30));
        var once = CanaryPlanter.Plant(raw, Path.Combine(_dir.Path, "once.jsonl"), "once", 4, 1, 2);
        var often = CanaryPlanter.Plant(Path.Combine(_dir.Path, "once.jsonl"), Path.Combine(_dir.Path, "train.jsonl"), "often", 4, 10, 3);
        var model = Path.Combine(_dir.Path, "model");
        const string plan = """{"method": "full", "learningRate": 0.01, "epochs": 25, "batchSize": 8, "seed": 1, "model": {"layers": 2, "heads": 2, "width": 64, "context": 128}}""";
        await TrainerRun.RunAsync(TrainerSpec.Reference(), new TrainingInputs(plan, Path.Combine(_dir.Path, "train.jsonl"), held, null), new IsolationOptions { RequireNoNetwork = false },
            (outputFolder, outcome) =>
            {
                Assert.True(outcome.ExitCode == 0, outcome.Log);
                Directory.CreateDirectory(model);
                foreach (var f in Directory.GetFiles(outputFolder)) File.Copy(f, Path.Combine(model, Path.GetFileName(f)));
                return 0;
            }, TestContext.Current.CancellationToken);

        using var target = new OnnxTarget(model);
        var outcomes = await Memorization.RunAsync(target, [.. once, .. often], 100, 0, TestContext.Current.CancellationToken);
        // In the order asked: the four planted once, then the four planted ten times.
        int Repeats(int i) => i < once.Count ? 1 : 10;
        Assert.All(outcomes, o => Assert.Equal(100, o.NonMemberExposures.Count));
        var seenOnce = outcomes.Take(once.Count).Average(o => o.ExposureBits);
        var seenOften = outcomes.Skip(once.Count).Average(o => o.ExposureBits);
        Assert.True(seenOften > seenOnce + 5, $"exposure: {seenOnce:0.0} bits for canaries seen once, {seenOften:0.0} for those seen ten times");

        var audit = CanaryAudit.Run([.. outcomes.Select((o, i) => (o.ExposureBits, Repeats(i)))], [.. outcomes.SelectMany(o => o.NonMemberExposures)], PrivacyAudit.DefaultDelta);
        Assert.Equal([1, 10], audit.Groups.Select(g => g.Repeats));
        Assert.All(audit.Groups, g => Assert.Equal((4, 800), (g.Members, g.NonMembers)));
        Assert.True(audit.Epsilon > 0, audit.Statement());
        TestContext.Current.SendDiagnosticMessage($"exposure once {seenOnce:0.0} bits, ten times {seenOften:0.0}; {audit.Statement()}");
    }
}
