using Drydock.Detection.Analyzers;

namespace Drydock.Semantic;

/// <summary>
/// The semantic second stage for prompt injection: the sentence encoder embeds each window of a text and the trained
/// <see cref="InjectionHead"/> scores it; a text scores as its most suspicious window. Made once at start-up; a
/// missing or corrupt model file or head stops it there with a <see cref="SemanticModelException"/>.
/// </summary>
public sealed class SemanticInjectionJudge : IInjectionJudge, IDisposable
{
    private readonly SentenceEncoder _encoder;
    private readonly InjectionHead _head;

    /// <summary>Creates the judge from an encoder and a head.</summary>
    public SemanticInjectionJudge(SentenceEncoder encoder, InjectionHead head)
    {
        _encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        _head = head ?? throw new ArgumentNullException(nameof(head));
    }

    /// <summary>The encoder.</summary>
    public SentenceEncoder Encoder => _encoder;

    /// <summary>The head.</summary>
    public InjectionHead Head => _head;

    /// <inheritdoc />
    public float Threshold => _head.Threshold;

    /// <inheritdoc />
    public float Veto => _head.Veto;

    /// <summary>Loads the shipped encoder (from <paramref name="modelPath"/> or its default place) and head.</summary>
    public static SemanticInjectionJudge Load(string? modelPath = null, int threads = 1)
    {
        var head = InjectionHead.LoadBuiltIn();
        return new SemanticInjectionJudge(new SentenceEncoder(EncoderModelFile.Load(modelPath), threads), head);
    }

    /// <inheritdoc />
    public InjectionJudgement Judge(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var best = new InjectionJudgement(0, 0, 0);
        // Key bodies, hashes and encoded blobs are judged as blank (offsets kept): the head scores random base64 as an
        // attack, so a prompt carrying a key would be an injection finding whatever its words. So is every span a secret
        // rule's pattern matches, of any length: "Ref: AKIAIOSFODNN7EXAMPLE." (20 characters) scored 0.98.
        foreach (var (embedding, start, end) in _encoder.Encode(SecretShapes.Blank(InjectionFeatures.WithoutNoise(text))))
        {
            var p = _head.Probability(embedding);
            if (p > best.Probability) best = new InjectionJudgement(p, start, end);
        }

        return best;
    }

    /// <inheritdoc />
    public void Dispose() => _encoder.Dispose();
}
