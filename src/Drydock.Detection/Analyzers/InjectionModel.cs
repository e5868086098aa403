using System.Buffers.Binary;

namespace Drydock.Detection.Analyzers;

/// <summary>
/// The trained injection classifier: a logistic regression over <see cref="InjectionFeatures"/>, stored as its
/// non-zero weights. It is trained with ML.NET by <c>bench/Drydock.Benchmarks train-injection</c> and shipped inside
/// this assembly, so it loads offline and scores without any ML runtime. Immutable and thread-safe.
/// </summary>
public sealed class InjectionModel
{
    private const uint Magic = 0x4D494444; // "DDIM"
    private const int Version = 1;
    private const string ResourceName = "Drydock.Detection.Models.injection-classifier.bin";

    private readonly Dictionary<int, float> _weights;

    /// <summary>Creates a model from its parts.</summary>
    public InjectionModel(IReadOnlyDictionary<int, float> weights, float bias, float threshold)
    {
        ArgumentNullException.ThrowIfNull(weights);
        _weights = weights.Where(kv => kv.Value != 0).ToDictionary(kv => kv.Key, kv => kv.Value);
        Bias = bias;
        Threshold = threshold;
    }

    /// <summary>The intercept.</summary>
    public float Bias { get; }

    /// <summary>The probability at or above which a text is reported.</summary>
    public float Threshold { get; }

    /// <summary>How many weights are non-zero.</summary>
    public int WeightCount => _weights.Count;

    /// <summary>The weight of one feature index (0 when absent).</summary>
    public float Weight(int index) => _weights.GetValueOrDefault(index);

    /// <summary>Loads the model shipped with Drydock.</summary>
    public static InjectionModel LoadBuiltIn()
    {
        using var stream = typeof(InjectionModel).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The built-in injection model ({ResourceName}) is missing from the assembly.");
        return Read(stream);
    }

    /// <summary>Reads a model file written by <see cref="Write"/>.</summary>
    public static InjectionModel Read(Stream stream)
    {
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        var data = memory.GetBuffer().AsSpan(0, (int)memory.Length);
        if (data.Length < 24 || BinaryPrimitives.ReadUInt32LittleEndian(data) != Magic || BinaryPrimitives.ReadInt32LittleEndian(data[4..]) != Version
            || BinaryPrimitives.ReadInt32LittleEndian(data[8..]) != InjectionFeatures.Bits)
        {
            throw new InvalidDataException("Not an injection model of this version.");
        }

        var threshold = BinaryPrimitives.ReadSingleLittleEndian(data[12..]);
        var bias = BinaryPrimitives.ReadSingleLittleEndian(data[16..]);
        var count = BinaryPrimitives.ReadInt32LittleEndian(data[20..]);
        if (count < 0 || data.Length != 24 + (count * 8L))
        {
            throw new InvalidDataException("Injection model is truncated.");
        }

        var weights = new Dictionary<int, float>(count);
        for (var i = 0; i < count; i++)
        {
            var entry = data.Slice(24 + (i * 8), 8);
            weights[BinaryPrimitives.ReadInt32LittleEndian(entry)] = BinaryPrimitives.ReadSingleLittleEndian(entry[4..]);
        }

        return new InjectionModel(weights, bias, threshold);
    }

    /// <summary>Writes the model (weights sorted by index, so the same model gives the same bytes).</summary>
    public void Write(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var header = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), Version);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), InjectionFeatures.Bits);
        BinaryPrimitives.WriteSingleLittleEndian(header.AsSpan(12), Threshold);
        BinaryPrimitives.WriteSingleLittleEndian(header.AsSpan(16), Bias);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(20), _weights.Count);
        stream.Write(header);
        var entry = new byte[8];
        foreach (var (index, weight) in _weights.OrderBy(kv => kv.Key))
        {
            BinaryPrimitives.WriteInt32LittleEndian(entry, index);
            BinaryPrimitives.WriteSingleLittleEndian(entry.AsSpan(4), weight);
            stream.Write(entry);
        }
    }

    /// <summary>The probability that a featurized text is an injection or jailbreak.</summary>
    public float Probability(List<int> indices, float ngramValue, List<int> metaIndices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(metaIndices);
        var score = Bias;
        foreach (var index in indices)
        {
            if (_weights.TryGetValue(index, out var w)) score += w * ngramValue;
        }

        foreach (var index in metaIndices)
        {
            if (_weights.TryGetValue(index, out var w)) score += w;
        }

        return 1f / (1f + MathF.Exp(-score));
    }
}
