using Drydock.Tests.Shared;
using Parquet;
using Parquet.Schema;

namespace Drydock.Datasets.Tests.Formats;

/// <summary>
/// Parquet files found by the <c>parquet</c> fuzz target (bench/fuzz/corpus/parquet/crash-*). Each read runs on a
/// worker with a deadline, so a reader that loops for ever fails the test instead of hanging the suite.
/// </summary>
public class ParquetHostileTests
{
    // nulls.parquet of the seed corpus with two bytes changed: the footer's last field header asks for a field id
    // after the footer's end. Parquet.Net's Thrift reader took the end of its buffer for endless 0xFF bytes and
    // looped for ever in a varint: `drydock scan` hung at full CPU on a 224-byte file.
    private const string FooterCutShort =
        "UEFSMRUAFSIVJiwVBhUAFQYVBhwYAXgYABYCKAF4GAAAAAARQAQAAAACAAQBAAAAAAEAAAB4FQIZLEgEcm9vdBUCABUMJQIYBHRleHQlAEwcAAAAFgYZHBkc" +
        "JggcFQwZJQAGGRgEdGV4dBUCFgYWZBZkJgg8GAF4GAAWAigBeBgAAAAAFmAWBjZkAChKUGFycXVldC5OZXQgdmVyc2lvbiA2LjEuMCAoYnVpbGQgYzE3OWQ5" +
        "N2JkMjU0OWI1ZjQ0YTkyNDFlNzI5Zjg2OWQ0OTQ3ZWU1OSkIogAAAFBBUjE=";

    // A footer that reads as Thrift but holds a schema without fields: Parquet.Net threw ArgumentException ("at least
    // one field is required") when the reader asked for the schema, outside the reader's error handling.
    private const string SchemaWithoutFields =
        "UEFSMRUAFSIVJgAAAIAAFQYVGAD/////eBgAAAAAEUAEAAAAAgAEAQAAAAABAAAAeBUCGSwAAACAZ3QVAgAVDCUCGAR0ZXh0JQBMHP8AABYGGRwZHCYIHBUM" +
        "GSUABhkYBHRleHQVAhYGFmAWZCYIPBgBeBgAFgIoAXgYAAAAABZgFgY2ZAAoSlBhcnF1ZXQuTmV0IHZlcnNpb24gNi4xLjAgKGJ1aWxkIGMxNzlkOTdiZDI1" +
        "NDliNWY0NmE5MjQxZTcyOWY4NjlkPDk0N2VlNTkpAKIAAABQQVIx";

    [Fact]
    public async Task FooterEndingInsideAField_IsRefusedWithTheFile()
    {
        using var dir = new TempDir();
        var path = dir.File("cut.parquet", Convert.FromBase64String(FooterCutShort));
        var e = await ReadWithDeadline(path);
        Assert.Contains("cut.parquet", e.Message, StringComparison.Ordinal);
        Assert.Contains("footer", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyValidFile_WhoseFooterStopIsReplaced_IsRefusedNotLoopedOn()
    {
        // The general case of the input above: a file written by Parquet.Net itself, its footer's closing STOP byte
        // replaced by a field header whose id would follow in bytes that do not exist.
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "stop.parquet");
        var text = new DataField<string>("text");
        await using (var stream = File.Create(path))
        {
            await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(text), stream, cancellationToken: TestContext.Current.CancellationToken);
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(text, new[] { "hello" });
        }

        var bytes = await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken);
        Assert.Equal(0, bytes[^9]);
        bytes[^9] = 0x08;
        await File.WriteAllBytesAsync(path, bytes, TestContext.Current.CancellationToken);

        var e = await ReadWithDeadline(path);
        Assert.Contains("footer", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SchemaWithoutFields_IsADatasetError()
    {
        using var dir = new TempDir();
        var path = dir.File("empty-schema.parquet", Convert.FromBase64String(SchemaWithoutFields));
        var e = await ReadWithDeadline(path);
        Assert.Contains("empty-schema.parquet", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AValidFile_IsStillReadWhole()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "ok.parquet");
        var text = new DataField<string>("text");
        await using (var stream = File.Create(path))
        {
            await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(text), stream, cancellationToken: TestContext.Current.CancellationToken);
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(text, new[] { "a", "b", "c" });
        }

        var records = await Task.Run(() => new DatasetReader().ReadAll(path).ToList(), TestContext.Current.CancellationToken)
            .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(["a", "b", "c"], records.Select(r => Assert.Single(r.Record!.Fields).Text));
    }

    private static async Task<DatasetException> ReadWithDeadline(string path)
    {
        var read = Task.Run(() => new DatasetReader().ReadAll(path).ToList(), TestContext.Current.CancellationToken);
        var e = await Assert.ThrowsAsync<DatasetException>(() => read.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        return e;
    }
}
