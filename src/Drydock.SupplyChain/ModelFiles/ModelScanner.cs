using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Drydock.Detection;

namespace Drydock.SupplyChain.ModelFiles;

/// <summary>
/// Scans model files before anything loads them: pickles (raw, legacy PyTorch sequences, inside PyTorch zip
/// checkpoints, joblib, numpy object arrays), safetensors, GGUF, ONNX and Keras (.keras archives, .h5 files). The
/// format is recognised by its magic bytes (safetensors and ONNX, which have none, by extension). Every file's
/// SHA-256 is reported, to pin it.
/// </summary>
public static class ModelScanner
{
    private const long MaxMemberBytes = 1L << 31;
    private static readonly string[] s_pickleExtensions = [".pkl", ".pickle", ".bin", ".pt", ".pth", ".ckpt", ".joblib", ".dat", ".data"];

    /// <summary>
    /// Every file under the paths (directories recursively), in order. A symbolic link (a path given, or one met in a
    /// folder) is refused with an <see cref="ArgumentException"/> naming it, before any file is scanned, as model
    /// registration refuses it: what a link points to can change after the scan, and a loop would never end.
    /// </summary>
    public static IEnumerable<ModelFileReport> ScanPaths(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var files = new List<string>();
        foreach (var path in paths)
        {
            var start = files.Count;
            Collect(path, files);
            files.Sort(start, files.Count - start, StringComparer.Ordinal);
        }

        return files.Select(ScanFile);
    }

    private static void Collect(string path, List<string> files)
    {
        FileSystemInfo info = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
        if (info.LinkTarget is not null) throw new ArgumentException(LinkRefused(path));
        if (info is not DirectoryInfo folder)
        {
            files.Add(path);
            return;
        }

        foreach (var entry in folder.EnumerateFileSystemInfos())
        {
            var child = Path.Combine(path, entry.Name);
            if (entry.LinkTarget is not null) throw new ArgumentException(LinkRefused(child));
            if (entry is DirectoryInfo) Collect(child, files);
            else files.Add(child);
        }
    }

    private static string LinkRefused(string path) =>
        $"{path}: a symbolic link; drydock scans model files themselves, never what a link points to (copy the folder with 'cp -rL' to resolve links)";

    /// <summary>Scans one file.</summary>
    public static ModelFileReport ScanFile(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: no such file");
        var findings = new List<ModelFinding>();
        string kind;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
        {
            kind = Scan(stream, info.Length, path, null, Path.GetExtension(path).ToLowerInvariant(), findings, depth: 0);
        }

        return new ModelFileReport(path, kind, info.Length, Sha256(path), findings);
    }

    private static string Scan(Stream stream, long length, string file, string? entry, string extension, List<ModelFinding> findings, int depth)
    {
        Span<byte> head = stackalloc byte[8];
        var n = stream.ReadAtLeast(head, 8, throwOnEndOfStream: false);
        head = head[..n];
        stream.Seek(0, SeekOrigin.Begin);
        if (head.StartsWith("PK\u0003\u0004"u8)) return Zip(stream, file, extension, findings, depth);
        if (head.StartsWith("GGUF"u8)) { findings.AddRange(GgufScanner.Scan(stream, length, file, entry)); return "gguf"; }
        if (head.StartsWith((ReadOnlySpan<byte>)[0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'])) { Npy(stream, length, file, entry, findings); return "npy"; }
        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'H', (byte)'D', (byte)'F', 0x0d, 0x0a, 0x1a, 0x0a])) { H5(stream, file, entry, findings); return "hdf5"; }
        if (extension == ".safetensors") { findings.AddRange(SafetensorsScanner.Scan(stream, length, file, entry)); return "safetensors"; }
        if (extension == ".onnx")
        {
            if (length > MaxMemberBytes) { findings.Add(new ModelFinding(file, entry, 0, ModelFinding.ModelFileCategory, "onnx-too-large", Severity.Medium, "an ONNX protobuf over 2 GiB cannot be valid")); return "onnx"; }
            findings.AddRange(OnnxScanner.Scan(ReadAll(stream, length), file, entry));
            return "onnx";
        }

        if (n > 0 && (head[0] == 0x80 || s_pickleExtensions.Contains(extension)))
        {
            if (length > MaxMemberBytes) { findings.Add(new ModelFinding(file, entry, 0, ModelFinding.ModelFileCategory, "pickle-too-large", Severity.Medium, "a pickle over 2 GiB was not parsed")); return "pickle"; }
            Pickles(ReadAll(stream, length), file, entry, findings);
            return "pickle";
        }

        return "other";
    }

    // A pickle, or a legacy PyTorch file: several pickles in a row (magic, protocol, system info, the object, the
    // storage keys) followed by raw storage bytes.
    private static void Pickles(byte[] data, string file, string? entry, List<ModelFinding> findings)
    {
        var offset = 0;
        for (var i = 0; i < 6 && offset < data.Length; i++)
        {
            if (i > 0 && data[offset] != 0x80) break;
            var (found, length) = PickleScanner.Scan(data.AsSpan(offset), file, entry, offset);
            findings.AddRange(found);
            offset += length;
        }
    }

    private static string Zip(Stream stream, string file, string extension, List<ModelFinding> findings, int depth)
    {
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (Exception e) when (e is InvalidDataException or OutOfMemoryException)
        {
            // OutOfMemoryException: a member that declares 2 GiB ("array dimensions exceeded") in a file of a few
            // hundred bytes; the archive is not what it says it is.
            findings.Add(new ModelFinding(file, null, 0, ModelFinding.ModelFileCategory, "zip-malformed", Severity.High, $"not a readable zip archive: {e.Message}"));
            return "zip";
        }

        var kind = extension == ".keras" ? "keras" : "zip";
        using (archive)
        {
            // The central directory is read when the entries are first asked for: a broken one is a finding, not a crash.
            IReadOnlyCollection<ZipArchiveEntry> entries;
            try
            {
                entries = archive.Entries;
            }
            catch (InvalidDataException e)
            {
                findings.Add(new ModelFinding(file, null, 0, ModelFinding.ModelFileCategory, "zip-malformed", Severity.High, $"not a readable zip archive: {e.Message}"));
                return kind;
            }

            foreach (var member in entries)
            {
                var name = member.FullName;
                if (name.Replace('\\', '/').Split('/').Contains("..") || name.StartsWith('/'))
                {
                    findings.Add(new ModelFinding(file, name, 0, ModelFinding.ModelFileCategory, "zip-path", Severity.High, $"archive member '{name}' would be written outside the folder it is extracted to"));
                }

                var memberExtension = Path.GetExtension(name).ToLowerInvariant();
                var isPickle = name.EndsWith("data.pkl", StringComparison.Ordinal) || memberExtension is ".pkl" or ".pickle";
                if (isPickle) kind = kind == "keras" ? kind : "pytorch-zip";
                if (!isPickle && memberExtension is not (".npy" or ".safetensors" or ".onnx" or ".json" or ".pt" or ".bin")) continue;
                // A member of 2 GiB or more cannot be held in a MemoryStream (its declared 2 GiB was cast to a negative
                // capacity and crashed the scan).
                if (member.Length >= MaxMemberBytes)
                {
                    findings.Add(new ModelFinding(file, name, 0, ModelFinding.ModelFileCategory, "zip-member-too-large", Severity.Medium, "an archive member of 2 GiB or more was not inspected"));
                    continue;
                }

                // Deflate expands at most about 1,032 to 1 (a stored member not at all): a member declaring more than its
                // compressed bytes can hold, or more compressed bytes than the file has, is not what it says it is.
                if (member.Length > (member.CompressedLength * 1032L) + 1024 || (stream.CanSeek && member.CompressedLength > stream.Length))
                {
                    findings.Add(new ModelFinding(file, name, 0, ModelFinding.ModelFileCategory, "zip-malformed", Severity.High, $"archive member '{name}' declares {member.Length} bytes from {member.CompressedLength} compressed bytes"));
                    continue;
                }

                // The declared size is the archive's word: the buffer grows with what the member really holds.
                using var content = new MemoryStream((int)Math.Min(member.Length, 1 << 20));
                try
                {
                    using (var s = member.Open()) s.CopyTo(content);
                }
                catch (InvalidDataException e)
                {
                    findings.Add(new ModelFinding(file, name, 0, ModelFinding.ModelFileCategory, "zip-malformed", Severity.High, $"member cannot be read: {e.Message}"));
                    continue;
                }

                content.Position = 0;
                if (isPickle) Pickles(content.ToArray(), file, name, findings);
                else if (memberExtension == ".json" && kind == "keras") KerasConfig(content.ToArray(), file, name, findings);
                else if (memberExtension != ".json" && depth < 2) Scan(content, content.Length, file, name, memberExtension, findings, depth + 1);
            }
        }

        return kind;
    }

    private static void Npy(Stream stream, long length, string file, string? entry, List<ModelFinding> findings)
    {
        var data = ReadAll(stream, Math.Min(length, MaxMemberBytes));
        if (data.Length < 10)
        {
            findings.Add(new ModelFinding(file, entry, 0, ModelFinding.ModelFileCategory, "npy-malformed", Severity.High, "truncated .npy header"));
            return;
        }

        var major = data[6];
        var headerLength = major == 1 ? BitConverter.ToUInt16(data, 8) : data.Length >= 12 ? (int)BitConverter.ToUInt32(data, 8) : -1;
        var start = major == 1 ? 10 : 12;
        if (major is < 1 or > 3 || headerLength < 0 || start + headerLength > data.Length)
        {
            findings.Add(new ModelFinding(file, entry, 6, ModelFinding.ModelFileCategory, "npy-malformed", Severity.High, $"bad .npy version {major} or header length {headerLength}"));
            return;
        }

        var header = Encoding.Latin1.GetString(data, start, headerLength);
        if (header.Contains("'O'", StringComparison.Ordinal) || header.Contains("|O", StringComparison.Ordinal))
        {
            // An object array is a pickle after the header: loading it with allow_pickle=True runs it.
            var (found, _) = PickleScanner.Scan(data.AsSpan(start + headerLength), file, entry, start + headerLength);
            findings.Add(new ModelFinding(file, entry, start, "malware", "npy-object-array", Severity.Medium, "an object array: loading it needs allow_pickle=True, which runs the pickle inside"));
            findings.AddRange(found);
        }
    }

    // Keras Lambda layers hold Python code (marshalled bytecode) that runs on load.
    private static void KerasConfig(byte[] json, string file, string? entry, List<ModelFinding> findings)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
            var stack = new Stack<JsonElement>();
            stack.Push(doc.RootElement);
            while (stack.Count > 0)
            {
                var e = stack.Pop();
                if (e.ValueKind == JsonValueKind.Object)
                {
                    if (e.TryGetProperty("class_name", out var c) && c.ValueKind == JsonValueKind.String && c.GetString() == "Lambda")
                    {
                        var name = e.TryGetProperty("config", out var config) && config.ValueKind == JsonValueKind.Object && config.TryGetProperty("name", out var n) ? n.ToString() : "?";
                        findings.Add(new ModelFinding(file, entry, 0, "malware", "keras-lambda", Severity.High, $"Lambda layer '{name}': its Python code runs when the model is loaded"));
                    }

                    foreach (var p in e.EnumerateObject()) stack.Push(p.Value);
                }
                else if (e.ValueKind == JsonValueKind.Array)
                {
                    foreach (var item in e.EnumerateArray()) stack.Push(item);
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            findings.Add(new ModelFinding(file, entry, 0, ModelFinding.ModelFileCategory, "keras-config", Severity.Medium, $"config is not JSON: {e.Message}"));
        }
    }

    // HDF5 Keras files keep the model config as a JSON attribute: look for Lambda layers in the raw bytes.
    private static void H5(Stream stream, string file, string? entry, List<ModelFinding> findings)
    {
        var buffer = new byte[1 << 20];
        var carry = 0;
        long offset = 0;
        int read;
        while ((read = stream.Read(buffer, carry, buffer.Length - carry)) > 0)
        {
            var span = buffer.AsSpan(0, carry + read);
            foreach (var needle in new[] { "\"class_name\": \"Lambda\""u8.ToArray(), "\"class_name\":\"Lambda\""u8.ToArray() })
            {
                var at = span.IndexOf(needle);
                if (at >= 0)
                {
                    findings.Add(new ModelFinding(file, entry, offset + at, "malware", "keras-lambda", Severity.High, "a Keras Lambda layer in the HDF5 model config: its Python code runs when the model is loaded"));
                    return;
                }
            }

            carry = Math.Min(32, span.Length);
            span[^carry..].CopyTo(buffer);
            offset += span.Length - carry;
        }
    }

    private static byte[] ReadAll(Stream stream, long length)
    {
        var data = new byte[length];
        stream.ReadExactly(data);
        return data;
    }

    private static string Sha256(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
