using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;

namespace Drydock.Evaluation.Targets;

/// <summary>One token of a scored text: its bytes' start as a UTF-16 offset into the text, and its log-probability.</summary>
public readonly record struct TokenScore(int Offset, byte Token, double Logprob);

/// <summary>
/// A byte-level language model exported to ONNX (as the reference trainer writes it: <c>input_ids</c> int64
/// [batch, sequence] → <c>logits</c> float32 [batch, sequence, 256], with <c>model.json</c> beside it giving the
/// context length and the start and end bytes), run in process with ONNX Runtime. Greedy and sampled generation,
/// and per-token log-probabilities of any text (texts longer than the context are scored in half-overlapping
/// windows, so every token sees at least half a context). A chat is the messages' contents joined by new lines,
/// as records are rendered for training. Thread-safe; at most one inference per core at a time.
/// </summary>
public sealed class OnnxTarget : IEvaluationTarget
{
    private readonly InferenceSession _session;
    private readonly SemaphoreSlim _slots = new(Environment.ProcessorCount);
    private readonly RunOptions _run = new();
    private readonly Random _random;
    private readonly Lock _randomLock = new();
    private readonly int _bos;
    private readonly int _eos;
    private int _sent;

    /// <summary>Loads the model at <paramref name="path"/> (a model.onnx file or the folder holding it).</summary>
    public OnnxTarget(string path, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(path);
        var file = Directory.Exists(path) ? Path.Combine(path, "model.onnx") : path;
        if (!File.Exists(file)) throw new ArgumentException($"{file}: no such ONNX model");
        var metaPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, "model.json");
        (Context, _bos, _eos) = (256, 2, 3);
        if (File.Exists(metaPath))
        {
            try
            {
                var meta = JsonNode.Parse(File.ReadAllText(metaPath))!;
                Context = (int?)meta["context"] ?? Context;
                _bos = (int?)meta["bos"] ?? _bos;
                _eos = (int?)meta["eos"] ?? _eos;
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            {
                throw new ArgumentException($"{metaPath}: {e.Message}", e);
            }
        }

        if (Context < 4) throw new ArgumentException($"{metaPath}: field context must be at least 4");
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        try
        {
            _session = new InferenceSession(file, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ArgumentException($"{file}: not a loadable ONNX model ({e.Message})", e);
        }

        if (!_session.InputMetadata.ContainsKey("input_ids") || !_session.OutputMetadata.ContainsKey("logits"))
        {
            _session.Dispose();
            throw new ArgumentException($"{file}: the model must take input_ids and return logits (a byte-level model from the reference trainer)");
        }

        _random = new Random(seed);
        Name = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(file))) ?? "model";
    }

    /// <summary>The model's context length in tokens (bytes).</summary>
    public int Context { get; }

    /// <summary>A display name: the model's folder.</summary>
    public string Name { get; }

    /// <inheritdoc />
    public int Sent => Volatile.Read(ref _sent);

    /// <summary>The prompt a conversation becomes: its contents joined by new lines, and a new line to answer after.</summary>
    public static string Render(IReadOnlyList<ChatMessage> conversation) => string.Join("\n", conversation.Select(m => m.Content).ToArray()) + "\n";

    /// <inheritdoc />
    public Task<TargetResponse> CompleteAsync(IReadOnlyList<ChatMessage> conversation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        return ContinueAsync(Render(conversation), 160, 0, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<TargetResponse> ContinueAsync(string prefix, int maxTokens, double temperature, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var text = await RunAsync(() => Generate(prefix, maxTokens, temperature, cancellationToken), cancellationToken).ConfigureAwait(false);
        return new TargetResponse(text, null, clock.Elapsed.TotalMilliseconds);
    }

    /// <inheritdoc />
    public async Task<(double LogLikelihood, int Tokens)> ScoreAsync(string prefix, string text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(text);
        var scores = await RunAsync(() => Score(prefix + text), cancellationToken).ConfigureAwait(false);
        double sum = 0;
        var tokens = 0;
        foreach (var s in scores)
        {
            if (s.Offset < prefix.Length) continue;
            sum += s.Logprob;
            tokens++;
        }

        return (sum, tokens);
    }

    /// <summary>Generates up to <paramref name="maxTokens"/> bytes after <paramref name="prompt"/>, stopping at the end byte.</summary>
    public string Generate(string prompt, int maxTokens, double temperature, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var ids = new List<long>(Context + maxTokens) { _bos };
        foreach (var b in Encoding.UTF8.GetBytes(prompt)) ids.Add(b);
        var output = new List<byte>(maxTokens);
        var row = new double[256];
        for (var step = 0; step < maxTokens; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var start = Math.Max(0, ids.Count - Context);
            var window = ids.GetRange(start, ids.Count - start).ToArray();
            var logits = Forward(window);
            var last = logits.AsSpan((window.Length - 1) * 256, 256);
            var next = temperature <= 0 ? ArgMax(last) : Sample(last, temperature, row);
            if (next == _eos) break;
            ids.Add(next);
            output.Add((byte)next);
        }

        return Encoding.UTF8.GetString([.. output]);
    }

    /// <summary>The log-probability of every byte of <paramref name="text"/> (each after the start byte and what precedes it).</summary>
    public IReadOnlyList<TokenScore> Score(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = Encoding.UTF8.GetBytes(text);
        var offsets = Offsets(text, bytes.Length);
        var ids = new long[bytes.Length + 1];
        ids[0] = _bos;
        for (var i = 0; i < bytes.Length; i++) ids[i + 1] = bytes[i];
        var scores = new TokenScore[bytes.Length];
        var next = 1;
        for (var start = 0; next < ids.Length; start = next - (Context / 2))
        {
            var end = Math.Min(ids.Length, start + Context);
            var logits = Forward(ids[start..end]);
            for (var t = next; t < end; t++)
            {
                var row = logits.AsSpan((t - 1 - start) * 256, 256);
                scores[t - 1] = new TokenScore(offsets[t - 1], bytes[t - 1], row[(int)ids[t]] - LogSumExp(row));
            }

            next = end;
        }

        return scores;
    }

    private async Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _sent);
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await Task.Run(work, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    private float[] Forward(long[] ids)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
        using var outputs = _session.Run(_run, ["input_ids"], [input], ["logits"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    // The UTF-16 offset of the character each UTF-8 byte belongs to.
    private static int[] Offsets(string text, int byteCount)
    {
        var offsets = new int[byteCount];
        var b = 0;
        for (var i = 0; i < text.Length && b < byteCount;)
        {
            var width = char.IsSurrogatePair(text, i) ? 2 : 1;
            var n = Encoding.UTF8.GetByteCount(text.AsSpan(i, width));
            for (var k = 0; k < n && b < byteCount; k++) offsets[b++] = i;
            i += width;
        }

        return offsets;
    }

    private static double LogSumExp(ReadOnlySpan<float> row)
    {
        var max = float.NegativeInfinity;
        foreach (var v in row) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in row) sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        var best = 0;
        for (var i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    private int Sample(ReadOnlySpan<float> row, double temperature, double[] weights)
    {
        var max = float.NegativeInfinity;
        foreach (var v in row) max = Math.Max(max, v);
        double sum = 0;
        for (var i = 0; i < row.Length; i++) sum += weights[i] = i == _bos ? 0 : Math.Exp((row[i] - max) / temperature);
        double draw;
        lock (_randomLock) draw = _random.NextDouble() * sum;
        for (var i = 0; i < row.Length; i++)
        {
            draw -= weights[i];
            if (draw <= 0) return i;
        }

        return ArgMax(row);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _session.Dispose();
        _run.Dispose();
        _slots.Dispose();
    }
}
