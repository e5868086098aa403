using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using Drydock.SupplyChain.ModelFiles;
using Drydock.SupplyChain.Tests;

namespace Drydock.Bench;

/// <summary>Fuzzing of the model-file parsers and the scan speed on a large PyTorch checkpoint.</summary>
internal static class ModelFileBench
{
    /// <summary>Mutates valid pickles, safetensors, GGUF and ONNX files CASES times each; any exception or a case over 1 s is a failure.</summary>
    public static int Fuzz(int cases)
    {
        var failures = 0;
        failures += Run("pickle", PickleSeeds(), cases, data => PickleScanner.Scan(data, "f", null));
        failures += Run("safetensors", SafetensorsSeeds(), cases, data => SafetensorsScanner.Scan(new MemoryStream(data), data.Length, "f", null));
        failures += Run("gguf", [Gguf()], cases / 5, data => GgufScanner.Scan(new MemoryStream(data), data.Length, "f", null));
        failures += Run("onnx", [Onnx()], cases / 5, data => OnnxScanner.Scan(data, "f", null));
        return failures == 0 ? 0 : 1;
    }

    private static int Run(string name, List<byte[]> seeds, int cases, Action<byte[]> parse)
    {
        var crashes = new ConcurrentBag<string>();
        long slowest = 0;
        var watch = Stopwatch.StartNew();
        Parallel.For(0, Environment.ProcessorCount, worker =>
        {
            var random = new Random(4242 + worker);
            for (var i = worker; i < cases; i += Environment.ProcessorCount)
            {
                var data = Mutate(seeds[random.Next(seeds.Count)], seeds[random.Next(seeds.Count)], random);
                var start = Stopwatch.GetTimestamp();
                try
                {
                    parse(data);
                }
                catch (Exception e)
                {
                    if (crashes.Count < 5) crashes.Add($"{e.GetType().Name}: {e.Message} on {Convert.ToHexString(data.AsSpan(0, Math.Min(64, data.Length)))}");
                    else crashes.Add("");
                }

                var ticks = Stopwatch.GetTimestamp() - start;
                if (ticks > Interlocked.Read(ref slowest)) Interlocked.Exchange(ref slowest, ticks);
            }
        });
        var slowMs = slowest * 1000.0 / Stopwatch.Frequency;
        Console.WriteLine($"| {name} | {cases:N0} | {crashes.Count} | {slowMs:0.00} ms | {watch.Elapsed.TotalSeconds:0.0} s |");
        foreach (var c in crashes.Where(c => c.Length > 0).Take(5)) Console.WriteLine($"    {c}");
        return crashes.Count + (slowMs > 1000 ? 1 : 0);
    }

    private static readonly byte[] s_opcodes = [.. "(.0123NRbchqgpetsu"u8.ToArray(), 0x80, 0x81, 0x85, 0x92, 0x93, 0x94, 0x95];

    private static byte[] Mutate(byte[] seed, byte[] other, Random random)
    {
        var data = new List<byte>(seed);
        for (var round = 0; round < 1 + random.Next(4); round++)
        {
            if (data.Count == 0) data.Add((byte)random.Next(256));
            var at = random.Next(data.Count);
            switch (random.Next(8))
            {
                case 0: data[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: data[at] = (byte)random.Next(256); break;
                case 2: data.InsertRange(at, Enumerable.Range(0, 1 + random.Next(16)).Select(_ => (byte)random.Next(256))); break;
                case 3: data.RemoveRange(at, Math.Min(data.Count - at, 1 + random.Next(16))); break;
                case 4: data.RemoveRange(at, data.Count - at); break; // truncate
                case 5: { var from = random.Next(data.Count); data.InsertRange(at, data.GetRange(from, Math.Min(data.Count - from, 1 + random.Next(32)))); break; } // duplicate a chunk
                case 6: data[at] = s_opcodes[random.Next(s_opcodes.Length)]; break; // a pickle opcode
                default: data.InsertRange(at, other.Skip(random.Next(Math.Max(1, other.Length))).Take(1 + random.Next(64))); break;
            }
        }

        return [.. data];
    }

    private static List<byte[]> PickleSeeds() =>
    [
        new PickleBuilder().Proto(2).Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark().BinUnicode("weight").Global("torch._utils", "_rebuild_tensor_v2")
            .Mark().Mark().BinUnicode("storage").Global("torch", "FloatStorage").BinUnicode("0").BinUnicode("cpu").Int(4).Tuple().Op('Q').Int(0).Int(4).Tuple1().Int(1).Tuple1()
            .Op(0x89).Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple().Reduce().Op('u').Stop().Bytes,
        new PickleBuilder().Proto(4).Op(0x95).Op(BitConverter.GetBytes(30L)).ShortUnicode("posix").Memoize().ShortUnicode("system").Memoize().StackGlobal().Memoize()
            .ShortUnicode("id").Tuple1().Reduce().Stop().Bytes,
        new PickleBuilder().Mark().String0("id").Inst("os", "system").Stop().Bytes,
        new PickleBuilder().Proto(2).ShortUnicode("builtins").BinPut(1).Op('0').ShortUnicode("eval").BinPut(2).Op('0').BinGet(1).BinGet(2).Op(0x93).ShortUnicode("1").Tuple1().Reduce().Stop().Bytes,
        Encoding.ASCII.GetBytes("(dp0\nS'a'\np1\nI1\nsS'b'\np2\n(lp3\nF1.5\naL10L\nas."),
    ];

    private static List<byte[]> SafetensorsSeeds()
    {
        static byte[] Make(string header, int data)
        {
            var h = Encoding.UTF8.GetBytes(header);
            return [.. BitConverter.GetBytes((ulong)h.Length), .. h, .. new byte[data]];
        }

        return
        [
            Make("""{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[4],"data_offsets":[16,24]},"__metadata__":{"format":"pt"}}""", 24),
            Make("""{"w":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}""", 8),
        ];
    }

    private static byte[] Gguf()
    {
        var b = new List<byte>();
        void U32(uint v) => b.AddRange(BitConverter.GetBytes(v));
        void U64(ulong v) => b.AddRange(BitConverter.GetBytes(v));
        void Str(string s) { U64((ulong)s.Length); b.AddRange(Encoding.UTF8.GetBytes(s)); }
        b.AddRange("GGUF"u8.ToArray());
        U32(3); U64(1); U64(3);
        Str("general.architecture"); U32(8); Str("llama");
        Str("general.alignment"); U32(4); U32(32);
        Str("tokenizer.ggml.tokens"); U32(9); U32(8); U64(2); Str("a"); Str("b");
        Str("w"); U32(2); U64(4); U64(2); U32(0); U64(0);
        while (b.Count % 32 != 0) b.Add(0);
        b.AddRange(new byte[32]);
        return [.. b];
    }

    private static byte[] Onnx()
    {
        static byte[] Msg(params (int F, byte[] V)[] fields) => [.. fields.SelectMany(f => new byte[] { (byte)((f.F << 3) | 2), (byte)f.V.Length }.Concat(f.V))];
        static byte[] s(string text) => Encoding.UTF8.GetBytes(text);
        var tensor = Msg((8, s("w")), (13, Msg((1, s("location")), (2, s("w.bin")))));
        var node = Msg((4, s("Add")), (7, s("")), (5, Msg((1, s("then")), (6, Msg((1, Msg((4, s("Relu")))))))));
        return Msg((7, Msg((1, node), (5, tensor))), (8, Msg((1, s("")))));
    }

    /// <summary>Writes a PyTorch zip checkpoint with SIZE_MB of tensor data and times the scan against reading and hashing it.</summary>
    public static int Speed(string folder, int sizeMb)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "checkpoint.pt");
        if (!File.Exists(path) || new FileInfo(path).Length < sizeMb * (1L << 20))
        {
            using var archive = ZipFile.Open(path, ZipArchiveMode.Create);
            using (var s = archive.CreateEntry("checkpoint/data.pkl", CompressionLevel.NoCompression).Open()) s.Write(PickleSeeds()[0]);
            using var data = archive.CreateEntry("checkpoint/data/0", CompressionLevel.NoCompression).Open();
            var block = new byte[1 << 20];
            var random = new Random(1);
            for (var i = 0; i < sizeMb; i++)
            {
                random.NextBytes(block);
                data.Write(block);
            }
        }

        var bytes = new FileInfo(path).Length;
        void Time(string what, Action action)
        {
            var watch = Stopwatch.StartNew();
            action();
            Console.WriteLine($"{what}: {watch.Elapsed.TotalSeconds:0.00} s, {bytes / watch.Elapsed.TotalSeconds / 1e6:N0} MB/s");
        }

        Time("cat > /dev/null", () => Process.Start("sh", ["-c", $"cat '{path}' > /dev/null"])!.WaitForExit());
        Time("sha256sum", () => { using var p = Process.Start(new ProcessStartInfo("sha256sum", [path]) { RedirectStandardOutput = true })!; p.StandardOutput.ReadToEnd(); p.WaitForExit(); });
        ModelFileReport? report = null;
        Time("drydock model scan (pickle + SHA-256 of the file)", () => report = ModelScanner.ScanFile(path));
        Console.WriteLine($"kind {report!.Kind}, {report.Findings.Count} findings");
        return 0;
    }
}
