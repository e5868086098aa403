using System.ClientModel;
using System.Text.Json.Nodes;
using Drydock.Evaluation.Targets;
using Drydock.Gateway.ModelServer;
using Drydock.Tests.Shared;
using Drydock.Training.Runs;
using OpenAI;
using OpenAI.Chat;

namespace Drydock.Training.Tests;

/// <summary>
/// The reference trainer for real (Python with Debian's python3-torch, installed by test.sh): a tiny model pre-trained,
/// fine-tuned with LoRA and fully, exported to ONNX; then that model in process (ONNX Runtime) and served as an
/// OpenAI-compatible endpoint, called with the official OpenAI client.
/// </summary>
public sealed class ReferenceTrainerTests : IDisposable
{
    private const string Tiny = "\"model\": {\"layers\": 1, \"heads\": 2, \"width\": 32, \"context\": 64}";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Corpus(string name, int records, int seed)
    {
        var random = new Random(seed);
        var words = new[] { "card", "account", "transfer", "refund", "branch", "password", "loan", "fee" };
        var lines = Enumerable.Range(0, records).Select(_ => new JsonObject { ["prompt"] = "How do I " + words[random.Next(words.Length)] + "?", ["completion"] = "Open the app and choose " + words[random.Next(words.Length)] + "." }.ToJsonString());
        return _dir.File(name, string.Join("\n", lines) + "\n");
    }

    private async Task<(JsonObject Metrics, string Folder)> Train(string plan, string? baseFolder, string output)
    {
        var folder = Path.Combine(_dir.Path, output);
        var metrics = await TrainerRun.RunAsync(TrainerSpec.Reference(), new TrainingInputs(plan, Corpus("train.jsonl", 120, 1), Corpus("held.jsonl", 30, 2), baseFolder), new IsolationOptions { RequireNoNetwork = false },
            (outputFolder, outcome) =>
            {
                Assert.True(outcome.ExitCode == 0, outcome.Log);
                Directory.CreateDirectory(folder);
                foreach (var f in Directory.GetFiles(outputFolder)) File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
                return JsonNode.Parse(File.ReadAllText(Path.Combine(outputFolder, "metrics.json")))!.AsObject();
            }, TestContext.Current.CancellationToken);
        return (metrics, folder);
    }

    [Fact]
    public async Task PreTrain_ThenLoRAAndFull_ExportOnnx_ThatRunsInProcessAndBehindAnOpenAIEndpoint()
    {
        var (pre, baseFolder) = await Train($$"""{"method": "full", "learningRate": 0.01, "epochs": 6, "batchSize": 16, "seed": 1, {{Tiny}}}""", null, "base");
        Assert.Equal(6, (int)pre["epochs"]!);
        Assert.True((double)pre["history"]![1]!["heldOutLoss"]! < (double)pre["history"]![0]!["heldOutLoss"]!, "held-out loss falls while pre-training");
        foreach (var file in new[] { "model.onnx", "model.pt", "model.json", "metrics.json" }) Assert.True(File.Exists(Path.Combine(baseFolder, file)), file);

        var (lora, loraFolder) = await Train("""{"method": "lora", "lora": {"rank": 4, "alpha": 8, "dropout": 0}, "learningRate": 0.001, "epochs": 3, "batchSize": 16, "seed": 1, "earlyStopping": {"metric": "held-out-loss", "patience": 1}}""", baseFolder, "lora");
        var (full, _) = await Train("""{"method": "full", "learningRate": 0.001, "epochs": 1, "batchSize": 16, "seed": 1}""", baseFolder, "full");
        Assert.Equal("lora", (string)lora["method"]!);
        Assert.True((long)lora["trainableParameters"]! * 5 < (long)full["trainableParameters"]!, "LoRA trains a small fraction of the weights");
        Assert.Equal((long)full["parameters"]!, (long)lora["parameters"]!);
        Assert.True((int)lora["epochs"]! <= 3);

        using var model = new OnnxTarget(loraFolder);
        Assert.Equal(64, model.Context);
        var text = "How do I transfer?\nOpen the app and choose card.";
        var scores = model.Score(text);
        Assert.Equal(text.Length, scores.Count);
        Assert.All(scores, s => Assert.True(s.Logprob < 0));
        var (sum, tokens) = await model.ScoreAsync("How do I ", "transfer?", TestContext.Current.CancellationToken);
        Assert.Equal("transfer?".Length, tokens);
        Assert.Equal(scores.Skip(9).Take(9).Sum(s => s.Logprob), sum, 6);
        // A text three times the context is scored in windows, every byte once.
        Assert.Equal(200, model.Score(new string('a', 200)).Count);
        var greedy = model.Generate("How do I ", 24, 0, TestContext.Current.CancellationToken);
        Assert.Equal(greedy, model.Generate("How do I ", 24, 0, TestContext.Current.CancellationToken));
        Assert.True(scores.Average(s => s.Logprob) > -3, "the trained model predicts its own kind of text far better than chance (−5.5)");

        var digest = Drydock.Provenance.Registry.ModelDigest.Of(loraFolder).Digest;
        await using var server = new LocalModelServer(model, "tiny", "http://127.0.0.1:0", digest);
        await server.StartAsync(TestContext.Current.CancellationToken);
        var endpoint = new Uri(server.Urls[0] + "/v1");
        var client = new ChatClient("tiny", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = endpoint });
        var answer = await client.CompleteChatAsync([new UserChatMessage("How do I pay a fee?")], new ChatCompletionOptions { MaxOutputTokenCount = 20, Temperature = 0 }, TestContext.Current.CancellationToken);
        Assert.Equal(model.Generate("How do I pay a fee?\n", 20, 0, TestContext.Current.CancellationToken), answer.Value.Content[0].Text);

        // The same log-likelihood through the endpoint (echo + logprobs, as vLLM serves them) as in process.
        using var remote = new ModelTarget(new TargetOptions { Endpoint = endpoint, Model = "tiny" });
        // The server states the digest of the files it serves (as the registry computes it) on every answer.
        Assert.Equal(digest, await remote.BindDigestAsync(TestContext.Current.CancellationToken));
        var (remoteSum, remoteTokens) = await remote.ScoreAsync("How do I ", "transfer?", TestContext.Current.CancellationToken);
        Assert.Equal(tokens, remoteTokens);
        Assert.Equal(sum, remoteSum, 4);

        using var http = new HttpClient();
        var bad = await http.PostAsync(endpoint + "/completions", new StringContent("{\"prompt\": 3}"), TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(digest, bad.Headers.GetValues(ModelTarget.DigestHeader).Single());
        Assert.Null(remote.DigestChange);
        Assert.Contains("prompt must be a string", await bad.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFileThatIsNotAModel_IsRefusedWithItsPath()
    {
        var path = _dir.File("model.onnx", "not a model");
        var error = Assert.Throws<ArgumentException>(() => new OnnxTarget(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        await Task.CompletedTask;
    }
}
