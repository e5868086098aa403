using Drydock.Datasets.Output;
using Drydock.Tests.Shared;

namespace Drydock.Datasets.Tests.Output;

/// <summary>The record writers take the record as the readers kept it (<see cref="RawRecord"/>) and write it back.</summary>
public class RecordWriterTests
{
    [Fact]
    public void Read_CsvRow_KeptAsTypedRow_WithTheTextReviewDecisionsHash()
    {
        using var dir = new TempDir();
        var path = dir.File("t.csv", "name; note\nAnn;\"a;b\"\n");
        var record = Assert.Single(new DatasetReader(new ReaderOptions { KeepRawText = true }).ReadAll(path)).Record!;
        var row = Assert.IsType<RawCsvRow>(record.Raw);
        Assert.Equal(';', row.Delimiter);
        Assert.Equal(["name", " note"], row.Header);
        Assert.Equal(["name", "note"], row.Names);
        Assert.Equal(["Ann", "a;b"], row.Cells);
        // The form review decisions were made on: unchanged, so earlier decisions still find their rows.
        Assert.Equal("""{"delimiter":";","header":["name"," note"],"names":["name","note"],"row":["Ann","a;b"]}""", row.Text);
    }

    [Fact]
    public void Read_JsonLine_KeptAsTypedJson()
    {
        using var dir = new TempDir();
        var path = dir.File("t.jsonl", "{\"delimiter\": \",\", \"text\": \"hello\"}\r\n");
        var record = Assert.Single(new DatasetReader(new ReaderOptions { KeepRawText = true }).ReadAll(path)).Record!;
        Assert.Equal("{\"delimiter\": \",\", \"text\": \"hello\"}", Assert.IsType<RawJson>(record.Raw).Json);
    }

    [Fact]
    public void CsvRowWriter_ChangedCells_ByNameAndPosition_QuotedForTheRowsDelimiter()
    {
        var row = new RawCsvRow(';', ["name", "note"], ["name", "note"], ["Ann", "plain, text", "extra"]);
        var (header, original, cleaned) = CsvRowWriter.Rewrite(row, [("note", "say \"hi\"; bye"), ("column3", "line\nbreak")]);
        Assert.Equal("name;note", header);
        Assert.Equal("Ann;plain, text;extra", original);
        Assert.Equal("Ann;\"say \"\"hi\"\"; bye\";\"line\nbreak\"", cleaned);
        Assert.Equal(["Ann", "plain, text", "extra"], row.Cells);
    }

    [Fact]
    public void JsonFieldWriter_RewritesNamedValues_KeepsTheRest()
    {
        var json = """{"a": {"odd \"key\"": "x", "n": 1.50}, "m": [{"c": "y"}, {"c": "z"}], "u": "é"}""";
        var rewritten = JsonFieldWriter.Rewrite(json, [("a[\"odd \\\"key\\\"\"]", "X"), ("m[1].c", "<Z>")]);
        Assert.Equal("""{"a":{"odd \"key\"":"X","n":1.50},"m":[{"c":"y"},{"c":"<Z>"}],"u":"é"}""", rewritten);
        Assert.Throws<InvalidDataException>(() => JsonFieldWriter.Rewrite(json, [("m[0].missing", "v")]));
    }
}
