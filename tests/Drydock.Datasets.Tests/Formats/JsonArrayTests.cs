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
}
