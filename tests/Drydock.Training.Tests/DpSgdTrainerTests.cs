using System.Diagnostics;
using System.Text.Json.Nodes;
using Drydock.Tests.Shared;
using Drydock.Training.Runs;

namespace Drydock.Training.Tests;

/// <summary>
/// DP-SGD in the reference trainer for real (Python with Debian's python3-torch): per-example clipping bounds one record's
/// influence (Reference/dp_clipping_check.py, on the trainer's own code), and a DP run with the accountant's noise trains
/// LoRA and full fine-tuning (held-out loss falls) and reports the steps from which the accountant computes ε.
/// </summary>
public sealed class DpSgdTrainerTests : IDisposable
{
    private const string Tiny = "\"model\": {\"layers\": 1, \"heads\": 2, \"width\": 32, \"context\": 64}";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Corpus(string name, int records, int seed, string[] words)
    {
        var random = new Random(seed);
        var lines = Enumerable.Range(0, records).Select(_ => new JsonObject { ["text"] = "How do I " + words[random.Next(words.Length)] + "? Open the app and choose " + words[random.Next(words.Length)] + "." }.ToJsonString());
        return _dir.File(name, string.Join("\n", lines) + "\n");
    }

    private async Task<JsonObject> Train(string plan, string train, string held, string? baseFolder, string output)
    {
        var folder = Path.Combine(_dir.Path, output);
        return await TrainerRun.RunAsync(TrainerSpec.Reference(), new TrainingInputs(plan, train, held, baseFolder), new IsolationOptions { RequireNoNetwork = false },
            (outputFolder, outcome) =>
            {
                Assert.True(outcome.ExitCode == 0, outcome.Log);
                Directory.CreateDirectory(folder);
                foreach (var f in Directory.GetFiles(outputFolder)) File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
                return JsonNode.Parse(File.ReadAllText(Path.Combine(outputFolder, "metrics.json")))!.AsObject();
            }, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task DpSgd_TrainsLoRAAndFull_AndReportsWhatTheAccountantNeeds()
    {
        string[] pre = ["weather", "music", "garden", "river"], bank = ["card", "account", "transfer", "refund", "branch", "loan"];
        await Train($$"""{"method": "full", "learningRate": 0.01, "epochs": 1, "batchSize": 16, "seed": 1, {{Tiny}}}""", Corpus("pre.jsonl", 120, 3, pre), Corpus("pre-held.jsonl", 20, 4, pre), null, "base");
        var train = Corpus("train.jsonl", 120, 1, bank);
        var held = Corpus("held.jsonl", 30, 2, bank);
        var budget = PrivacyBudget.Plan(new PrivacyPlan(8, null, null, 1.0), 120, 16, 3);
        foreach (var (method, rate) in new[] { ("lora", 0.01), ("full", 0.003) })
        {
            var plan = new JsonObject
            {
                ["method"] = method, ["lora"] = new JsonObject { ["rank"] = 4, ["alpha"] = 8, ["dropout"] = 0 }, ["learningRate"] = rate,
                ["epochs"] = 3, ["batchSize"] = 16, ["seed"] = 1, ["privacy"] = budget.ToJson(),
            }.ToJsonString();
            var metrics = await Train(plan, train, held, Path.Combine(_dir.Path, "base"), "dp-" + method);
            Assert.True((double)metrics["heldOutLoss"]! < (double)metrics["initialHeldOutLoss"]!, $"{method}: held-out loss falls under DP-SGD ({metrics["initialHeldOutLoss"]} → {metrics["heldOutLoss"]})");
            var reported = metrics["privacy"]!;
            Assert.Equal((3 * 8L, "poisson", "per-example"), ((long)reported["steps"]!, (string)reported["sampling"]!, (string)reported["clipping"]!));
            var spent = TrainerPrivacy.Spent(plan, metrics)!;
            Assert.Equal(budget.Epsilon, spent.Epsilon, 1e-9);
            Assert.InRange(spent.Epsilon, 7.9, 8);
        }
    }

    [Fact]
    public async Task Clipping_BoundsOneRecordsInfluence_ForLoRAAndFull()
    {
        var trainer = _dir.File("train.py", "");
        await using (var resource = typeof(TrainingPlan).Assembly.GetManifestResourceStream("reference/train.py")!)
        await using (var file = File.Create(trainer))
        {
            await resource.CopyToAsync(file, TestContext.Current.CancellationToken);
        }

        var check = Path.Combine(AppContext.BaseDirectory, "Reference", "dp_clipping_check.py");
        using var process = Process.Start(new ProcessStartInfo(TrainerSpec.Reference().Python, [check, trainer]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, await stderr);
        var report = JsonNode.Parse(await stdout)!.AsObject();
        Assert.Equal(4, report.Count); // lora and full, each with every record clipped and with none
    }
}
