using Drydock.Curation.Policy;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;

namespace Drydock.Fuzz;

/// <summary>Seeds written with the project's own libraries: Parquet files (Parquet.Net) and the starter policy.</summary>
internal static class Seeds
{
    public static async Task WriteAsync(string corpus)
    {
        var parquet = Directory.CreateDirectory(Path.Combine(corpus, "parquet")).FullName;
        var prompt = new DataField<string>("prompt");
        var completion = new DataField<string>("completion");
        var score = new DataField<int>("score");
        await WriteAsync(Path.Combine(parquet, "pairs.parquet"), new ParquetSchema(prompt, completion, score), async group =>
        {
            await group.WriteAsync(prompt, new[] { "hello", "mail me at jane@acme-mail.com" });
            await group.WriteAsync(completion, new[] { "hi", "ok \u202E" });
            await group.WriteAsync<int>(score, new[] { 1, 2 }.AsMemory());
        });
        var text = new DataField<string>("text");
        await WriteAsync(Path.Combine(parquet, "nulls.parquet"), new ParquetSchema(text), async group =>
            await group.WriteAsync(text, new string?[] { null, "", "x" }));

        // A list of strings (read raw, with repetition levels): the file the crash-*-declaring-* inputs were cut from.
        await using (var stream = File.Create(Path.Combine(parquet, "lists.parquet")))
        {
            await ParquetSerializer.SerializeAsync(new[] { new ListRow { Id = "a", Keys = ["x", "y"] }, new ListRow { Id = "b", Keys = ["z"] } }, stream);
        }

        var yaml = Directory.CreateDirectory(Path.Combine(corpus, "yaml-policy")).FullName;
        await File.WriteAllTextAsync(Path.Combine(yaml, "starter.yaml"), StarterPolicy.Text);
    }

    private static async Task WriteAsync(string path, ParquetSchema schema, Func<ParquetRowGroupWriter, Task> rows)
    {
        await using var stream = File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(schema, stream);
        using var group = writer.CreateRowGroup();
        await rows(group);
    }
}

/// <summary>A row with a list column, as Parquet.Net's serializer writes one.</summary>
public sealed class ListRow
{
    public string? Id { get; set; }

    public List<string>? Keys { get; set; }
}
