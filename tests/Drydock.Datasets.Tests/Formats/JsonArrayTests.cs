using Drydock.Tests.Shared;
namespace Drydock.Datasets.Tests.Formats;

public class JsonArrayTests
{
    [Fact]
    public void Read_AlpacaArray_ElementsWithTheirStartLines()
    {
        using var dir = new TempDir();
        var path = dir.File("alpaca.json", """
            [
              {"instruction": "Say hi", "input": "", "output": "Hi"},
              {
                "instruction": "Add",
                "input": "2 and 2",
                "output": "4"
              }
            ]
            """);
        var reader = new DatasetReader();
        var format = reader.Detect(path);
        Assert.Equal(DatasetFormat.Alpaca, format.Format);
        var records = reader.ReadAll(path).Select(r => r.Record!).ToList();
        Assert.Equal([2L, 3L], records.Select(r => r.Line));
        Assert.Equal("2 and 2", records[1].Fields.Single(f => f.Path == "input").Text);
    }

    [Fact]
    public void Read_ArrayLargerThanOneBuffer_AllElementsRead()
    {
        using var dir = new TempDir();
        var items = Enumerable.Range(0, 3000).Select(i => $"{{\"instruction\": \"task {i}\", \"output\": \"{new string('z', i % 200)}\"}}");
        var path = dir.File("big.json", "[\n" + string.Join(",\n", items) + "\n]");
        var reader = new DatasetReader(new ReaderOptions { BatchBytes = 4096 });
        var records = reader.ReadAll(path).Select(r => r.Record!).ToList();
        Assert.Equal(3000, records.Count);
        Assert.Equal(3001, records[^1].Line);
    }

    [Fact]
    public void Read_TruncatedArray_ErrorNamesFileAndLine()
    {
        using var dir = new TempDir();
        var path = dir.File("cut.json", "[\n{\"instruction\": \"a\", \"output\": \"b\"},\n{\"instruction\": \"c\"");
        var reader = new DatasetReader();
        var e = Assert.Throws<DatasetException>(() => reader.ReadAll(path));
        Assert.Contains("cut.json", e.Message, StringComparison.Ordinal);
        Assert.Contains("line 3", e.Message, StringComparison.Ordinal);
    }

    // Found by the jsonl fuzz target (a file starting with "[" is read as an array): whatever followed the closing
    // bracket was read by nothing and reported by nothing, a record hidden from the scan.
    [Theory]
    [InlineData("[]\n{\"instruction\": \"hidden\"}\n", "line 2")]
    [InlineData("[{\"instruction\": \"a\", \"output\": \"b\"}] x", "line 1")]
    public void Read_ContentAfterTheArray_ErrorNamesFileAndLine(string text, string line)
    {
        using var dir = new TempDir();
        var path = dir.File("tail.json", text);
        var reader = new DatasetReader();
        var e = Assert.Throws<DatasetException>(() => reader.ReadAll(path));
        Assert.Contains("tail.json", e.Message, StringComparison.Ordinal);
        Assert.Contains(line, e.Message, StringComparison.Ordinal);
        Assert.Contains("after the end of the JSON array", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_WhitespaceAfterTheArray_IsFine()
    {
        using var dir = new TempDir();
        var path = dir.File("ws.json", "[{\"instruction\": \"a\", \"output\": \"b\"}]\n\n  \t\r\n");
        Assert.Single(new DatasetReader().ReadAll(path));
    }
}

