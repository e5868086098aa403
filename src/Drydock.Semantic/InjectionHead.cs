using System.Buffers.Binary;

namespace Drydock.Semantic;

/// <summary>
/// The classification head of the semantic injection stage over the encoder's embedding: a logistic regression, or a
/// small network with one hidden layer of rectified units and a logistic output. Trained by
/// <c>bench/Drydock.Benchmarks train-semantic</c> and shipped inside this assembly. <see cref="Threshold"/> reports a
/// text; below <see cref="Veto"/> a text's lexical injection findings are withdrawn (it talks about instructions or
/// attacks without being one). Immutable and thread-safe.
/// </summary>
public sealed class InjectionHead
{
    private const uint Magic = 0x48534444; // "DDSH"
    private const int Version = 2;
    private const int Header = 24;
    private const int MaxHidden = 1024;
    private const string ResourceName = "Drydock.Semantic.Models.semantic-injection-head.bin";

    // Hidden layer: Hidden rows of Dimensions weights, then Hidden biases (both empty for a logistic head).
    private readonly float[] _hiddenWeights;
    private readonly float[] _hiddenBiases;
    private readonly float[] _weights;

    /// <summary>Creates a logistic head: one weight per embedding dimension and a bias.</summary>
    public InjectionHead(float[] weights, float bias, float threshold, float veto)
        : this([], [], weights, bias, threshold, veto)
    {
    }

    /// <summary>
    /// Creates a head with one hidden layer: <paramref name="hiddenWeights"/> holds one row of
    /// <see cref="SentenceEncoder.Dimensions"/> weights per hidden unit, <paramref name="weights"/> one output weight per
    /// hidden unit.
    /// </summary>
    public InjectionHead(float[] hiddenWeights, float[] hiddenBiases, float[] weights, float bias, float threshold, float veto)
    {
        ArgumentNullException.ThrowIfNull(hiddenWeights);
        ArgumentNullException.ThrowIfNull(hiddenBiases);
        ArgumentNullException.ThrowIfNull(weights);
        var hidden = hiddenBiases.Length;
        if (hidden > MaxHidden || hiddenWeights.Length != hidden * SentenceEncoder.Dimensions)
        {
            throw new ArgumentException($"A hidden layer has at most {MaxHidden} units of {SentenceEncoder.Dimensions} weights each.", nameof(hiddenWeights));
        }

        if (weights.Length != (hidden == 0 ? SentenceEncoder.Dimensions : hidden))
        {
            throw new ArgumentException("A head has one output weight per embedding dimension, or per hidden unit.", nameof(weights));
        }

        _hiddenWeights = [.. hiddenWeights];
        _hiddenBiases = [.. hiddenBiases];
        _weights = [.. weights];
        Bias = bias;
        Threshold = threshold;
        Veto = veto;
    }

    /// <summary>The output layer's intercept.</summary>
    public float Bias { get; }

    /// <summary>The probability at or above which a text is reported.</summary>
    public float Threshold { get; }

    /// <summary>The probability below which a text's lexical injection findings are withdrawn.</summary>
    public float Veto { get; }

    /// <summary>Units of the hidden layer; 0 for a logistic head.</summary>
    public int HiddenUnits => _hiddenBiases.Length;

    /// <summary>The output layer's weights, one per embedding dimension (logistic head) or per hidden unit.</summary>
    public ReadOnlySpan<float> Weights => _weights;

    /// <summary>Loads the head shipped with Drydock.</summary>
    public static InjectionHead LoadBuiltIn()
    {
        using var stream = typeof(InjectionHead).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new SemanticModelException($"The built-in semantic injection head ({ResourceName}) is missing from the assembly.");
        return Read(stream);
    }

    /// <summary>Reads a head written by <see cref="Write"/>.</summary>
    public static InjectionHead Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        var data = memory.GetBuffer().AsSpan(0, (int)memory.Length);
        var hidden = data.Length >= Header ? BinaryPrimitives.ReadInt32LittleEndian(data[12..]) : -1;
        if (data.Length < Header || BinaryPrimitives.ReadUInt32LittleEndian(data) != Magic || BinaryPrimitives.ReadInt32LittleEndian(data[4..]) != Version
            || BinaryPrimitives.ReadInt32LittleEndian(data[8..]) != SentenceEncoder.Dimensions || hidden is < 0 or > MaxHidden
            || data.Length != Header + (Values(hidden) * 4))
        {
            throw new SemanticModelException("Not a semantic injection head of this version (wrong size or header).");
        }

        var threshold = BinaryPrimitives.ReadSingleLittleEndian(data[16..]);
        var veto = BinaryPrimitives.ReadSingleLittleEndian(data[20..]);
        var values = new float[Values(hidden)];
        for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(Header + (i * 4))..]);
        if (!float.IsFinite(threshold) || !float.IsFinite(veto) || values.Any(v => !float.IsFinite(v)))
        {
            throw new SemanticModelException("The semantic injection head holds a value that is not a number.");
        }

        var span = values.AsSpan();
        var hiddenWeights = span[..(hidden * SentenceEncoder.Dimensions)].ToArray();
        span = span[hiddenWeights.Length..];
        var hiddenBiases = span[..hidden].ToArray();
        span = span[hidden..];
        var weights = span[..^1].ToArray();
        return new InjectionHead(hiddenWeights, hiddenBiases, weights, span[^1], threshold, veto);
    }

    /// <summary>Writes the head (the same head gives the same bytes).</summary>
    public void Write(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var data = new byte[Header + (Values(HiddenUnits) * 4)];
        BinaryPrimitives.WriteUInt32LittleEndian(data, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(4), Version);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(8), SentenceEncoder.Dimensions);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(12), HiddenUnits);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(16), Threshold);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(20), Veto);
        var offset = Header;
        foreach (var v in _hiddenWeights.Concat(_hiddenBiases).Concat(_weights).Append(Bias))
        {
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(offset), v);
            offset += 4;
        }

        stream.Write(data);
    }

    /// <summary>The probability that an embedded window is an injection or jailbreak.</summary>
    public float Probability(ReadOnlySpan<float> embedding)
    {
        if (embedding.Length != SentenceEncoder.Dimensions) throw new ArgumentException($"An embedding has {SentenceEncoder.Dimensions} values.", nameof(embedding));
        var score = Bias;
        if (HiddenUnits == 0)
        {
            for (var i = 0; i < _weights.Length; i++) score += _weights[i] * embedding[i];
        }
        else
        {
            for (var h = 0; h < _hiddenBiases.Length; h++)
            {
                var row = _hiddenWeights.AsSpan(h * SentenceEncoder.Dimensions, SentenceEncoder.Dimensions);
                var a = _hiddenBiases[h];
                for (var i = 0; i < row.Length; i++) a += row[i] * embedding[i];
                if (a > 0) score += _weights[h] * a;
            }
        }

        return 1f / (1f + MathF.Exp(-score));
    }

    /// <summary>The same head with another threshold and veto.</summary>
    internal InjectionHead WithLimits(float threshold, float veto) => new(_hiddenWeights, _hiddenBiases, _weights, Bias, threshold, veto);

    // Values after the header: hidden weights and biases, output weights, output bias.
    private static int Values(int hidden) =>
        hidden == 0 ? SentenceEncoder.Dimensions + 1 : (hidden * SentenceEncoder.Dimensions) + hidden + hidden + 1;
}
