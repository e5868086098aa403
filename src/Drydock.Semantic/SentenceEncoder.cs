using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Drydock.Semantic;

/// <summary>
/// Runs all-MiniLM-L6-v2 in process with ONNX Runtime: a text becomes one 384-dimensional, L2-normalised embedding per
/// window of <see cref="WindowTokens"/> word pieces (mean of the token states, as sentence-transformers pools). Long
/// texts are cut into windows that overlap by <see cref="WindowTokens"/> − <see cref="Stride"/> pieces, so every
/// sentence is seen whole in some window; past <see cref="MaxWindows"/> windows only the first and the last ones are
/// encoded (an attack appended to a long document is still seen). Thread-safe: one session serves every thread.
/// </summary>
public sealed class SentenceEncoder : IDisposable
{
    /// <summary>Word pieces per window, [CLS] and [SEP] included.</summary>
    public const int WindowTokens = 128;

    /// <summary>Word pieces between the starts of two windows.</summary>
    public const int Stride = 96;

    /// <summary>Most windows encoded for one text (the first ones and the last <see cref="TailWindows"/>).</summary>
    public const int MaxWindows = 32;

    /// <summary>Windows at the end of a text that are always encoded.</summary>
    public const int TailWindows = 8;

    /// <summary>Dimensions of an embedding.</summary>
    public const int Dimensions = 384;

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
        var windows = Windows(ids.Count);
        var longest = windows.Max(w => w.Length) + 2;
        var batch = windows.Count;
        var inputIds = new DenseTensor<long>([batch, longest]);
        var mask = new DenseTensor<long>([batch, longest]);
        var types = new DenseTensor<long>([batch, longest]);
        for (var b = 0; b < batch; b++)
        {
            var (first, length) = windows[b];
            inputIds[b, 0] = _tokenizer.Cls;
            mask[b, 0] = 1;
            for (var t = 0; t < length; t++)
            {
                inputIds[b, t + 1] = ids[first + t];
                mask[b, t + 1] = 1;
            }

            inputIds[b, length + 1] = _tokenizer.Sep;
            mask[b, length + 1] = 1;
            for (var t = length + 2; t < longest; t++) inputIds[b, t] = _tokenizer.Pad;
        }

        var inputs = new List<NamedOnnxValue>(3)
        {
            NamedOnnxValue.CreateFromTensor("input_ids", inputIds),
            NamedOnnxValue.CreateFromTensor("attention_mask", mask),
        };
        if (_needsTypeIds) inputs.Add(NamedOnnxValue.CreateFromTensor("token_type_ids", types));
        using var results = _session.Run(inputs, [_output]);
        var hidden = results[0].AsTensor<float>();
        var output = new List<(float[], int, int)>(batch);
        for (var b = 0; b < batch; b++)
        {
            var (first, length) = windows[b];
            var embedding = new float[Dimensions];
            for (var t = 0; t < length + 2; t++)
            {
                for (var d = 0; d < Dimensions; d++) embedding[d] += hidden[b, t, d];
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

    /// <summary>The windows (first piece, count) that cover <paramref name="count"/> word pieces.</summary>
    internal static List<(int First, int Length)> Windows(int count)
    {
        var content = WindowTokens - 2;
        var all = new List<(int, int)>();
        for (var first = 0; ; first += Stride)
        {
            all.Add((first, Math.Min(content, count - first)));
            if (first + content >= count) break;
        }

        if (all.Count <= MaxWindows) return all;
        return [.. all.Take(MaxWindows - TailWindows), .. all.Skip(all.Count - TailWindows)];
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();
}
