using System.Buffers.Binary;
using System.Text.Json;
using Drydock.Detection;

namespace Drydock.SupplyChain.ModelFiles;

/// <summary>
/// safetensors: an 8-byte little-endian header length, a JSON header, then the data. Checks the length against the
/// file, the JSON, every tensor's dtype, shape and offsets against the data section (size = product of the shape ×
/// the dtype's size), overlapping or out-of-range tensors, gaps, and the metadata's size and types.
/// </summary>
public static class SafetensorsScanner
{
    private const long MaxHeader = 100L << 20;
    private const int MaxMetadata = 1 << 20;

    private static readonly Dictionary<string, int> s_sizes = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E5M2"] = 1, ["F8_E4M3"] = 1, ["I16"] = 2, ["U16"] = 2, ["F16"] = 2, ["BF16"] = 2,
        ["I32"] = 4, ["U32"] = 4, ["F32"] = 4, ["I64"] = 8, ["U64"] = 8, ["F64"] = 8, ["C64"] = 8,
    };

    /// <summary>Checks a safetensors file given its first bytes (at least the header) and its total length.</summary>
    public static List<ModelFinding> Scan(Stream stream, long length, string file, string? entry)
    {
        var findings = new List<ModelFinding>();
        void Find(string type, Severity severity, string message, long offset = 0) => findings.Add(new ModelFinding(file, entry, offset, ModelFinding.ModelFileCategory, type, severity, message));

        Span<byte> prefix = stackalloc byte[8];
        if (length < 8 || stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
        {
            Find("safetensors-truncated", Severity.High, "shorter than the 8-byte header length");
            return findings;
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)Math.Min(MaxHeader, length - 8))
        {
            Find("safetensors-header-length", Severity.High, $"header length {headerLength} is beyond the file ({length} bytes) or the 100 MiB limit");
            return findings;
        }

        var header = new byte[headerLength];
        stream.ReadExactly(header);
        var dataLength = length - 8 - (long)headerLength;
        if (!System.Text.Unicode.Utf8.IsValid(header))
        {
            Find("safetensors-header-json", Severity.High, "the header is not valid UTF-8", 8);
            return findings;
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            Find("safetensors-header-json", Severity.High, $"the header is not JSON: {e.Message}", 8);
            return findings;
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                Find("safetensors-header-json", Severity.High, "the header is not a JSON object", 8);
                return findings;
            }

            var spans = new List<(long Begin, long End, string Name)>();
            foreach (var tensor in doc.RootElement.EnumerateObject())
            {
                if (tensor.Name == "__metadata__")
                {
                    if (tensor.Value.ValueKind != JsonValueKind.Object || tensor.Value.EnumerateObject().Any(p => p.Value.ValueKind != JsonValueKind.String))
                    {
                        Find("safetensors-metadata", Severity.Medium, "__metadata__ must map strings to strings", 8);
                    }
                    else if (tensor.Value.GetRawText().Length > MaxMetadata)
                    {
                        Find("safetensors-metadata", Severity.Medium, "__metadata__ is larger than 1 MiB", 8);
                    }

                    continue;
                }

                var problem = Check(tensor.Value, dataLength, out var begin, out var end);
                if (problem is not null) Find("safetensors-tensor", Severity.High, $"tensor '{Clip(tensor.Name)}': {problem}", 8);
                else spans.Add((begin, end, tensor.Name));
            }

            spans.Sort((a, b) => a.Begin.CompareTo(b.Begin));
            long covered = 0;
            for (var i = 0; i < spans.Count; i++)
            {
                if (i > 0 && spans[i].Begin < spans[i - 1].End) Find("safetensors-overlap", Severity.High, $"tensors '{Clip(spans[i - 1].Name)}' and '{Clip(spans[i].Name)}' overlap", 8);
                covered = Math.Max(covered, spans[i].End);
            }

            if (findings.Count == 0 && covered != dataLength) Find("safetensors-slack", Severity.Medium, $"{dataLength - covered} bytes after the last tensor belong to none (room for a hidden payload)", 8 + (long)headerLength + covered);
        }

        return findings;
    }

    private static string? Check(JsonElement tensor, long dataLength, out long begin, out long end)
    {
        begin = end = 0;
        if (tensor.ValueKind != JsonValueKind.Object) return "not an object";
        if (!tensor.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String || !s_sizes.TryGetValue(dtype.GetString()!, out var size)) return "unknown or missing dtype";
        if (!tensor.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array) return "missing shape";
        Int128 elements = 1;
        foreach (var d in shape.EnumerateArray())
        {
            if (!d.TryGetInt64(out var dim) || dim < 0) return "shape holds a negative or non-integer dimension";
            elements *= dim;
            if (elements > long.MaxValue) return "shape overflows";
        }

        if (!tensor.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !offsets[0].TryGetInt64(out begin) || !offsets[1].TryGetInt64(out end))
        {
            return "data_offsets must be [begin, end]";
        }

        if (begin < 0 || end < begin || end > dataLength) return $"data_offsets [{begin}, {end}] outside the data section ({dataLength} bytes)";
        if (elements * size != end - begin) return $"shape and dtype need {elements * size} bytes, data_offsets give {end - begin}";
        return null;
    }

    private static string Clip(string s) => s.Length <= 80 ? s : s[..79] + "…";
}
