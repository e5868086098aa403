using Microsoft.ML.OnnxRuntime;

namespace Drydock.Semantic;

/// <summary>
/// Runs all-MiniLM-L6-v2 in process with ONNX Runtime: a text becomes one 384-dimensional, L2-normalised embedding per
/// window (mean of the token states, as sentence-transformers pools). Windows follow sentences: consecutive sentences
/// are packed into a window until it holds <see cref="WindowFill"/> word pieces or the next sentence would pass
/// <see cref="WindowTokens"/>, so one attack sentence after a long document shares its window with one or two
/// sentences at most, not with a page. A sentence longer than a window is cut into windows that overlap by
/// <see cref="WindowTokens"/> − 2 − <see cref="Stride"/> pieces. Past <see cref="MaxWindows"/> windows only the first
/// and the last ones are encoded (an attack appended to a long document is still seen). Thread-safe: one session serves
/// every thread.
/// </summary>
public sealed class SentenceEncoder : IDisposable
{
    /// <summary>Most word pieces of a window, [CLS] and [SEP] included.</summary>
    public const int WindowTokens = 64;

    /// <summary>Word pieces at which a window takes no further sentence.</summary>
    public const int WindowFill = 32;

    /// <summary>Word pieces between the starts of two windows of one long sentence.</summary>
    public const int Stride = 46;

    /// <summary>Most windows encoded for one text (the first ones and the last <see cref="TailWindows"/>).</summary>
    public const int MaxWindows = 32;

    /// <summary>Windows at the end of a text that are always encoded.</summary>
    public const int TailWindows = 8;

    /// <summary>Dimensions of an embedding.</summary>
    public const int Dimensions = 384;

    private static readonly string[] s_inputs = ["input_ids", "attention_mask"];
    private static readonly string[] s_inputsWithTypes = ["input_ids", "attention_mask", "token_type_ids"];
    private static readonly RunOptions s_runOptions = new();

    private readonly InferenceSession _session;
    private readonly WordPieceTokenizer _tokenizer;
    private readonly bool _needsTypeIds;
    private readonly string _output;

    /// <summary>Loads the encoder from its model file; a session that cannot be made is a <see cref="SemanticModelException"/>.</summary>
    public SentenceEncoder(EncoderModelFile file, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(file);
        _tokenizer = new WordPieceTokenizer(file.Vocabulary);
        using var options = new SessionOptions
        {
            IntraOpNumThreads = Math.Max(1, threads),
            InterOpNumThreads = 1,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        try
        {
            _session = new InferenceSession(file.Onnx, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new SemanticModelException($"{file.Path}: ONNX Runtime cannot load the encoder ({e.Message}).", e);
        }

        _needsTypeIds = _session.InputMetadata.ContainsKey("token_type_ids");
        _output = _session.OutputMetadata.Keys.First();
        if (!_session.InputMetadata.ContainsKey("input_ids") || !_session.InputMetadata.ContainsKey("attention_mask"))
        {
            _session.Dispose();
            throw new SemanticModelException($"{file.Path}: the encoder does not take input_ids and attention_mask.");
        }
    }

    /// <summary>The tokenizer of this encoder.</summary>
    public WordPieceTokenizer Tokenizer => _tokenizer;

    /// <summary>
    /// Encodes the windows of a text. Returns one embedding per window (each <see cref="Dimensions"/> floats) and, for each,
    /// the character range it covers. An empty or whitespace-only text has no windows and costs nothing.
    /// </summary>
    public IReadOnlyList<(float[] Embedding, int Start, int End)> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text)) return [];
        var ids = new List<int>(Math.Min(text.Length / 3, 8192));
        var starts = new List<int>(ids.Capacity);
        _tokenizer.Tokenize(text, ids, starts);
        if (ids.Count == 0) return [];
        var windows = Windows(text, starts);
        var longest = windows.Max(w => w.Length) + 2;
        var batch = windows.Count;
        // Flat input buffers handed to ONNX Runtime without a copy; the output is read as one span.
        var inputIds = new long[batch * longest];
        var mask = new long[batch * longest];
        for (var b = 0; b < batch; b++)
        {
            var (first, length) = windows[b];
            var row = b * longest;
            inputIds[row] = _tokenizer.Cls;
            for (var t = 0; t < length; t++) inputIds[row + t + 1] = ids[first + t];
            inputIds[row + length + 1] = _tokenizer.Sep;
            mask.AsSpan(row, length + 2).Fill(1);
            if (_tokenizer.Pad != 0) inputIds.AsSpan(row + length + 2, longest - length - 2).Fill(_tokenizer.Pad);
        }

        long[] shape = [batch, longest];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(inputIds, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var typesValue = _needsTypeIds ? OrtValue.CreateTensorValueFromMemory(new long[batch * longest], shape) : null;
        var names = _needsTypeIds ? s_inputsWithTypes : s_inputs;
        OrtValue[] values = _needsTypeIds ? [idsValue, maskValue, typesValue!] : [idsValue, maskValue];
        using var results = _session.Run(s_runOptions, names, values, [_output]);
        var hidden = results[0].GetTensorDataAsSpan<float>();
        var output = new List<(float[], int, int)>(batch);
        for (var b = 0; b < batch; b++)
        {
            var (first, length) = windows[b];
            var embedding = new float[Dimensions];
            var tokens = hidden.Slice(b * longest * Dimensions, (length + 2) * Dimensions);
            for (var t = 0; t < length + 2; t++)
            {
                var state = tokens.Slice(t * Dimensions, Dimensions);
                for (var d = 0; d < Dimensions; d++) embedding[d] += state[d];
            }

            var norm = 0.0;
            for (var d = 0; d < Dimensions; d++)
            {
                embedding[d] /= length + 2;
                norm += embedding[d] * embedding[d];
            }

            var scale = (float)(1 / Math.Max(Math.Sqrt(norm), 1e-12));
            for (var d = 0; d < Dimensions; d++) embedding[d] *= scale;
            var lastToken = first + length - 1;
            var end = lastToken + 1 < starts.Count ? starts[lastToken + 1] : text.Length;
            output.Add((embedding, starts[first], Math.Max(end, starts[first] + 1)));
        }

        return output;
    }

    /// <summary>The windows (first piece, count) that cover the word pieces of <paramref name="text"/> (their start offsets).</summary>
    internal static List<(int First, int Length)> Windows(string text, IReadOnlyList<int> starts)
    {
        const int content = WindowTokens - 2;
        var all = new List<(int First, int Length)>();
        var first = 0;
        var length = 0;
        foreach (var (sentence, count) in Sentences(text, starts))
        {
            if (length > 0 && (length >= WindowFill || length + count > content))
            {
                all.Add((first, length));
                length = 0;
            }

            if (count > content)
            {
                for (var f = sentence; ; f += Stride)
                {
                    all.Add((f, Math.Min(content, sentence + count - f)));
                    if (f + content >= sentence + count) break;
                }

                continue;
            }

            if (length == 0) first = sentence;
            length += count;
        }

        if (length > 0) all.Add((first, length));
        if (all.Count <= MaxWindows) return all;
        return [.. all.Take(MaxWindows - TailWindows), .. all.Skip(all.Count - TailWindows)];
    }

    // Sentences as (first piece, count): a sentence ends after a '.', '!', '?' or '。' piece followed by white space
    // (or the end), and before a piece with a line break ahead of it.
    private static IEnumerable<(int First, int Count)> Sentences(string text, IReadOnlyList<int> starts)
    {
        var first = 0;
        for (var i = 0; i < starts.Count; i++)
        {
            var next = i + 1 < starts.Count ? starts[i + 1] : text.Length;
            var c = text[starts[i]];
            var ends = i + 1 == starts.Count
                || (c == '。' || (c is '.' or '!' or '?' && starts[i] + 1 < text.Length && char.IsWhiteSpace(text[starts[i] + 1])))
                || text.AsSpan(starts[i], next - starts[i]).Contains('\n');
            if (!ends) continue;
            yield return (first, i + 1 - first);
            first = i + 1;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();
}
