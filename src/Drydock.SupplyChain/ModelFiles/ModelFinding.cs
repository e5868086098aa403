using Drydock.Detection;

namespace Drydock.SupplyChain.ModelFiles;

/// <summary>
/// A problem in a model file: category <c>malware</c> for what would run code when the file is loaded (a pickle
/// callable off the allow-list, a Keras Lambda layer, an ONNX path out of the model folder), category
/// <c>model-file</c> for a structure that is malformed or inconsistent. <see cref="Entry"/> names the member of an
/// archive; <see cref="Offset"/> is the byte offset in that member (or file) where it was seen.
/// </summary>
public sealed record ModelFinding(string File, string? Entry, long Offset, string Category, string Type, Severity Severity, string Message)
{
    /// <summary>The category of structural problems.</summary>
    public const string ModelFileCategory = "model-file";
}

/// <summary>What a scanner reports about one file.</summary>
public sealed record ModelFileReport(string File, string Kind, long Bytes, string Sha256, IReadOnlyList<ModelFinding> Findings);
