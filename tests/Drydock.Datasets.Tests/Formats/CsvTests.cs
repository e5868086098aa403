using Drydock.Tests.Shared;
namespace Drydock.Datasets.Tests.Formats;

public class CsvTests
{
    [Fact]
    public void Read_QuotedMultilineCell_RowLineIsWhereTheRowStarts()
    {
        using var dir = new TempDir();
        var path = dir.File("t.csv", "id,question,answer\n1,\"Hello, there\",\"line one\nline two\"\n2,plain,\"say \"\"hi\"\"\"\n");
        var records = new DatasetReader().ReadAll(path).Select(r => r.Record!).ToList();
        Assert.Equal([2L, 4L], records.Select(r => r.Line));
        Assert.Equal("line one\nline two", records[0].Fields.Single(f => f.Path == "answer").Text);
        Assert.Equal("say \"hi\"", records[1].Fields.Single(f => f.Path == "answer").Text);
    }

    [Fact]
    public void Read_WrongColumnCount_ReportedAndStillScanned()
    {
        using var dir = new TempDir();
        var path = dir.File("t.csv", "a,b\n1,2\n3,4,5\n");
        var results = new DatasetReader().ReadAll(path);
        Assert.Equal("row has 3 columns, the header has 2", results[1].Problem!.Reason);
        Assert.Equal(3, results[1].Problem!.Line);
        Assert.Equal(3, results[1].Record!.Fields.Count);
    }

    [Fact]
    public void Read_UnclosedQuote_Reported()
    {
        using var dir = new TempDir();
        var path = dir.File("t.csv", "a,b\n1,\"never closed\n");
        var result = Assert.Single(new DatasetReader().ReadAll(path));
        Assert.Contains("never closed", result.Problem!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_Tsv_SplitsOnTabs()
    {
        using var dir = new TempDir();
        var path = dir.File("t.tsv", "q\ta\nwhat, then?\tthis, then\n");
        var record = Assert.Single(new DatasetReader().ReadAll(path)).Record!;
        Assert.Equal("this, then", record.Fields.Single(f => f.Path == "a").Text);
    }
}
