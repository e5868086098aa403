using Drydock.Tests.Shared;
using System.IO.Compression;
using System.Text;
using Parquet;
using Parquet.Schema;

namespace Drydock.Datasets.Tests.Formats;

public class ParquetAndCompressionTests
{
    [Fact]
    public async Task Read_Parquet_StringColumnsAsFieldsWithRowNumbers()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "d.parquet");
        var prompt = new DataField<string>("prompt");
        var score = new DataField<int>("score");
        var schema = new ParquetSchema(prompt, score);
        await using (var stream = File.Create(path))
        {
            await using var writer = await ParquetWriter.CreateAsync(schema, stream, cancellationToken: TestContext.Current.CancellationToken);
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(prompt, new[] { "hello", "mail me at jane@acme-mail.com" });
            await group.WriteAsync<int>(score, new[] { 1, 2 }.AsMemory(), cancellationToken: TestContext.Current.CancellationToken);
        }

        var reader = new DatasetReader();
        Assert.Equal(DatasetFormat.Parquet, reader.Detect(path).Format);
        var records = reader.ReadAll(path).Select(r => r.Record!).ToList();
        Assert.Equal([1L, 2L], records.Select(r => r.Line));
        Assert.Equal("prompt", Assert.Single(records[1].Fields).Path);
    }

    [Fact]
    public void Read_NotParquet_ClearError()
    {
        using var dir = new TempDir();
        var path = dir.File("x.parquet", "PAR1 but not really");
        var e = Assert.Throws<DatasetException>(() => new DatasetReader().ReadAll(path));
        Assert.Contains("x.parquet", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_GzipAndZstd_DecodedTransparently()
    {
        using var dir = new TempDir();
        var jsonl = Encoding.UTF8.GetBytes("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n");
        using var gz = new MemoryStream();
        using (var zip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true)) zip.Write(jsonl);
        var gzPath = dir.File("a.jsonl.gz", gz.ToArray());
        using var compressor = new ZstdSharp.Compressor();
        var zstPath = dir.File("b.jsonl.zst", compressor.Wrap(jsonl).ToArray());

        foreach (var path in new[] { gzPath, zstPath })
        {
            var reader = new DatasetReader();
            Assert.Equal(DatasetFormat.Chat, reader.Detect(path).Format);
            Assert.Equal("hi", Assert.Single(reader.ReadAll(path)).Record!.Fields.Single(f => f.Path.EndsWith("content", StringComparison.Ordinal)).Text);
        }
    }

    [Fact]
    public void Read_CorruptGzip_ClearError()
    {
        using var dir = new TempDir();
        var path = dir.File("c.jsonl.gz", new byte[] { 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff });
        var e = Assert.Throws<DatasetException>(() => new DatasetReader().ReadAll(path));
        Assert.Contains("c.jsonl.gz", e.Message, StringComparison.Ordinal);
    }
}
