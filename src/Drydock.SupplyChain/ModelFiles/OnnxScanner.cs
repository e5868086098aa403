using System.Text;
using Drydock.Detection;

namespace Drydock.SupplyChain.ModelFiles;

/// <summary>
/// ONNX (protobuf, read at the wire level): the graph's initializers whose external data points outside the model
/// folder (absolute paths, "..", drive letters), and nodes or opset imports from operator domains other than the
/// standard ones (a custom-op library, native code, is needed to load them). Subgraphs are followed.
/// </summary>
public static class OnnxScanner
{
    private static readonly HashSet<string> s_standardDomains = new(StringComparer.Ordinal)
    {
        "", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training", "com.microsoft", "com.microsoft.nchwc", "com.microsoft.experimental",
    };

    /// <summary>Checks an ONNX model held in memory (protobuf limits a model to 2 GiB; larger tensors are external).</summary>
    public static List<ModelFinding> Scan(ReadOnlySpan<byte> model, string file, string? entry)
    {
        var findings = new List<ModelFinding>();
        var domains = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var (field, wire, value, at) in Fields(model, 0))
            {
                if (field == 7 && wire == 2) Graph(model.Slice(value.Start, value.Length), value.Start, file, entry, findings, domains, depth: 0);
                if (field == 8 && wire == 2)
                {
                    foreach (var (f, w, v, _) in Fields(model.Slice(value.Start, value.Length), value.Start)) if (f == 1 && w == 2) domains.Add(Str(model, v));
                }
            }
        }
        catch (FormatException e)
        {
            findings.Add(new ModelFinding(file, entry, 0, ModelFinding.ModelFileCategory, "onnx-malformed", Severity.High, $"malformed ONNX protobuf: {e.Message}"));
        }

        foreach (var domain in domains.Where(d => !s_standardDomains.Contains(d)).Order(StringComparer.Ordinal))
        {
            findings.Add(new ModelFinding(file, entry, 0, "malware", "onnx-custom-domain", Severity.Medium, $"operators from domain '{domain}' need a custom-op library (native code) to load"));
        }

        return findings;
    }

    private static void Graph(ReadOnlySpan<byte> whole, int baseOffset, string file, string? entry, List<ModelFinding> findings, HashSet<string> domains, int depth)
    {
        if (depth > 16) throw new FormatException("subgraphs nested deeper than 16");
        foreach (var (field, wire, value, _) in Fields(whole, 0))
        {
            if (wire != 2) continue;
            var body = whole.Slice(value.Start, value.Length);
            if (field == 1) // node
            {
                foreach (var (f, w, v, _) in Fields(body, 0))
                {
                    if (f == 7 && w == 2) domains.Add(Str(body, v));
                    if (f == 5 && w == 2) // attribute: g (6) and graphs (11) are subgraphs
                    {
                        var attribute = body.Slice(v.Start, v.Length);
                        foreach (var (af, aw, av, _) in Fields(attribute, 0))
                        {
                            if ((af == 6 || af == 11) && aw == 2) Graph(attribute.Slice(av.Start, av.Length), baseOffset + value.Start + v.Start + av.Start, file, entry, findings, domains, depth + 1);
                        }
                    }
                }
            }
            else if (field == 5) // initializer (TensorProto): external_data = 13 (key 1, value 2)
            {
                foreach (var (f, w, v, _) in Fields(body, 0))
                {
                    if (f != 13 || w != 2) continue;
                    var pair = body.Slice(v.Start, v.Length);
                    string? key = null, location = null;
                    foreach (var (pf, pw, pv, _) in Fields(pair, 0))
                    {
                        if (pf == 1 && pw == 2) key = Str(pair, pv);
                        if (pf == 2 && pw == 2) location = Str(pair, pv);
                    }

                    if (key == "location" && location is not null && Escapes(location))
                    {
                        findings.Add(new ModelFinding(file, entry, baseOffset + value.Start, "malware", "onnx-external-data-path", Severity.High,
                            $"an initializer's external data is read from '{location}', outside the model folder"));
                    }
                }
            }
        }
    }

    private static bool Escapes(string location)
    {
        var normalized = location.Replace('\\', '/');
        return normalized.StartsWith('/') || normalized.Split('/').Contains("..") || (normalized.Length > 1 && normalized[1] == ':') || normalized.StartsWith("~", StringComparison.Ordinal);
    }

    private static string Str(ReadOnlySpan<byte> data, (int Start, int Length) v) => Encoding.UTF8.GetString(data.Slice(v.Start, Math.Min(v.Length, 4096)));

    // The fields of one message: number, wire type, and for length-delimited ones the span (relative to data).
    private static List<(int Field, int Wire, (int Start, int Length) Value, int At)> Fields(ReadOnlySpan<byte> data, int baseOffset)
    {
        var fields = new List<(int, int, (int, int), int)>();
        var pos = 0;
        while (pos < data.Length)
        {
            var at = pos;
            var key = Varint(data, ref pos);
            var field = (int)(key >> 3);
            var wire = (int)(key & 7);
            if (field <= 0) throw new FormatException($"field number 0 at byte {baseOffset + at}");
            switch (wire)
            {
                case 0: Varint(data, ref pos); fields.Add((field, wire, (0, 0), at)); break;
                case 1: pos += 8; break;
                case 5: pos += 4; break;
                case 2:
                {
                    var length = Varint(data, ref pos);
                    if (length > (ulong)(data.Length - pos)) throw new FormatException($"a field of {length} bytes runs past the end at byte {baseOffset + at}");
                    fields.Add((field, wire, (pos, (int)length), at));
                    pos += (int)length;
                    break;
                }

                default: throw new FormatException($"wire type {wire} at byte {baseOffset + at}");
            }

            if (pos > data.Length) throw new FormatException("truncated");
            if (fields.Count > 10_000_000) throw new FormatException("more than ten million fields");
        }

        return fields;
    }

    private static ulong Varint(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (pos >= data.Length) throw new FormatException("truncated varint");
            var b = data[pos++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return value;
        }

        throw new FormatException("varint longer than 10 bytes");
    }
}
