using System.Buffers.Binary;

namespace Drydock.Semantic;

/// <summary>
/// The classification head of the semantic injection stage: a logistic regression over the encoder's embedding,
/// trained by <c>bench/Drydock.Benchmarks train-semantic</c> and shipped inside this assembly. <see cref="Threshold"/>
/// reports a text; below <see cref="Veto"/> a text's lexical injection findings are withdrawn (it talks about
/// instructions or attacks without being one). Immutable and thread-safe.
/// </summary>
public sealed class InjectionHead
{
    private const uint Magic = 0x48534444; // "DDSH"
    private const int Version = 1;
    private const string ResourceName = "Drydock.Semantic.Models.semantic-injection-head.bin";

    private readonly float[] _weights;

    /// <summary>Creates a head from its parts.</summary>
    public InjectionHead(float[] weights, float bias, float threshold, float veto)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Length != SentenceEncoder.Dimensions) throw new ArgumentException($"A head has {SentenceEncoder.Dimensions} weights.", nameof(weights));
        _weights = [.. weights];
        Bias = bias;
        Threshold = threshold;
        Veto = veto;
    }

    /// <summary>The intercept.</summary>
    public float Bias { get; }

    /// <summary>The probability at or above which a text is reported.</summary>
    public float Threshold { get; }

    /// <summary>The probability below which a text's lexical injection findings are withdrawn.</summary>
    public float Veto { get; }

    /// <summary>The weights, one per embedding dimension.</summary>
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
        const int header = 24;
        if (data.Length != header + (SentenceEncoder.Dimensions * 4) || BinaryPrimitives.ReadUInt32LittleEndian(data) != Magic
            || BinaryPrimitives.ReadInt32LittleEndian(data[4..]) != Version || BinaryPrimitives.ReadInt32LittleEndian(data[8..]) != SentenceEncoder.Dimensions)
        {
            throw new SemanticModelException("Not a semantic injection head of this version (wrong size or header).");
        }

        var threshold = BinaryPrimitives.ReadSingleLittleEndian(data[12..]);
        var veto = BinaryPrimitives.ReadSingleLittleEndian(data[16..]);
        var bias = BinaryPrimitives.ReadSingleLittleEndian(data[20..]);
        var weights = new float[SentenceEncoder.Dimensions];
        for (var i = 0; i < weights.Length; i++) weights[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(header + (i * 4))..]);
        if (!float.IsFinite(threshold) || !float.IsFinite(veto) || !float.IsFinite(bias) || weights.Any(w => !float.IsFinite(w)))
        {
            throw new SemanticModelException("The semantic injection head holds a value that is not a number.");
        }

        return new InjectionHead(weights, bias, threshold, veto);
    }

    /// <summary>Writes the head (the same head gives the same bytes).</summary>
    public void Write(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var data = new byte[24 + (SentenceEncoder.Dimensions * 4)];
        BinaryPrimitives.WriteUInt32LittleEndian(data, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(4), Version);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(8), SentenceEncoder.Dimensions);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(12), Threshold);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(16), Veto);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(20), Bias);
        for (var i = 0; i < _weights.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(24 + (i * 4)), _weights[i]);
        stream.Write(data);
    }

    /// <summary>The probability that an embedded window is an injection or jailbreak.</summary>
    public float Probability(ReadOnlySpan<float> embedding)
    {
        var score = Bias;
        for (var i = 0; i < _weights.Length; i++) score += _weights[i] * embedding[i];
        return 1f / (1f + MathF.Exp(-score));
    }
}
