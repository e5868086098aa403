using System.Buffers.Binary;
using System.Text;
using Drydock.Detection;

namespace Drydock.SupplyChain.ModelFiles;

/// <summary>
/// GGUF: magic, version (1–3), tensor and metadata counts, the metadata key/values (types checked, strings and
/// arrays bounded by the file), the tensor infos, and every tensor's offset (aligned, inside the file).
/// </summary>
public static class GgufScanner
{
    /// <summary>Checks a GGUF file (read whole up to the tensor data: the header is small).</summary>
    public static List<ModelFinding> Scan(Stream stream, long length, string file, string? entry)
    {
        var findings = new List<ModelFinding>();
        var reader = new Reader(stream, length);
        try
        {
            if (reader.Bytes(4) is var magic && !magic.AsSpan().SequenceEqual("GGUF"u8)) throw new FormatException("no GGUF magic");
            var version = reader.U32();
            if (version is < 1 or > 3) throw new FormatException($"unknown version {version}");
            var tensors = version == 1 ? reader.U32() : reader.U64();
            var kvs = version == 1 ? reader.U32() : reader.U64();
            if (tensors > 1_000_000 || kvs > 1_000_000) throw new FormatException($"implausible counts ({tensors} tensors, {kvs} metadata entries)");
            ulong alignment = 32;
            for (ulong i = 0; i < kvs; i++)
            {
                var key = reader.String(version);
                var type = reader.U32();
                var value = reader.Value(type, version, depth: 0);
                if (key == "general.alignment" && value is ulong a) alignment = a;
            }

            if (alignment == 0 || (alignment & (alignment - 1)) != 0) throw new FormatException($"general.alignment {alignment} is not a power of two");
            var infos = new List<(string Name, ulong Offset)>();
            for (ulong i = 0; i < tensors; i++)
            {
                var name = reader.String(version);
                var dims = reader.U32();
                if (dims > 8) throw new FormatException($"tensor '{name}' has {dims} dimensions");
                for (var d = 0; d < dims; d++) _ = version == 1 ? reader.U32() : reader.U64();
                _ = reader.U32(); // type
                infos.Add((name, reader.U64()));
            }

            var dataStart = (reader.Position + (long)alignment - 1) / (long)alignment * (long)alignment;
            foreach (var (name, offset) in infos)
            {
                if (offset % alignment != 0) findings.Add(new ModelFinding(file, entry, reader.Position, ModelFinding.ModelFileCategory, "gguf-tensor", Severity.High, $"tensor '{name}' offset {offset} is not aligned to {alignment}"));
                if ((long)Math.Min(offset, long.MaxValue) > length - dataStart) findings.Add(new ModelFinding(file, entry, reader.Position, ModelFinding.ModelFileCategory, "gguf-tensor", Severity.High, $"tensor '{name}' offset {offset} is beyond the file"));
            }
        }
        catch (Exception e) when (e is FormatException or EndOfStreamException or OverflowException)
        {
            findings.Add(new ModelFinding(file, entry, reader.Position, ModelFinding.ModelFileCategory, "gguf-malformed", Severity.High, $"malformed GGUF at byte {reader.Position}: {e.Message}"));
        }

        return findings;
    }

    private sealed class Reader(Stream stream, long length)
    {
        public long Position { get; private set; }

        public byte[] Bytes(long n)
        {
            if (n < 0 || Position + n > length) throw new EndOfStreamException($"needs {n} bytes, {length - Position} left");
            var b = new byte[n];
            stream.ReadExactly(b);
            Position += n;
            return b;
        }

        public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4));

        public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8));

        public string String(uint version)
        {
            var n = version == 1 ? U32() : U64();
            if (n > 1 << 20) throw new FormatException($"a string of {n} bytes");
            return Encoding.UTF8.GetString(Bytes((long)n));
        }

        public object? Value(uint type, uint version, int depth)
        {
            switch (type)
            {
                case 0 or 1 or 7: return (ulong)Bytes(1)[0];
                case 2 or 3: return (ulong)BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2));
                case 4 or 5: return (ulong)U32();
                case 6: Bytes(4); return null;
                case 8: return String(version);
                case 10 or 11: return U64();
                case 12: Bytes(8); return null;
                case 9:
                {
                    if (depth > 4) throw new FormatException("arrays nested deeper than 4");
                    var itemType = U32();
                    var count = version == 1 ? U32() : U64();
                    if (count > (ulong)(length - Position)) throw new FormatException($"an array of {count} items in {length - Position} bytes");
                    for (ulong i = 0; i < count; i++) Value(itemType, version, depth + 1);
                    return null;
                }

                default: throw new FormatException($"unknown metadata type {type}");
            }
        }
    }
}
