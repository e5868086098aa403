using System.IO.Compression;
using System.Text;
using Drydock.Detection;
using Drydock.SupplyChain.ModelFiles;
using Drydock.Tests.Shared;

namespace Drydock.SupplyChain.Tests;

public sealed class ModelScannerTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static List<ModelFinding> Scan(byte[] pickle) => PickleScanner.Scan(pickle, "m.pkl", null).Findings;

    private static void AssertCallable(List<ModelFinding> findings, string callable, Severity atLeast = Severity.High) =>
        Assert.Contains(findings, f => f.Category == "malware" && f.Type == "pickle-callable" && f.Message.Contains(callable, StringComparison.Ordinal) && f.Severity >= atLeast);

    // os.system('id') in every protocol: GLOBAL for 0–3, STACK_GLOBAL (with FRAME and MEMOIZE) for 4–5.
    public static TheoryData<int> Protocols => new() { 0, 1, 2, 3, 4, 5 };

    [Theory]
    [MemberData(nameof(Protocols))]
    public void GlobalAndReduce_InEveryProtocol(int protocol)
    {
        var b = new PickleBuilder();
        if (protocol >= 2) b.Proto(protocol);
        if (protocol >= 4) b.Op(0x95).Op(BitConverter.GetBytes(30L)).ShortUnicode("posix").Memoize().ShortUnicode("system").Memoize().StackGlobal().Memoize();
        else b.Global("posix", "system");
        b.Mark().String0("id").Tuple().Reduce().Stop();
        AssertCallable(Scan(b.Bytes), "posix.system", Severity.Critical);
    }

    [Fact]
    public void Inst_Opcode() => AssertCallable(Scan(new PickleBuilder().Mark().String0("id").Inst("os", "system").Stop().Bytes), "os.system", Severity.Critical);

    [Fact]
    public void Obj_Opcode() => AssertCallable(Scan(new PickleBuilder().Mark().Global("subprocess", "check_output").String0("id").Op('o').Stop().Bytes), "subprocess.check_output", Severity.Critical);

    [Fact]
    public void MemoTricks_StringsStoredEarly_StackGlobalLater()
    {
        // "builtins" and "eval" are memoized while building something harmless, then recalled for STACK_GLOBAL.
        var b = new PickleBuilder().Proto(4).ShortUnicode("builtins").BinPut(1).Op('0').ShortUnicode("eval").BinPut(2).Op('0')
            .EmptyDict().Op('0').BinGet(1).BinGet(2).StackGlobal().ShortUnicode("__import__('os').system('id')").Tuple1().Reduce().Stop();
        AssertCallable(Scan(b.Bytes), "builtins.eval", Severity.Critical);
    }

    [Fact]
    public void PkgutilResolveName_AndTheComputedCall()
    {
        var b = new PickleBuilder().Proto(2).Global("pkgutil", "resolve_name").ShortUnicode("os:system").Tuple1().Reduce().ShortUnicode("id").Tuple1().Reduce().Stop();
        var findings = Scan(b.Bytes);
        AssertCallable(findings, "pkgutil.resolve_name", Severity.Critical);
        Assert.Contains(findings, f => f.Type == "pickle-computed-call");
    }

    [Theory]
    [InlineData("marshal", "loads")]
    [InlineData("types", "FunctionType")]
    [InlineData("ensurepip", "_run_pip")]
    [InlineData("builtins", "getattr")]
    [InlineData("runpy", "_run_code")]
    [InlineData("torch.storage", "_load_from_bytes")]
    [InlineData("numpy.testing._private.utils", "runstring")]
    [InlineData("webbrowser", "open")]
    public void BypassFamilies_AreNamed(string module, string name)
    {
        var b = new PickleBuilder().Proto(2).Global(module, name).ShortUnicode("x").Tuple1().Reduce().Stop();
        AssertCallable(Scan(b.Bytes), $"{module}.{name}");
    }

    [Fact]
    public void NewObj_AndExtensionCodes()
    {
        AssertCallable(Scan(new PickleBuilder().Proto(2).Global("sklearn.pipeline", "Pipeline").EmptyTuple().Op(0x81).Stop().Bytes), "sklearn.pipeline.Pipeline");
        Assert.Contains(Scan(new PickleBuilder().Proto(2).Op(0x82, 0x01).EmptyTuple().Reduce().Stop().Bytes), f => f.Type == "pickle-extension");
    }

    // What torch.save writes for {"weight": tensor}: OrderedDict, _rebuild_tensor_v2, a FloatStorage persistent id.
    private static byte[] TorchStateDict(int protocol)
    {
        var b = new PickleBuilder().Proto(protocol).Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark()
            .BinUnicode("weight").Global("torch._utils", "_rebuild_tensor_v2").Mark()
            .Mark().BinUnicode("storage").Global("torch", "FloatStorage").BinUnicode("0").BinUnicode("cpu").Int(4).Tuple().Op('Q')
            .Int(0).Int(4).Tuple1().Int(1).Tuple1().Op(0x89).Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple().Reduce()
            .Op('u').EmptyDict().BinUnicode("_metadata").Global("collections", "OrderedDict").EmptyTuple().Reduce().Op('s').Build().Stop();
        return b.Bytes;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void TorchStateDict_IsClean(int protocol) => Assert.Empty(Scan(TorchStateDict(protocol)));

    [Fact]
    public void NumpyReconstruction_IsClean()
    {
        var b = new PickleBuilder().Proto(2).Global("numpy.core.multiarray", "_reconstruct").Global("numpy", "ndarray").Int(0).Tuple1()
            .Global("_codecs", "encode").BinUnicode("b").BinUnicode("latin1").Op(0x86).Reduce().Op(0x87).Reduce()
            .Mark().Int(1).Global("numpy", "dtype").BinUnicode("f4").Op(0x89).Op(0x88).Op(0x87).Reduce().Tuple().Build().Stop();
        Assert.Empty(Scan(b.Bytes));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(40)]
    public void Truncated_IsAFinding_NeverACrash(int cut)
    {
        var bytes = TorchStateDict(2);
        var findings = Scan(bytes[..^cut]);
        Assert.Contains(findings, f => f.Type == "pickle-malformed" && f.Category == ModelFinding.ModelFileCategory);
    }

    [Fact]
    public void PyTorchZip_LegacySequence_NpyObjectArray_AndKerasLambda()
    {
        var zip = Path.Combine(_dir.Path, "model.pt");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        {
            Write(archive, "archive/data.pkl", new PickleBuilder().Proto(2).Global("os", "system").ShortUnicode("id").Tuple1().Reduce().Stop().Bytes);
            Write(archive, "archive/data/0", new byte[16]);
            Write(archive, "archive/version", "3\n"u8.ToArray());
        }

        var report = ModelScanner.ScanFile(zip);
        Assert.Equal("pytorch-zip", report.Kind);
        Assert.Contains(report.Findings, f => f.Entry == "archive/data.pkl" && f.Message.Contains("os.system", StringComparison.Ordinal));

        // Legacy torch.save: several pickles, then raw storage bytes.
        var legacy = _dir.File("legacy.bin", [.. new PickleBuilder().Proto(2).Int(1).Stop().Bytes, .. new PickleBuilder().Proto(2).Int(1001).Stop().Bytes, .. TorchStateDict(2), .. new byte[64]]);
        Assert.Empty(ModelScanner.ScanFile(legacy).Findings);

        var header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }";
        header = header.PadRight(117) + "\n";
        var npy = _dir.File("arr.npy", [0x93, .. "NUMPY"u8.ToArray(), 1, 0, (byte)header.Length, 0, .. Encoding.Latin1.GetBytes(header), .. new PickleBuilder().Proto(2).Global("subprocess", "Popen").ShortUnicode("id").Tuple1().Reduce().Stop().Bytes]);
        var npyReport = ModelScanner.ScanFile(npy);
        Assert.Contains(npyReport.Findings, f => f.Type == "npy-object-array");
        Assert.Contains(npyReport.Findings, f => f.Message.Contains("subprocess.Popen", StringComparison.Ordinal));

        var keras = Path.Combine(_dir.Path, "model.keras");
        using (var archive = ZipFile.Open(keras, ZipArchiveMode.Create))
        {
            Write(archive, "config.json", """{"class_name":"Sequential","config":{"layers":[{"class_name":"Dense","config":{"name":"d"}},{"class_name":"Lambda","config":{"name":"sneaky","function":"4wEAAAA..."}}]}}"""u8.ToArray());
        }

        Assert.Contains(ModelScanner.ScanFile(keras).Findings, f => f.Type == "keras-lambda" && f.Message.Contains("sneaky", StringComparison.Ordinal));
    }

    [Fact]
    public void Safetensors_ValidAndBroken()
    {
        Assert.Empty(ModelScanner.ScanFile(_dir.File("ok.safetensors", Safetensors("""{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"__metadata__":{"format":"pt"}}""", 16))).Findings);
        string[] broken =
        [
            """{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""",
            """{"a":{"dtype":"F32","shape":[4,4],"data_offsets":[0,16]}}""",
            """{"a":{"dtype":"F33","shape":[2,2],"data_offsets":[0,16]}}""",
            """{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,160]}}""",
            """{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,16]}}""",
            """{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"__metadata__":{"x":1}}""",
            """not json""",
        ];
        foreach (var header in broken)
        {
            var findings = ModelScanner.ScanFile(_dir.File("bad.safetensors", Safetensors(header, 16))).Findings;
            Assert.True(findings.Count > 0, header);
        }

        var huge = _dir.File("huge.safetensors", [.. BitConverter.GetBytes(ulong.MaxValue), .. "{}"u8.ToArray()]);
        Assert.Contains(ModelScanner.ScanFile(huge).Findings, f => f.Type == "safetensors-header-length");
        Assert.Contains(ModelScanner.ScanFile(_dir.File("slack.safetensors", Safetensors("""{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}""", 64))).Findings, f => f.Type == "safetensors-slack");
    }

    [Fact]
    public void Gguf_ValidAndTruncated()
    {
        var gguf = Gguf(alignment: 32);
        Assert.Empty(ModelScanner.ScanFile(_dir.File("m.gguf", gguf)).Findings);
        Assert.Contains(ModelScanner.ScanFile(_dir.File("t.gguf", gguf[..30])).Findings, f => f.Type == "gguf-malformed");
        Assert.Contains(ModelScanner.ScanFile(_dir.File("o.gguf", Gguf(alignment: 32, tensorOffset: 1_000_000))).Findings, f => f.Type == "gguf-tensor");
        Assert.Contains(ModelScanner.ScanFile(_dir.File("a.gguf", Gguf(alignment: 32, tensorOffset: 3))).Findings, f => f.Message.Contains("not aligned", StringComparison.Ordinal));
    }

    [Fact]
    public void Onnx_ExternalDataEscape_AndCustomDomain()
    {
        var entry = Proto.Message((1, Proto.Str("location")), (2, Proto.Str("../../../etc/passwd")));
        var tensor = Proto.Message((8, Proto.Str("w")), (13, entry));
        var node = Proto.Message((4, Proto.Str("Exec")), (7, Proto.Str("evil.custom")));
        var graph = Proto.Message((1, node), (5, tensor));
        var model = Proto.Message((7, graph), (8, Proto.Message((1, Proto.Str("")))));
        var findings = ModelScanner.ScanFile(_dir.File("m.onnx", [.. Proto.Varint(1 << 3), .. Proto.Varint(8), .. model])).Findings;
        Assert.Contains(findings, f => f.Type == "onnx-external-data-path" && f.Message.Contains("../../../etc/passwd", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Type == "onnx-custom-domain" && f.Message.Contains("evil.custom", StringComparison.Ordinal));

        var cleanEntry = Proto.Message((1, Proto.Str("location")), (2, Proto.Str("weights/w.bin")));
        var clean = Proto.Message((7, Proto.Message((5, Proto.Message((13, cleanEntry))))));
        Assert.Empty(ModelScanner.ScanFile(_dir.File("ok.onnx", clean)).Findings);
        Assert.Contains(ModelScanner.ScanFile(_dir.File("bad.onnx", [0x3a, 0xff, 0xff, 0x03, 1, 2])).Findings, f => f.Type == "onnx-malformed");
    }

    private static void Write(ZipArchive archive, string name, byte[] content)
    {
        using var s = archive.CreateEntry(name, CompressionLevel.NoCompression).Open();
        s.Write(content);
    }

    internal static byte[] Safetensors(string header, int dataBytes)
    {
        var h = Encoding.UTF8.GetBytes(header);
        return [.. BitConverter.GetBytes((ulong)h.Length), .. h, .. new byte[dataBytes]];
    }

    internal static byte[] Gguf(ulong alignment, ulong tensorOffset = 0)
    {
        var b = new List<byte>();
        void U32(uint v) => b.AddRange(BitConverter.GetBytes(v));
        void U64(ulong v) => b.AddRange(BitConverter.GetBytes(v));
        void Str(string s) { U64((ulong)s.Length); b.AddRange(Encoding.UTF8.GetBytes(s)); }
        b.AddRange("GGUF"u8.ToArray());
        U32(3);
        U64(1); // tensors
        U64(2); // metadata
        Str("general.architecture"); U32(8); Str("llama");
        Str("general.alignment"); U32(4); U32((uint)alignment);
        Str("tok_embeddings.weight"); U32(2); U64(4); U64(2); U32(0); U64(tensorOffset);
        while (b.Count % (int)alignment != 0) b.Add(0);
        b.AddRange(new byte[32]);
        return [.. b];
    }
}

/// <summary>Protobuf wire encoding for hand-built ONNX models.</summary>
internal static class Proto
{
    public static byte[] Varint(ulong v)
    {
        var b = new List<byte>();
        while (v >= 0x80) { b.Add((byte)(v | 0x80)); v >>= 7; }
        b.Add((byte)v);
        return [.. b];
    }

    public static byte[] Str(string s) => Encoding.UTF8.GetBytes(s);

    public static byte[] Message(params (int Field, byte[] Value)[] fields)
    {
        var b = new List<byte>();
        foreach (var (field, value) in fields)
        {
            b.AddRange(Varint((ulong)(field << 3 | 2)));
            b.AddRange(Varint((ulong)value.Length));
            b.AddRange(value);
        }

        return [.. b];
    }
}

public sealed class ModelScannerHostileInputTests
{
    // Found by the model-zip fuzz target: a zip whose central directory disagrees with its end record passed the archive's
    // constructor and threw when its entries were read, so the scan crashed instead of reporting the file.
    [Fact]
    public void Zip_BrokenCentralDirectory_IsReportedMalformed()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "broken.pt");
        File.WriteAllBytes(path, Convert.FromHexString("504b0304141800000000687d86000000005c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c000000202a0000002a00ff0010000000617263686976652f646174612e706b6c80029c706f7369780a737973705271032e504b01020010000000000000000000050080010000776e65640001857176652f646172612e706b6c504b050600000000010001003e000000580000000000"));
        var report = ModelScanner.ScanFile(path);
        Assert.Contains(report.Findings, f => f.Type == "zip-malformed");
    }

    // Found by the model-zip fuzz target (bench/fuzz/corpus/model-zip/crash-member-of-2gib.pt): a stored member whose
    // central directory entry declares exactly 2 GiB passed the "over 2 GiB" check, and its size cast to a negative
    // buffer capacity crashed the scan with ArgumentOutOfRangeException.
    [Fact]
    public void Zip_MemberDeclaringExactly2GiB_IsReportedNotACrash()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "declared.pt");
        File.WriteAllBytes(path, Convert.FromHexString("504b0304140000000000687d865d183bdf302a0000002a00000010000000617263686976652f646174612e706b6c802263706f7369780a73797374656d0a7100580a0000006563686f2070776e656471018571025271032e504b01021403140000000000687d865d183bdf302a00000000000080100000000000000000000000800100000000617263686976652f646174612e706b6c504b050600000000010001003e000000580000000000"));
        var report = ModelScanner.ScanFile(path);
        Assert.Contains(report.Findings, f => f.Type == "zip-member-too-large" && f.Entry == "archive/data.pkl");
    }

    // Found by the model-zip fuzz target (crash-entry-count.pt): a member declaring 2^31 - 1 bytes made the zip reader
    // throw OutOfMemoryException ("array dimensions exceeded") on opening a 165-byte file: the scan crashed.
    [Fact]
    public void Zip_MemberDeclaringMoreThanAnArrayHolds_IsReportedMalformed()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "huge.pt");
        File.WriteAllBytes(path, Convert.FromHexString("504b0304140000000000687d865dc020f4ea2d0000002d0000000b000000636f6e6669672e6a736f6e7b22636c6173735f6e616d65223a2280616d626461222c22636f6e666967223a7b226e616d65223a226c227d7d504b01021403140000000000687d865dc020f4ea2d000000ffffff7f0b0000000000000000000000800100000000636f6e6669672e6a736f6e504b0506000000000100010039000000560000000000"));
        var report = ModelScanner.ScanFile(path);
        Assert.Contains(report.Findings, f => f.Type == "zip-malformed");
    }
}
