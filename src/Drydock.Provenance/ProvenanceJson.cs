using System.Text.Json.Serialization;
using Drydock.Provenance.Registry;

namespace Drydock.Provenance;

/// <summary>Source-generated JSON for registry columns (AOT-safe).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(ModelFile[]))]
[JsonSerializable(typeof(Dictionary<string, double>))]
internal sealed partial class ProvenanceJson : JsonSerializerContext;
