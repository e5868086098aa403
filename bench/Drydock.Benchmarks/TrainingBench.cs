using System.Diagnostics;
using System.Globalization;
using Drydock.Evaluation.Targets;

namespace Drydock.Bench;

/// <summary>
/// The local ONNX target's speed on a model from the reference trainer: greedy generation in tokens (bytes) per
/// second, and the time to score the log-likelihood of 1,000 sequences (as membership inference and exposure do).
/// </summary>
internal static class TrainingBench
{
    public static async Task<int> OnnxSpeed(string model, int sequences)
    {
        using var target = new OnnxTarget(model);
        var random = new Random(1);
        var words = new[] { "card", "account", "transfer", "refund", "branch", "password", "the", "to", "my", "please", "send", "statement" };
        var texts = Enumerable.Range(0, sequences).Select(_ => string.Join(' ', Enumerable.Range(0, 18).Select(_ => words[random.Next(words.Length)]))).ToList();
        target.Score(texts[0]);
        target.Generate("Hello, ", 8, 0);

        var clock = Stopwatch.StartNew();
        var generated = 0;
        for (var i = 0; i < 20; i++) generated += System.Text.Encoding.UTF8.GetByteCount(target.Generate(texts[i][..20], 64, 0));
        var generation = generated / clock.Elapsed.TotalSeconds;

        clock.Restart();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        await Task.WhenAll(texts.Select(t => target.ScoreAsync("", t, CancellationToken.None)));
        var wall = clock.Elapsed.TotalSeconds;
        var used = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        var bytes = texts.Sum(t => t.Length);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"model {model}: context {target.Context} bytes"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"greedy generation: {generated} tokens in 20 prompts, {generation:N0} tokens/s (one at a time, no KV cache)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"scoring {sequences:N0} sequences ({bytes / (double)sequences:0} bytes each): {wall:0.00} s wall, {used:0.00} s CPU, {bytes / wall:N0} tokens/s"));
        return 0;
    }
}
