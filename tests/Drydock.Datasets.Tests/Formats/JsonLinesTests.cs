using Drydock.Tests.Shared;
using System.Text;
using Drydock.Datasets.Formats;

namespace Drydock.Datasets.Tests.Formats;

public class JsonLinesTests
{
    [Fact]
    public void Read_ChatRecord_YieldsEveryTextFieldWithItsPath()
    {
        using var dir = new TempDir();
        var path = dir.File("chat.jsonl", """
            {"id": "r1", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "part one"}, {"type": "text", "text": "part two"}]}, {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\": \"x\"}"}}]}], "tools": [{"type": "function", "function": {"name": "lookup", "description": "Looks things up"}}]}
            """);

        var reader = new DatasetReader();
        Assert.Equal(DatasetFormat.Chat, reader.Detect(path).Format);
        var record = Assert.Single(reader.ReadAll(path)).Record!;
        Assert.Equal("r1", record.Id);
        Assert.Equal(1, record.Line);
        var paths = record.Fields.ToDictionary(f => f.Path, f => f.Text);
        Assert.Equal("Be brief.", paths["messages[0].content"]);
        Assert.Equal("part two", paths["messages[1].content[1].text"]);
        Assert.Equal("{\"q\": \"x\"}", paths["messages[2].tool_calls[0].function.arguments"]);
        Assert.Equal("Looks things up", paths["tools[0].function.description"]);
    }

    [Fact]
    public void Read_BlankLinesCrLfAndBom_KeepPhysicalLineNumbers()
    {
        using var dir = new TempDir();
        var content = "\uFEFF{\"prompt\": \"a\", \"completion\": \"b\"}\r\n\r\n{\"prompt\": \"c\", \"completion\": \"d\"}\r\n";
        var path = dir.File("pc.jsonl", content);
        var reader = new DatasetReader();
        Assert.Equal(DatasetFormat.PromptCompletion, reader.Detect(path).Format);
        var records = reader.ReadAll(path).Select(r => r.Record!).ToList();
        Assert.Equal([1L, 3L], records.Select(r => r.Line));
        Assert.Equal("d", records[1].Fields.Single(f => f.Path == "completion").Text);
    }

    [Fact]
    public void Read_MalformedLine_ReportedWithLineAndReason_AndReadingGoesOn()
    {
        using var dir = new TempDir();
        var path = dir.File("bad.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"broken\n{\"text\": \"after\"}\n[1, 2]\n");
        var results = new DatasetReader().ReadAll(path);
        Assert.Equal(4, results.Count);
        Assert.Equal(2, results[1].Problem!.Line);
        Assert.Contains("invalid JSON", results[1].Problem!.Reason, StringComparison.Ordinal);
        Assert.Equal("after", results[2].Record!.Fields[0].Text);
        Assert.Contains("expected a JSON object", results[3].Problem!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_InvalidUtf8_ReportedAndStillRead()
    {
        using var dir = new TempDir();
        var bytes = Encoding.UTF8.GetBytes("{\"text\": \"caf").Concat(new byte[] { 0xC3, 0x28 }).Concat(Encoding.UTF8.GetBytes(" mail jane@acme-mail.com\"}\n")).ToArray();
        var path = dir.File("utf8.jsonl", bytes);
        var result = Assert.Single(new DatasetReader().ReadAll(path));
        Assert.Contains("invalid UTF-8 at byte 14", result.Problem!.Reason, StringComparison.Ordinal);
        Assert.Contains("jane@acme-mail.com", result.Record!.Fields[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_DeepNesting_ReportedNotCrashed()
    {
        using var dir = new TempDir();
        var deep = string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000);
        var path = dir.File("deep.jsonl", deep + "\n{\"text\": \"next\"}\n");
        var results = new DatasetReader().ReadAll(path);
        Assert.Contains("depth", results[0].Problem!.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("next", results[1].Record!.Fields[0].Text);
    }

    [Fact]
    public void Read_LineOverLimit_SkippedAndReported_NextLineRead()
    {
        using var dir = new TempDir();
        var huge = "{\"text\": \"" + new string('x', 300_000) + "\"}";
        var path = dir.File("huge.jsonl", "{\"text\": \"first\"}\n" + huge + "\n{\"text\": \"last\"}\n");
        var reader = new DatasetReader(new ReaderOptions { MaxRecordBytes = 64 * 1024, BatchBytes = 16 * 1024 });
        var results = reader.ReadAll(path);
        Assert.Equal(3, results.Count);
        Assert.Equal(2, results[1].Problem!.Line);
        Assert.Contains("longer than the limit", results[1].Problem!.Reason, StringComparison.Ordinal);
        Assert.Equal(3, results[2].Record!.Line);
    }

    [Fact]
    public void Read_LinesAcrossManySmallBatches_AllReadInOrder()
    {
        using var dir = new TempDir();
        var lines = Enumerable.Range(1, 2000).Select(i => $"{{\"id\": {i}, \"text\": \"record number {i} {new string('y', i % 97)}\"}}");
        var path = dir.File("many.jsonl", string.Join("\n", lines));
        var reader = new DatasetReader(new ReaderOptions { BatchBytes = 4096 });
        var records = reader.ReadAll(path).Select(r => r.Record!).ToList();
        Assert.Equal(2000, records.Count);
        Assert.Equal(Enumerable.Range(1, 2000).Select(i => (long)i), records.Select(r => r.Line));
        Assert.Equal("2000", records[^1].Id);
    }

    [Fact]
    public void Read_ForcedFormatMissingKey_ReportsTheMissingField()
    {
        using var dir = new TempDir();
        var path = dir.File("pc.jsonl", "{\"prompt\": \"a\", \"completion\": \"b\"}\n");
        var reader = new DatasetReader(new ReaderOptions { Format = DatasetFormat.Chat });
        var result = Assert.Single(reader.ReadAll(path));
        Assert.Equal("field 'messages' is missing (chat format needs a 'messages' array)", result.Problem!.Reason);
    }

    [Fact]
    public void Read_EmptyFile_NoRecordsNoProblems()
    {
        using var dir = new TempDir();
        var path = dir.File("empty.jsonl", "");
        Assert.Empty(new DatasetReader().ReadAll(path));
    }

    [Theory]
    [InlineData("{\"messages\": []}", DatasetFormat.Chat)]
    [InlineData("{\"conversations\": [{\"from\": \"human\", \"value\": \"hi\"}]}", DatasetFormat.ShareGpt)]
    [InlineData("{\"instruction\": \"i\", \"input\": \"\", \"output\": \"o\"}", DatasetFormat.Alpaca)]
    [InlineData("{\"prompt\": \"p\", \"completion\": \"c\"}", DatasetFormat.PromptCompletion)]
    [InlineData("{\"text\": \"t\"}", DatasetFormat.Jsonl)]
    public void Sniff_FirstRecordKeys_PickTheSchema(string firstLine, DatasetFormat expected) =>
        Assert.Equal(expected, FormatSniffer.Sniff("x.jsonl", Encoding.UTF8.GetBytes(firstLine + "\n"), DatasetFormat.Auto).Format);

    [Fact]
    public void Sniff_NeitherJsonNorKnownExtension_SaysHowToForce()
    {
        var e = Assert.Throws<FormatException>(() => FormatSniffer.Sniff("notes.txt", "hello world"u8, DatasetFormat.Auto));
        Assert.Contains("--input-format", e.Message, StringComparison.Ordinal);
    }
}
