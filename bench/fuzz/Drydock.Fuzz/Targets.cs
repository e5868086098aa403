using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Curation.Policy;
using Drydock.Datasets;
using Drydock.Datasets.Formats;
using Drydock.Detection;
using Drydock.Detection.Analyzers;
using Drydock.Detection.Configuration;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway;
using Drydock.Gateway.Guards;
using Drydock.Gateway.Payload;
using Drydock.Gateway.Upstream;
using Drydock.SupplyChain.ModelFiles;
using Microsoft.AspNetCore.Http;

namespace Drydock.Fuzz;

/// <summary>
/// One fuzz target per parser of untrusted bytes. A target returns normally for any input the parser handles as it
/// documents (a verdict, a reported problem, the parser's own exception type for a refused input) and throws
/// <see cref="PropertyException"/> or lets any other exception escape when it does not: AFL counts both as crashes.
/// </summary>
internal static class Targets
{
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new SortedDictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["jsonl"] = data => Records(data, ".jsonl", DatasetFormat.Jsonl, accountLines: true),
        ["chat-jsonl"] = data => Records(data, ".jsonl", DatasetFormat.Chat, accountLines: true),
        ["json-array"] = data => Records(data, ".json", DatasetFormat.Auto, accountLines: false),
        ["csv"] = data => Records(data, ".csv", DatasetFormat.Csv, accountLines: false),
        ["parquet"] = data => Records(data, ".parquet", DatasetFormat.Parquet, accountLines: false),
        ["compressed"] = Compressed,
        ["markup"] = data => Analyzer(new MarkupAnalyzer(), data),
        ["hidden-text"] = data => Analyzer(new HiddenTextAnalyzer(), data),
        ["pickle"] = Pickle,
        ["safetensors"] = Safetensors,
        ["gguf"] = Gguf,
        ["onnx"] = Onnx,
        ["model-zip"] = ModelZip,
        ["yaml-rules"] = data => Yaml(data, text => UserRuleLoader.Parse("fuzz.yaml", text)),
        ["yaml-policy"] = data => Yaml(data, text => PolicyLoader.Parse("fuzz.yaml", text)),
        ["gateway-request"] = GatewayRequest,
        ["gateway-answer"] = GatewayAnswer,
        ["gateway-stream"] = GatewayStream,
    };

    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
    private static readonly TextGuard s_guard = new(s_detector);
    private static readonly Tier s_tier = new("fuzz", ["*"], 4096, true, GuardMode.Block, GuardMode.Redact, 600, 200_000);
    private static readonly CanaryAnalyzer s_canaries = new([CanaryAnalyzer.Hash("DRYDOCK-CANARY-7f3a9c")]);
    private static readonly string s_folder = Directory.CreateTempSubdirectory("drydock-fuzz-").FullName;

    // Readers take a path: the input is written to a file with the extension that selects the format.
    private static string File(byte[] data, string extension)
    {
        var path = Path.Combine(s_folder, "input" + extension);
        System.IO.File.WriteAllBytes(path, data);
        return path;
    }

    /// <summary>
    /// Every record the reader yields is a record, a malformed record or both; lines only go forward; for JSON Lines
    /// every non-blank line is accounted for (a record or a reported problem each).
    /// </summary>
    private static void Records(byte[] data, string extension, DatasetFormat format, bool accountLines)
    {
        var path = File(data, extension);
        var reader = new DatasetReader(new ReaderOptions { Format = format, MaxRecordBytes = 1 << 16, BatchBytes = 4096, BatchRecords = 64 });
        var results = new List<ReadResult>();
        SniffedFormat sniffed;
        try
        {
            sniffed = reader.Detect(path);
            foreach (var batch in reader.Read(path, sniffed))
            {
                results.AddRange(batch.Parse());
            }
        }
        catch (DatasetException)
        {
            return; // refused with file and reason: a reported skip of the whole input
        }

        long last = 0;
        foreach (var result in results)
        {
            if (result.Record is null && result.Problem is null) throw new PropertyException("a result with neither record nor problem");
            var line = result.Record?.Line ?? result.Problem!.Line;
            if (line < 1 || line < last) throw new PropertyException($"line {line} after {last}");
            last = line;
            if (result.Problem is { Reason.Length: 0 }) throw new PropertyException("a problem without a reason");
        }

        // A file whose first character is '[' is a JSON array whatever its name or --input-format: its elements, not its
        // lines, are the records (found by fuzzing: "[ ]" and "[1,2]" in a .jsonl file are 0 and 2 results, both right).
        if (accountLines && sniffed.Container == Container.Lines)
        {
            var expected = NonBlankLines(data);
            if (results.Count != expected) throw new PropertyException($"{expected} non-blank lines but {results.Count} results");
        }
    }

    // JSON Lines as the reader splits them: a UTF-8 BOM dropped, '\n' ends a line, a '\r' before it is part of the
    // ending, a line of spaces and tabs only is blank.
    internal static int NonBlankLines(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) data = data[3..];
        var count = 0;
        while (!data.IsEmpty)
        {
            var nl = data.IndexOf((byte)'\n');
            var line = nl < 0 ? data : data[..nl];
            if (!line.IsEmpty && line[^1] == '\r') line = line[..^1];
            if (!line.Trim(" \t"u8).IsEmpty) count++;
            data = nl < 0 ? [] : data[(nl + 1)..];
        }

        return count;
    }

    // The gzip/zstd layer: whatever the fuzzer makes of a compressed seed is decoded whole or refused.
    private static void Compressed(byte[] data) => Records(data, ".jsonl", DatasetFormat.Jsonl, accountLines: false);

    private static void Analyzer(Analyzer analyzer, byte[] data)
    {
        var text = Encoding.UTF8.GetString(data);
        List<Finding>? findings = null;
        analyzer.Analyze(text, ref findings);
        foreach (var f in findings ?? [])
        {
            if (f.Start < 0 || f.End > text.Length || f.Start > f.End) throw new PropertyException($"span {f.Start}..{f.End} outside a text of {text.Length}");
        }
    }

    private static void Pickle(byte[] data)
    {
        var (findings, length) = PickleScanner.Scan(data, "fuzz.pkl", null);
        if (length < 0 || length > data.Length) throw new PropertyException($"pickle length {length} of {data.Length}");

        // A verdict of clean needs a pickle read to its STOP: one it gave up on must say so.
        if (findings.Count == 0 && (length == 0 || data[length - 1] != (byte)'.')) throw new PropertyException("no finding, but the pickle was not read to its STOP");
        ModelFile(data, ".pkl");
    }

    private static void Safetensors(byte[] data)
    {
        var findings = SafetensorsScanner.Scan(new MemoryStream(data), data.Length, "fuzz.safetensors", null);
        if (findings.Count > 0) return;
        if (data.Length < 8) throw new PropertyException("no finding for a file shorter than its header length");
        var length = BitConverter.ToUInt64(data, 0);
        if (length > (ulong)(data.Length - 8)) throw new PropertyException("no finding, but the header is beyond the file");
        try
        {
            if (JsonNode.Parse(data.AsSpan(8, (int)length)) is not JsonObject) throw new PropertyException("no finding, but the header is not a JSON object");
        }
        catch (JsonException)
        {
            throw new PropertyException("no finding, but the header is not JSON");
        }
    }

    private static void Gguf(byte[] data)
    {
        var findings = GgufScanner.Scan(new MemoryStream(data), data.Length, "fuzz.gguf", null);
        if (findings.Count == 0 && (data.Length < 16 || !data.AsSpan().StartsWith("GGUF"u8))) throw new PropertyException("no finding for a file without a GGUF header");
    }

    private static void Onnx(byte[] data)
    {
        _ = OnnxScanner.Scan(data, "fuzz.onnx", null);
        ModelFile(data, ".onnx");
    }

    // The whole model-file scanner (zip members, numpy, HDF5, nested formats) on one file.
    private static void ModelZip(byte[] data) => ModelFile(data, ".pt");

    private static void ModelFile(byte[] data, string extension)
    {
        var report = ModelScanner.ScanFile(File(data, extension));
        if (report.Bytes != data.Length) throw new PropertyException("the report's size is not the file's");
    }

    private static void Yaml(byte[] data, Action<string> parse)
    {
        try
        {
            parse(Encoding.UTF8.GetString(data));
        }
        catch (ConfigFileException e)
        {
            if (e.Line < 0) throw new PropertyException("a config error with a negative line");
        }
    }

    // The gateway's own readers (instrumented product code, so every input leaves coverage; an input refused by code
    // in this harness would leave none, and AFL aborts on a seed without coverage): a request as the gateway reads one
    // (RequestBody: strict UTF-8, one JSON object), an answer as it reads an upstream's (UpstreamClient.ReadJsonAsync).
    private static JsonObject? Request(byte[] data)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(data);
        return RequestBody.ReadObjectAsync(context.Request, CancellationToken.None).GetAwaiter().GetResult().Body;
    }

    private static JsonNode? Answer(byte[] data)
    {
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new ByteArrayContent(data) };
        response.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return UpstreamClient.ReadJsonAsync(context, response).GetAwaiter().GetResult();
    }

    private static void GatewayRequest(byte[] data)
    {
        if (Request(data) is not { } request) return;
        foreach (var chat in new[] { true, false })
        {
            _ = OpenAiPayload.PromptTexts(request, chat).ToList();
        }

        var texts = JsonStrings.RequestTexts(request, out var count, out var invalid);
        if (invalid is null && count < 0) throw new PropertyException("a negative text count");
        _ = s_guard.Input(string.Join("\n", texts), GuardMode.Block);
    }

    private static void GatewayAnswer(byte[] data)
    {
        if (Answer(data) is not { } body) return;
        var answer = new GuardedAnswer(s_tier, s_canaries);
        var refused = WholeAnswerGuard.Guard(s_guard, body, chat: data.Length % 2 == 0, answer);
        if (refused is not null) return;

        // What goes out holds no finding the output guard would block or redact.
        foreach (var leaf in JsonStrings.Collect(body, JsonStrings.AnswerStructure))
        {
            var again = s_guard.Output(leaf.Value, GuardMode.Block, s_canaries);
            if (again.Blocked) throw new PropertyException($"{leaf.Path} still holds {string.Join(",", again.Findings.Select(f => f.Type))} after the guard");
        }
    }

    private static void GatewayStream(byte[] data)
    {
        var context = new DefaultHttpContext();
        var sent = new MemoryStream();
        context.Response.Body = sent;
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new ByteArrayContent(data) };
        var answer = new GuardedAnswer(s_tier, s_canaries);
        new StreamedAnswerGuard(s_guard, 64).RelayAsync(context, response, chat: data.Length % 2 == 0, answer, new JsonObject()).GetAwaiter().GetResult();
        var output = Encoding.UTF8.GetString(sent.ToArray());
        if (!output.EndsWith("data: [DONE]\n\n", StringComparison.Ordinal)) throw new PropertyException("the stream does not end with [DONE]");
        foreach (var line in output.Split('\n'))
        {
            if (line.Length == 0 || line == "data: [DONE]") continue;
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) throw new PropertyException("a line sent that is not an event");
            if (JsonNode.Parse(line[6..]) is not JsonObject) throw new PropertyException("an event sent that is not a JSON object");
        }
    }
}

/// <summary>A property of a target that does not hold: a finding as much as a crash.</summary>
internal sealed class PropertyException(string message) : Exception(message);
