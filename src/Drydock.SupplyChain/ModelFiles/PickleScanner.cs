using System.Buffers.Binary;
using System.Text;
using Drydock.Detection;

namespace Drydock.SupplyChain.ModelFiles;

/// <summary>
/// An opcode-level pickle reader for protocols 0–5 that never executes anything: it follows the stack and the memo
/// so that every callable a load would import or call is known, including those built with STACK_GLOBAL from
/// memoized strings, INST/OBJ, NEWOBJ(_EX), REDUCE and BUILD. Each imported global is checked against an allow-list
/// of what model checkpoints need (torch tensor rebuilding and storages, OrderedDict, numpy reconstruction); any
/// other is a finding with its name, and calls of computed callables, extension-registry codes and malformed or
/// truncated streams are findings too. Input of any size and shape ends in a report, never an exception.
/// </summary>
public static class PickleScanner
{
    private const int MaxStack = 1 << 20;
    private const int MaxMemo = 1 << 22;

    /// <summary>Globals a model checkpoint legitimately needs.</summary>
    public static readonly IReadOnlySet<string> AllowList = new HashSet<string>(StringComparer.Ordinal)
    {
        "collections.OrderedDict", "collections.defaultdict",
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3", "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state", "torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_nested_tensor",
        "torch._utils._rebuild_device_tensor_from_numpy", "torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_wrapper_subclass",
        "torch._tensor._rebuild_from_type_v2", "torch.storage.UntypedStorage", "torch.storage.TypedStorage", "torch.device", "torch.Size",
        "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage",
        "torch.CharStorage", "torch.ByteStorage", "torch.BoolStorage", "torch.ComplexFloatStorage", "torch.ComplexDoubleStorage",
        "torch.QInt8Storage", "torch.QUInt8Storage", "torch.QInt32Storage",
        "torch.float16", "torch.float32", "torch.float64", "torch.bfloat16", "torch.int8", "torch.int16", "torch.int32", "torch.int64", "torch.uint8", "torch.bool",
        "torch.complex64", "torch.complex128", "torch.strided", "torch.sparse_coo", "torch.per_tensor_affine",
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
        "numpy.ndarray", "numpy.dtype", "joblib.numpy_pickle.NumpyArrayWrapper",
        "_codecs.encode", "builtins.set", "builtins.frozenset", "builtins.bytearray", "builtins.slice", "builtins.complex", "builtins.object",
        "__builtin__.set", "__builtin__.frozenset", "__builtin__.object", "copyreg._reconstructor", "copy_reg._reconstructor",
    };

    // Modules and names whose import alone means code execution or escape (critical rather than high).
    private static readonly string[] s_dangerousModules =
    [
        "os", "posix", "nt", "subprocess", "sys", "socket", "shutil", "pty", "runpy", "importlib", "pkgutil", "marshal", "types", "ctypes", "pickle", "_pickle",
        "ensurepip", "pip", "webbrowser", "code", "codeop", "timeit", "platform", "asyncio", "multiprocessing", "http", "urllib", "requests", "functools",
        "operator", "commands", "popen2", "pdb", "bdb", "cProfile", "profile", "trace", "doctest", "tempfile", "glob", "io", "_io", "zipimport", "imp",
    ];

    private static readonly string[] s_dangerousBuiltins = ["eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "__import__", "breakpoint", "input", "globals", "locals", "vars", "apply", "execfile", "file", "reload"];

    private abstract record Value;
    private sealed record Text(string S) : Value;
    private sealed record Global(string Name) : Value;
    private sealed record Mark : Value;
    private sealed record Other : Value;

    private static readonly Other s_other = new();
    private static readonly Mark s_mark = new();

    /// <summary>
    /// Scans one pickle starting at <paramref name="data"/>[0]; returns the findings and how many bytes the pickle
    /// took (up to and including STOP; the whole span when it never stops).
    /// </summary>
    public static (List<ModelFinding> Findings, int Length) Scan(ReadOnlySpan<byte> data, string file, string? entry, long baseOffset = 0)
    {
        var findings = new List<ModelFinding>();
        var stack = new List<Value>();
        var memo = new Dictionary<long, Value>();
        var imported = new HashSet<string>(StringComparer.Ordinal);
        var pos = 0;

        void Find(string category, string type, Severity severity, string message, int at) =>
            findings.Add(new ModelFinding(file, entry, baseOffset + at, category, type, severity, message));

        Value Pop()
        {
            if (stack.Count == 0) throw new PickleFormatException("pop from an empty stack");
            var v = stack[^1];
            stack.RemoveAt(stack.Count - 1);
            return v;
        }

        List<Value> PopMark()
        {
            var at = stack.FindLastIndex(v => v is Mark);
            if (at < 0) throw new PickleFormatException("no MARK on the stack");
            var items = stack.GetRange(at + 1, stack.Count - at - 1);
            stack.RemoveRange(at, stack.Count - at);
            return items;
        }

        void Push(Value v)
        {
            if (stack.Count >= MaxStack) throw new PickleFormatException("stack deeper than 1,048,576 entries");
            stack.Add(v);
        }

        void Import(string module, string name, int at, string how)
        {
            var full = $"{module}.{name}";
            Push(new Global(full));
            if (AllowList.Contains(full) || !imported.Add(full)) return;
            var root = module.Split('.')[0];
            var critical = s_dangerousModules.Contains(root) || ((module is "builtins" or "__builtin__") && s_dangerousBuiltins.Contains(name)) || full is "torch.load" or "torch.storage._load_from_bytes" or "numpy.load";
            Find("malware", "pickle-callable", critical ? Severity.Critical : Severity.High, $"{how} imports {full}, which is not on the model-checkpoint allow-list (loading runs it)", at);
        }

        void Call(Value callable, int at, string opcode)
        {
            if (callable is Global) return; // imported: already judged
            Find("malware", "pickle-computed-call", Severity.High, $"{opcode} calls a computed object (the result of another call or lookup), a way around import checks", at);
        }

        try
        {
            while (true)
            {
                if (pos >= data.Length) throw new PickleFormatException("truncated: the stream ends before STOP");
                var at = pos;
                var op = data[pos++];
                switch (op)
                {
                    case (byte)'.': return (findings, pos); // STOP
                    case 0x80: Need(data, pos, 1); if (data[pos] > 5) Find(ModelFinding.ModelFileCategory, "pickle-protocol", Severity.Medium, $"unknown pickle protocol {data[pos]}", at); pos++; break; // PROTO
                    case 0x95: Need(data, pos, 8); pos += 8; break; // FRAME
                    case (byte)'(': Push(s_mark); break;
                    case (byte)'0': Pop(); break;
                    case (byte)'1': PopMark(); break;
                    case (byte)'2': Push(stack.Count > 0 ? stack[^1] : throw new PickleFormatException("DUP on an empty stack")); break;
                    case (byte)'N' or 0x88 or 0x89 or (byte)')' or (byte)']' or (byte)'}' or 0x8f: Push(s_other); break;
                    case (byte)'F' or (byte)'I' or (byte)'L': ReadLine(data, ref pos); Push(s_other); break;
                    case (byte)'S' or (byte)'V': Push(new Text(Unquote(ReadLine(data, ref pos)))); break;
                    case (byte)'P': ReadLine(data, ref pos); Push(s_other); break; // PERSID: the loader's persistent_load decides
                    case (byte)'Q': Pop(); Push(s_other); break; // BINPERSID
                    case (byte)'J': Need(data, pos, 4); pos += 4; Push(s_other); break;
                    case (byte)'K': Need(data, pos, 1); pos += 1; Push(s_other); break;
                    case (byte)'M': Need(data, pos, 2); pos += 2; Push(s_other); break;
                    case (byte)'G': Need(data, pos, 8); pos += 8; Push(s_other); break;
                    case 0x8a: { Need(data, pos, 1); var n = data[pos++]; Need(data, pos, n); pos += n; Push(s_other); break; }
                    case 0x8b: { var n = Length4(data, ref pos); pos += n; Push(s_other); break; }
                    case (byte)'T' or (byte)'B': { var n = Length4(data, ref pos); Push(op == (byte)'T' ? new Text(Latin1(data.Slice(pos, n))) : s_other); pos += n; break; }
                    case (byte)'U' or (byte)'C': { Need(data, pos, 1); var n = data[pos++]; Need(data, pos, n); Push(op == (byte)'U' ? new Text(Latin1(data.Slice(pos, n))) : s_other); pos += n; break; }
                    case (byte)'X': { var n = Length4(data, ref pos); Push(new Text(Utf8(data.Slice(pos, n)))); pos += n; break; }
                    case 0x8c: { Need(data, pos, 1); var n = data[pos++]; Need(data, pos, n); Push(new Text(Utf8(data.Slice(pos, n)))); pos += n; break; }
                    case 0x8d or 0x8e or 0x96: { var n = Length8(data, ref pos); Push(op == 0x8d ? new Text(Utf8(data.Slice(pos, n))) : s_other); pos += n; break; }
                    case 0x97 or 0x98: if (op == 0x97) Push(s_other); break; // NEXT_BUFFER / READONLY_BUFFER
                    case (byte)'a': Pop(); break; // APPEND: list stays
                    case (byte)'e' or 0x90: PopMark(); break; // APPENDS / ADDITEMS
                    case (byte)'s': Pop(); Pop(); break; // SETITEM
                    case (byte)'u': PopMark(); break; // SETITEMS
                    case (byte)'d' or (byte)'l' or (byte)'t' or 0x91: PopMark(); Push(s_other); break; // DICT / LIST / TUPLE / FROZENSET
                    case 0x85: Pop(); Push(s_other); break;
                    case 0x86: Pop(); Pop(); Push(s_other); break;
                    case 0x87: Pop(); Pop(); Pop(); Push(s_other); break;
                    case (byte)'c': { var module = ReadLine(data, ref pos); var name = ReadLine(data, ref pos); Import(module, name, at, "GLOBAL"); break; }
                    case 0x93: // STACK_GLOBAL
                    {
                        var name = Pop();
                        var module = Pop();
                        if (module is Text m && name is Text n) Import(m.S, n.S, at, "STACK_GLOBAL");
                        else
                        {
                            Find("malware", "pickle-computed-global", Severity.High, "STACK_GLOBAL with a module or name that is not a literal string", at);
                            Push(s_other);
                        }

                        break;
                    }

                    case (byte)'i': // INST module\nname\n: import, then call with the marked arguments
                    {
                        var module = ReadLine(data, ref pos);
                        var name = ReadLine(data, ref pos);
                        Import(module, name, at, "INST");
                        Pop();
                        PopMark();
                        Push(s_other);
                        break;
                    }

                    case (byte)'o': // OBJ: MARK callable args... 
                    {
                        var items = PopMark();
                        if (items.Count == 0) throw new PickleFormatException("OBJ without a class");
                        Call(items[0], at, "OBJ");
                        Push(s_other);
                        break;
                    }

                    case (byte)'R': { Pop(); Call(Pop(), at, "REDUCE"); Push(s_other); break; }
                    case 0x81: { Pop(); Call(Pop(), at, "NEWOBJ"); Push(s_other); break; }
                    case 0x92: { Pop(); Pop(); Call(Pop(), at, "NEWOBJ_EX"); Push(s_other); break; }
                    case (byte)'b': { Pop(); if (stack.Count == 0) throw new PickleFormatException("BUILD without an object"); break; } // BUILD: state onto the object below
                    case 0x82 or 0x83 or 0x84:
                    {
                        var n = op == 0x82 ? 1 : op == 0x83 ? 2 : 4;
                        Need(data, pos, n);
                        pos += n;
                        Find("malware", "pickle-extension", Severity.High, "an extension-registry code (EXT1/2/4) names a global the scanner cannot see", at);
                        Push(s_other);
                        break;
                    }

                    case (byte)'p': { var key = ParseLong(ReadLine(data, ref pos)); Memo(memo, key, stack); break; }
                    case (byte)'q': { Need(data, pos, 1); Memo(memo, data[pos++], stack); break; }
                    case (byte)'r': { Need(data, pos, 4); Memo(memo, BinaryPrimitives.ReadUInt32LittleEndian(data[pos..]), stack); pos += 4; break; }
                    case 0x94: Memo(memo, memo.Count, stack); break; // MEMOIZE
                    case (byte)'g': { var key = ParseLong(ReadLine(data, ref pos)); Push(Recall(memo, key)); break; }
                    case (byte)'h': { Need(data, pos, 1); Push(Recall(memo, data[pos++])); break; }
                    case (byte)'j': { Need(data, pos, 4); Push(Recall(memo, BinaryPrimitives.ReadUInt32LittleEndian(data[pos..]))); pos += 4; break; }
                    default: throw new PickleFormatException($"unknown opcode 0x{op:x2}");
                }
            }
        }
        catch (PickleFormatException e)
        {
            findings.Add(new ModelFinding(file, entry, baseOffset + pos, ModelFinding.ModelFileCategory, "pickle-malformed", Severity.High, $"malformed pickle at byte {baseOffset + pos}: {e.Message} (a loader would fail or do something unexpected)"));
            return (findings, data.Length);
        }
    }

    private static void Memo(Dictionary<long, Value> memo, long key, List<Value> stack)
    {
        if (stack.Count == 0) throw new PickleFormatException("memo store from an empty stack");
        if (memo.Count >= MaxMemo && !memo.ContainsKey(key)) throw new PickleFormatException("memo larger than 4,194,304 entries");
        memo[key] = stack[^1];
    }

    private static Value Recall(Dictionary<long, Value> memo, long key) =>
        memo.TryGetValue(key, out var v) ? v : throw new PickleFormatException($"memo key {key} was never stored");

    private static void Need(ReadOnlySpan<byte> data, int pos, long count)
    {
        if (count < 0 || pos + count > data.Length) throw new PickleFormatException("truncated operand");
    }

    private static int Length4(ReadOnlySpan<byte> data, ref int pos)
    {
        Need(data, pos, 4);
        var n = BinaryPrimitives.ReadInt32LittleEndian(data[pos..]);
        pos += 4;
        Need(data, pos, n);
        return n;
    }

    private static int Length8(ReadOnlySpan<byte> data, ref int pos)
    {
        Need(data, pos, 8);
        var n = BinaryPrimitives.ReadInt64LittleEndian(data[pos..]);
        pos += 8;
        if (n < 0 || n > int.MaxValue) throw new PickleFormatException("length beyond 2 GiB");
        Need(data, pos, n);
        return (int)n;
    }

    private static string ReadLine(ReadOnlySpan<byte> data, ref int pos)
    {
        var end = data[pos..].IndexOf((byte)'\n');
        if (end < 0) throw new PickleFormatException("truncated: a text operand has no newline");
        if (end > 1 << 16) throw new PickleFormatException("text operand longer than 64 KiB");
        // The line as Python reads it: only the '\n' is dropped. A '\r' before it stays part of a module or class name
        // (Python asks for "collections\r", never "collections"), so the allow-list never matches a name Python would
        // not import as written.
        var line = Latin1(data.Slice(pos, end));
        pos += end + 1;
        return line;
    }

    private static long ParseLong(string s) => long.TryParse(s, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : throw new PickleFormatException($"memo key '{s}' is not a number");

    private static string Unquote(string s) => s.Length >= 2 && (s[0] is '\'' or '"') && s[^1] == s[0] ? s[1..^1] : s;

    private static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes[..Math.Min(bytes.Length, 1 << 16)]);

    private static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 1 << 16)]);

    private sealed class PickleFormatException(string message) : Exception(message);
}
