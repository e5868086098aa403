using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Drydock.Tests.Shared;
using Parquet.Serialization;

namespace Drydock.Cli.Tests;

/// <summary>
/// Inputs are whole or refused, through the built CLI in its own process: a compressed file cut short, a folder that
/// cannot be listed, symbolic link loops, records scan calls malformed, outputs that are inputs, an interrupted run.
/// </summary>
public sealed class InputsAreWholeTests : IDisposable
{
    private static readonly Dictionary<string, string?> s_key = new() { ["DRYDOCK_REDACTION_KEY"] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" };

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Records(int from, int count) => string.Concat(Enumerable.Range(from, count).Select(i =>
        $"{{\"id\": \"{i}\", \"messages\": [{{\"role\": \"user\", \"content\": \"Question number {i} about the opening hours.\"}}, {{\"role\": \"assistant\", \"content\": \"Answer {i}.\"}}]}}\n"));

    private static Task<ProcessResult> Drydock(string dir, params string[] args) => DrydockProcess.Run(dir, args, s_key);

    // Temporary files are hidden (".NAME.PID.GUID.tmp"): listed by name, as a "*.tmp" pattern does not find them.
    private static IEnumerable<string> Temporaries(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Where(f => f.EndsWith(".tmp", StringComparison.Ordinal));

    private static void NoStackTrace(ProcessResult result)
    {
        Assert.DoesNotContain("Unhandled exception", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    // Compresses two halves with a flush between them; returns the bytes and where the flush ended.
    private static (byte[] Whole, int FlushPoint) Compress(Func<Stream, Stream> compressor)
    {
        using var buffer = new MemoryStream();
        int flushPoint;
        using (var stream = compressor(buffer))
        {
            stream.Write(Encoding.UTF8.GetBytes(Records(0, 1000)));
            stream.Flush();
            flushPoint = (int)buffer.Length;
            stream.Write(Encoding.UTF8.GetBytes(Records(1000, 1000)));
        }

        return (buffer.ToArray(), flushPoint);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("zstd")]
    public async Task Scan_CompressedFileCutAtFlushPoint_NamesFileExit2(string compression)
    {
        var (whole, flushPoint) = compression == "gzip"
            ? Compress(s => new GZipStream(s, CompressionLevel.Optimal, leaveOpen: true))
            : Compress(s => new ZstdSharp.CompressionStream(s, level: 3, leaveOpen: true));
        var extension = compression == "gzip" ? ".gz" : ".zst";
        _dir.File("whole.jsonl" + extension, whole);
        _dir.File("cut.jsonl" + extension, whole[..flushPoint]);

        var complete = await Drydock(_dir.Path, "scan", "whole.jsonl" + extension, "--format", "json");
        Assert.True(complete.Exit == 0, complete.ToString());
        Assert.Equal(2000, JsonDocument.Parse(complete.Stdout).RootElement.GetProperty("summary").GetProperty("records").GetInt32());

        var cut = await Drydock(_dir.Path, "scan", "cut.jsonl" + extension, "--format", "json");
        Assert.True(cut.Exit == 2, cut.ToString());
        Assert.Contains($"cut.jsonl{extension}: cannot read ({compression})", cut.Stderr, StringComparison.Ordinal);
        var input = JsonDocument.Parse(cut.Stdout).RootElement.GetProperty("inputs")[0];
        Assert.True(input.TryGetProperty("error", out _), cut.Stdout);
        NoStackTrace(cut);

        var clean = await Drydock(_dir.Path, "clean", "cut.jsonl" + extension, "-o", "out.jsonl");
        Assert.True(clean.Exit == 2, clean.ToString());
        Assert.Contains($"cut.jsonl{extension}", clean.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir.Path, "out.jsonl")));
        Assert.Empty(Temporaries(_dir.Path));
    }

    public sealed class Payment
    {
        [JsonPropertyName("card")]
        public string? Card { get; set; }
    }

    public sealed class NestedRow
    {
        [JsonPropertyName("id")]
        public string? Id { get; set; }

        [JsonPropertyName("payment")]
        public Payment? Payment { get; set; }

        [JsonPropertyName("keys")]
        public List<string>? Keys { get; set; }
    }

    public sealed class DeepRow
    {
        [JsonPropertyName("grid")]
        public List<List<string>>? Grid { get; set; }
    }

    [Fact]
    public async Task Scan_ParquetStructAndListOfStrings_ReadAsFieldsWithJsonPaths()
    {
        var rows = new List<NestedRow>
        {
            new() { Id = "a", Payment = new Payment { Card = "ok" }, Keys = ["none"] },
            new() { Id = "b", Payment = new Payment { Card = "Card 4539 1488 0343 6467 was declined." }, Keys = ["first", "token ghp_R8x2Lq9ZtW4mN7vB3kP6sY1cH5jD0fGa2QeU"] },
        };
        await using (var stream = File.Create(Path.Combine(_dir.Path, "nested.parquet")))
        {
            await ParquetSerializer.SerializeAsync(rows, stream, cancellationToken: TestContext.Current.CancellationToken);
        }

        var result = await Drydock(_dir.Path, "scan", "nested.parquet", "--format", "json", "--fail-on", "none");
        Assert.True(result.Exit == 0, result.ToString());
        var findings = JsonDocument.Parse(result.Stdout).RootElement.GetProperty("findings").EnumerateArray()
            .Select(f => (Line: f.GetProperty("line").GetInt32(), Field: f.GetProperty("field").GetString(), Type: f.GetProperty("type").GetString())).ToList();
        Assert.Contains((2, "payment.card", "credit-card"), findings);
        Assert.Contains(findings, f => f.Line == 2 && f.Field == "keys[1]" && f.Type!.Contains("github", StringComparison.Ordinal));

        // Strings in a list of lists are refused with the column's name, never skipped.
        await using (var stream = File.Create(Path.Combine(_dir.Path, "deep.parquet")))
        {
            await ParquetSerializer.SerializeAsync(new List<DeepRow> { new() { Grid = [["x", "y"], ["z"]] } }, stream, cancellationToken: TestContext.Current.CancellationToken);
        }

        var deep = await Drydock(_dir.Path, "scan", "deep.parquet");
        Assert.True(deep.Exit == 2, deep.ToString());
        Assert.Contains("deep.parquet: column grid[*][*]: strings inside lists of lists cannot be read", deep.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_CorruptParquet_NamedInputErrorExit2WithoutStackTrace()
    {
        var rows = Enumerable.Range(0, 50).Select(i => new NestedRow { Id = $"row {i}", Payment = new Payment { Card = $"card {i}" }, Keys = [$"key {i}"] }).ToList();
        var path = Path.Combine(_dir.Path, "corrupt.parquet");
        await using (var stream = File.Create(path))
        {
            await ParquetSerializer.SerializeAsync(rows, stream, cancellationToken: TestContext.Current.CancellationToken);
        }

        var bytes = await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken);
        for (var i = 20; i <= 60; i++) bytes[i] ^= 0xFF;
        await File.WriteAllBytesAsync(path, bytes, TestContext.Current.CancellationToken);
        // The footer too: a corrupt Thrift footer is the library's own exception type.
        for (var i = bytes.Length - 60; i < bytes.Length - 8; i++) bytes[i] ^= 0x5A;
        await File.WriteAllBytesAsync(Path.Combine(_dir.Path, "footer.parquet"), bytes, TestContext.Current.CancellationToken);

        foreach (var name in new[] { "corrupt.parquet", "footer.parquet" })
        {
            var result = await Drydock(_dir.Path, "scan", name, "--fail-on", "none");
            Assert.True(result.Exit == 2, result.ToString());
            Assert.Contains($"{name}:", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled", result.Stderr, StringComparison.Ordinal);
        }
    }

    // Two rows of Parquet.Net's writing whose footer was rewritten: the list column Keys declares 500,000,000 values
    // (the rows hold 3); and a one-column file whose row group declares 500,000,000 rows (it holds 2). The reader sized
    // its arrays by those counts before reading a page: 12 GB and 8 GB for files of 402 and 369 bytes.
    private const string ListDeclaringHalfABillionValues =
        "UEFSMRUAFSAVJCwVBBUAFQYVBhwYAWIYAWEWACgBYhgBYQAAABA8AgAAAAQBAQAAAGEBAAAAYhUAFT4VQiwVBhUAFQYVBhwYAXoYAXgWACgBehgBeAAAAB94" +
        "BgAAAAIAAgECAAIAAAAGAwEAAAB4AQAAAHkBAAAAehUCGVxIBHJvb3QVBAAVDCUCGAJJZCUATBwAAAA1AhgES2V5cxUCFQZMPAAAADUEGARsaXN0FQIAFQwl" +
        "AhgHZWxlbWVudCUATBwAAAAWBBkcGSwmCBwVDBklAAYZGAJJZBUCFgQWYhZmJgg8GAFiGAFhFgAoAWIYAWEAAAAmbhwVDBklAAYZOARLZXlzBGxpc3QHZWxl" +
        "bWVudBUCFoCU69wDFoABFoQBJm48GAF6GAF4FgAoAXoYAXgAAAAW4gEWBDbqAQAoSlBhcnF1ZXQuTmV0IHZlcnNpb24gNi4xLjAgKGJ1aWxkIGMxNzlkOTdi" +
        "ZDI1NDliNWY0NGE5MjQxZTcyOWY4NjlkNDk0N2VlNTkpABEBAABQQVIx";

    private const string RowGroupDeclaringHalfABillionRows =
        "UEFSMRUAFVQVWCwVBBUAFQYVBhwYF21haWwgamFuZUBhY21lLW1haWwuY29tGAVoZWxsbxYAKBdtYWlsIGphbmVAYWNtZS1tYWlsLmNvbRgFaGVsbG8AAAAq" +
        "pAIAAAAEAQUAAABoZWxsbxcAAABtYWlsIGphbmVAYWNtZS1tYWlsLmNvbRUCGSxIBHJvb3QVAgAVDCUCGARUZXh0JQBMHAAAABaAlOvcAxkcGRwmCBwVDBkl" +
        "AAYZGARUZXh0FQIWBBb+ARaCAiYIPBgXbWFpbCBqYW5lQGFjbWUtbWFpbC5jb20YBWhlbGxvFgAoF21haWwgamFuZUBhY21lLW1haWwuY29tGAVoZWxsbwAA" +
        "ABb+ARaAlOvcAzaCAgAoSlBhcnF1ZXQuTmV0IHZlcnNpb24gNi4xLjAgKGJ1aWxkIGMxNzlkOTdiZDI1NDliNWY0NGE5MjQxZTcyOWY4NjlkNDk0N2VlNTkp" +
        "AOQAAABQQVIx";

    [Fact]
    public async Task Scan_ParquetDeclaringMoreValuesThanItHolds_RefusedBeforeAnythingIsAllocated()
    {
        _dir.File("list.parquet", Convert.FromBase64String(ListDeclaringHalfABillionValues));
        _dir.File("rows.parquet", Convert.FromBase64String(RowGroupDeclaringHalfABillionRows));

        // A heap limit of 256 MiB: what the arrays would take fails here as it would on any machine smaller than them.
        var environment = new Dictionary<string, string?>(s_key) { ["DOTNET_GCHeapHardLimit"] = "0x10000000" };
        var list = await DrydockProcess.Run(_dir.Path, ["scan", "list.parquet"], environment, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(list.Exit == 2, list.ToString());
        Assert.Contains("list.parquet: row group 1, column Keys[*]: declares 500,000,000 values", list.Stderr, StringComparison.Ordinal);
        NoStackTrace(list);

        var rows = await DrydockProcess.Run(_dir.Path, ["scan", "rows.parquet"], environment, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(rows.Exit == 2, rows.ToString());
        Assert.Contains("rows.parquet: row group 1: declares 500,000,000 rows", rows.Stderr, StringComparison.Ordinal);
        NoStackTrace(rows);
    }

    [Fact]
    public async Task Scan_SymlinkLoops_EachFileReadOnceWithoutHanging()
    {
        _dir.File("data/a/one.jsonl", Records(0, 10));
        _dir.File("data/c/two.jsonl", Records(10, 10));
        Directory.CreateDirectory(Path.Combine(_dir.Path, "data/a/b"));
        File.CreateSymbolicLink(Path.Combine(_dir.Path, "data/a/b/up"), "..");
        File.CreateSymbolicLink(Path.Combine(_dir.Path, "data/c/loop"), "../../data");
        File.CreateSymbolicLink(Path.Combine(_dir.Path, "data/a/same.jsonl"), "one.jsonl");

        var result = await DrydockProcess.Run(_dir.Path, ["scan", "data", "--format", "json"], s_key, timeout: TimeSpan.FromSeconds(90), cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(result.Exit == 0, result.ToString());
        var report = JsonDocument.Parse(result.Stdout).RootElement;
        var paths = report.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("path").GetString()!.Replace('\\', '/')).ToList();
        Assert.Equal(["data/a/one.jsonl", "data/c/two.jsonl"], paths);
        Assert.Equal(20, report.GetProperty("summary").GetProperty("records").GetInt32());
        Assert.Contains("data/a/b/up: a link to", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("data/c/loop: a link to", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("data/a/same.jsonl: the same file as data/a/one.jsonl", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_UnreadableSubfolder_NamedErrorExit2()
    {
        if (OperatingSystem.IsWindows()) Assert.Skip("POSIX permissions");
        _dir.File("data/ok/a.jsonl", Records(0, 5));
        _dir.File("data/locked/b.jsonl", Records(5, 5));
        var locked = Path.Combine(_dir.Path, "data/locked");
        File.SetUnixFileMode(locked, UnixFileMode.None);
        try
        {
            // Root reads any folder: run the CLI without the capabilities that bypass permissions, as an ordinary user is.
            var result = Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root"
                ? await RunWithoutOverride(_dir.Path, "scan", "data")
                : await Drydock(_dir.Path, "scan", "data");
            Assert.True(result.Exit == 2, result.ToString());
            Assert.Contains("data/locked: cannot read this folder (permission denied)", result.Stderr, StringComparison.Ordinal);
            NoStackTrace(result);
        }
        finally
        {
            File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public async Task Clean_DuplicateKey_QuarantinedWholeAsScanReportsIt()
    {
        const string duplicate = "{\"id\": \"9\", \"messages\": [{\"role\": \"user\", \"content\": \"Mail jane.roe@harbor-mail.net\"}], \"messages\": [{\"role\": \"user\", \"content\": \"harmless\"}]}";
        _dir.File("in.jsonl", Records(0, 2) + duplicate + "\n");

        var scan = await Drydock(_dir.Path, "scan", "in.jsonl", "--format", "json");
        Assert.True(scan.Exit == 2, scan.ToString());
        Assert.Contains("in.jsonl:3: duplicate key 'messages'", scan.Stderr, StringComparison.Ordinal);

        var clean = await Drydock(_dir.Path, "clean", "in.jsonl", "-o", "out.jsonl");
        Assert.True(clean.Exit == 2, clean.ToString());
        NoStackTrace(clean);
        Assert.Contains("in.jsonl:3: malformed: duplicate key 'messages'", clean.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("harbor-mail", await File.ReadAllTextAsync(Path.Combine(_dir.Path, "out.jsonl"), TestContext.Current.CancellationToken), StringComparison.Ordinal);
        var quarantined = JsonDocument.Parse(Assert.Single(File.ReadAllLines(Path.Combine(_dir.Path, "out.jsonl.quarantine.jsonl")))).RootElement;
        Assert.Equal(duplicate, quarantined.GetProperty("record").GetString());
        Assert.Equal(0, (await Drydock(_dir.Path, "clean", "in.jsonl", "-o", "out.jsonl", "--allow-malformed")).Exit);
    }

    [Fact]
    public async Task Clean_JsonArraySyntaxError_NamedErrorLikeScanNoOutput()
    {
        _dir.File("in.json", "[\n{\"instruction\": \"a\", \"output\": \"b\"},\n{\"instruction\": x}\n]\n");
        var scan = await Drydock(_dir.Path, "scan", "in.json");
        Assert.True(scan.Exit == 2, scan.ToString());
        Assert.Contains("in.json: line 3: invalid JSON", scan.Stderr, StringComparison.Ordinal);

        var clean = await Drydock(_dir.Path, "clean", "in.json", "-o", "out.json");
        Assert.True(clean.Exit == 2, clean.ToString());
        NoStackTrace(clean);
        Assert.Contains("in.json: line 3: invalid JSON", clean.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir.Path, "out.json")));
        Assert.Empty(Temporaries(_dir.Path));
    }

    [Fact]
    public async Task Clean_InvalidUtf8_QuarantinedAsScanReportsIt()
    {
        var bad = Encoding.UTF8.GetBytes("{\"id\": \"7\", \"messages\": [{\"role\": \"user\", \"content\": \"caf\u00e9 XX\"}]}\n");
        bad[Array.IndexOf(bad, (byte)'X')] = 0xFF;
        _dir.File("in.jsonl", [.. Encoding.UTF8.GetBytes(Records(0, 2)), .. bad]);

        var scan = await Drydock(_dir.Path, "scan", "in.jsonl");
        Assert.True(scan.Exit == 2, scan.ToString());
        Assert.Contains("in.jsonl:3: invalid UTF-8", scan.Stderr, StringComparison.Ordinal);

        var clean = await Drydock(_dir.Path, "clean", "in.jsonl", "-o", "out.jsonl");
        Assert.True(clean.Exit == 2, clean.ToString());
        Assert.Contains("in.jsonl:3: malformed: invalid UTF-8", clean.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("caf", await File.ReadAllTextAsync(Path.Combine(_dir.Path, "out.jsonl"), TestContext.Current.CancellationToken), StringComparison.Ordinal);
        var quarantined = JsonDocument.Parse(Assert.Single(File.ReadAllLines(Path.Combine(_dir.Path, "out.jsonl.quarantine.jsonl")))).RootElement;
        Assert.Equal(3, quarantined.GetProperty("line").GetInt32());
        Assert.Equal("7", quarantined.GetProperty("recordId").GetString());
    }

    [Fact]
    public async Task Clean_HoldoutIsTheInput_RefusedInputUntouched()
    {
        var input = _dir.File("data.jsonl.holdout.jsonl", Records(0, 20));
        var before = await File.ReadAllBytesAsync(input, TestContext.Current.CancellationToken);
        var result = await Drydock(_dir.Path, "clean", "data.jsonl.holdout.jsonl", "-o", "data.jsonl", "--holdout", "0.5");
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains("the held-out file data.jsonl.holdout.jsonl is the input", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(input, TestContext.Current.CancellationToken));
        Assert.False(File.Exists(Path.Combine(_dir.Path, "data.jsonl")));

        // Through a link too, and for every output of clean and scan's report.
        File.CreateSymbolicLink(Path.Combine(_dir.Path, "alias.jsonl"), "data.jsonl.holdout.jsonl");
        var ledger = await Drydock(_dir.Path, "clean", "data.jsonl.holdout.jsonl", "-o", "x.jsonl", "--ledger", "alias.jsonl");
        Assert.True(ledger.Exit == 2, ledger.ToString());
        Assert.Contains("--ledger alias.jsonl is the input", ledger.Stderr, StringComparison.Ordinal);
        var report = await Drydock(_dir.Path, "scan", "data.jsonl.holdout.jsonl", "-o", "alias.jsonl");
        Assert.True(report.Exit == 2, report.ToString());
        Assert.Contains("--output alias.jsonl is the input", report.Stderr, StringComparison.Ordinal);
        var twice = await Drydock(_dir.Path, "clean", "data.jsonl.holdout.jsonl", "-o", "x.jsonl", "--quarantine", "x.jsonl");
        Assert.True(twice.Exit == 2, twice.ToString());
        Assert.Equal(before, await File.ReadAllBytesAsync(input, TestContext.Current.CancellationToken));
    }

    private async Task<string> RegisteredDataset()
    {
        File.Copy(Path.Combine(AppContext.BaseDirectory, "samples", "support-tickets.jsonl"), Path.Combine(_dir.Path, "tickets.jsonl"));
        foreach (var args in new[] { new[] { "init" }, ["clean", "tickets.jsonl", "-o", "clean.jsonl", "--allow-malformed"], ["dataset", "register", "clean.jsonl.manifest.json"] })
        {
            var step = await Drydock(_dir.Path, args);
            Assert.True(step.Exit == 0, step.ToString());
            if (args[0] == "dataset") return step.Stdout.Split(' ')[0];
        }

        throw new InvalidOperationException("unreachable");
    }

    [Fact]
    public async Task Verify_QuarantineFileChangedAfterSigning_Fails()
    {
        await RegisteredDataset();
        var signed = await Drydock(_dir.Path, "verify", "clean.jsonl.manifest.json");
        Assert.True(signed.Exit == 0, signed.ToString());
        Assert.Contains("clean.jsonl.quarantine.jsonl", signed.Stdout, StringComparison.Ordinal);

        await File.AppendAllTextAsync(Path.Combine(_dir.Path, "clean.jsonl.quarantine.jsonl"), "{}\n", TestContext.Current.CancellationToken);
        var changed = await Drydock(_dir.Path, "verify", "clean.jsonl.manifest.json");
        Assert.True(changed.Exit == 1, changed.ToString());
        Assert.Contains("'clean.jsonl.quarantine.jsonl' does not match its digest", changed.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_FileAddedToOrChangedInSignedModelFolder_Fails()
    {
        var dataset = await RegisteredDataset();
        _dir.File("adapter/adapter_config.json", "{\"r\": 8}");
        _dir.File("adapter/weights/part1.bin", "weights");
        var registered = await Drydock(_dir.Path, "model", "register", "adapter", "--dataset", dataset, "--base-model", "tiny-base@sha256:00");
        Assert.True(registered.Exit == 0, registered.ToString());
        var signed = await Drydock(_dir.Path, "verify", "adapter.dsse.json");
        Assert.True(signed.Exit == 0, signed.ToString());

        _dir.File("adapter/weights/extra.py", "import os");
        var added = await Drydock(_dir.Path, "verify", "adapter.dsse.json");
        Assert.True(added.Exit == 1, added.ToString());
        Assert.Contains("'adapter/weights/extra.py' is in the signed model folder but not covered", added.Stderr, StringComparison.Ordinal);

        File.Delete(Path.Combine(_dir.Path, "adapter/weights/extra.py"));
        Assert.Equal(0, (await Drydock(_dir.Path, "verify", "adapter.dsse.json")).Exit);
        _dir.File("adapter/weights/part1.bin", "weightz");
        var changed = await Drydock(_dir.Path, "verify", "adapter.dsse.json");
        Assert.True(changed.Exit == 1, changed.ToString());
        Assert.Contains("'adapter/weights/part1.bin' does not match its digest", changed.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TERM", 143)]
    [InlineData("INT", 130)]
    public async Task Clean_InterruptedBySignal_LeavesNoTemporaryFile(string signal, int expectedExit)
    {
        if (OperatingSystem.IsWindows()) Assert.Skip("POSIX signals");
        // A shell that starts a job in the background (`cmd &`, nohup) makes it ignore SIGINT, and the child inherits
        // that: the signal never reaches drydock, whatever it does. Only then is the INT case skipped.
        if (signal == "INT" && SignalIgnoredHere(2)) Assert.Skip("SIGINT is ignored by this test run (started in the background by a shell), so drydock would inherit that");
        var cancellationToken = TestContext.Current.CancellationToken;
        await using (var writer = new StreamWriter(Path.Combine(_dir.Path, "big.jsonl")))
        {
            for (var i = 0; i < 60; i++) await writer.WriteAsync(Records(i * 5000, 5000));
        }

        using var process = Start(_dir.Path, null, "clean", "big.jsonl", "-o", "out.jsonl");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (!Temporaries(_dir.Path).Any())
        {
            if (process.HasExited) Assert.Fail("clean ended before its temporary files appeared: " + await stderr);
            Assert.True(DateTime.UtcNow < deadline, "no temporary file appeared");
            await Task.Delay(50, cancellationToken);
        }

        using (var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(cancellationToken);
        }

        // The docs promise an exit within the grace period (5 s) of the signal; generous on a loaded machine.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(limit.Token);
        Assert.Equal(expectedExit, process.ExitCode);
        Assert.Empty(Temporaries(_dir.Path));
        Assert.False(File.Exists(Path.Combine(_dir.Path, "out.jsonl")));
        NoStackTrace(new ProcessResult(process.ExitCode, "", await stderr));
    }

    private static bool SignalIgnoredHere(int number)
    {
        if (!File.Exists("/proc/self/status")) return false;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (number - 1))) != 0;
    }

    private static Process Start(string dir, string? launcher, params string[] args)
    {
        var info = new ProcessStartInfo(launcher ?? "dotnet") { WorkingDirectory = dir, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (launcher is not null)
        {
            foreach (var arg in new[] { "--bounding-set=-dac_override,-dac_read_search", "--", "dotnet" }) info.ArgumentList.Add(arg);
        }

        info.ArgumentList.Add(DrydockProcess.CliAssembly);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["NO_COLOR"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DRYDOCK_REDACTION_KEY"] = s_key["DRYDOCK_REDACTION_KEY"];
        return Process.Start(info)!;
    }

    // The CLI in its own process without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (util-linux setpriv).
    private static async Task<ProcessResult> RunWithoutOverride(string dir, params string[] args)
    {
        if (!File.Exists("/usr/bin/setpriv")) Assert.Skip("running as root without setpriv: permissions cannot be enforced");
        using var process = Start(dir, "/usr/bin/setpriv", args);
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(limit.Token);
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }
}
