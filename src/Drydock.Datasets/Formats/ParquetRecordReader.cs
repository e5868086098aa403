using Parquet;
using Parquet.Schema;

namespace Drydock.Datasets.Formats;

/// <summary>Reads the flat string columns of a Parquet file, one row group at a time; the row number is 1-based.</summary>
internal static class ParquetRecordReader
{
    public static IEnumerable<RecordBatch> Read(string file, ReaderOptions options)
    {
        ParquetReader reader;
        try
        {
            reader = ParquetReader.CreateAsync(file).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw new DatasetException(file, $"not a readable Parquet file: {e.Message}", e);
        }

        try
        {
            var columns = reader.Schema.GetDataFields().Where(f => (f.ClrType == typeof(string) || f.ClrType == typeof(ReadOnlyMemory<char>)) && !f.IsArray && f.Path.ToList().Count == 1).ToArray();
            if (columns.Length == 0)
            {
                throw new DatasetException(file, "no flat string columns to scan");
            }

            long row = 0;
            for (var g = 0; g < reader.RowGroupCount; g++)
            {
                string?[][] values;
                long rows;
                try
                {
                    using var group = reader.OpenRowGroupReader(g);
                    rows = group.RowCount;
                    values = new string?[columns.Length][];
                    for (var c = 0; c < columns.Length; c++)
                    {
                        values[c] = new string?[rows];
                        group.ReadAsync(columns[c], values[c].AsMemory()!, null).AsTask().GetAwaiter().GetResult();
                    }
                }
                catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ArgumentException or InvalidOperationException or IndexOutOfRangeException)
                {
                    throw new DatasetException(file, $"row group {g + 1}: {e.Message}", e);
                }

                var results = new List<ReadResult>();
                long bytes = 0;
                for (var r = 0; r < rows; r++)
                {
                    row++;
                    var fields = new List<TextField>(columns.Length);
                    long size = 0;
                    for (var c = 0; c < columns.Length; c++)
                    {
                        if (values[c][r] is { Length: > 0 } text)
                        {
                            fields.Add(new TextField(columns[c].Name, text));
                            size += text.Length;
                        }
                    }

                    bytes += size;
                    results.Add(new ReadResult(new DatasetRecord(file, row, null, fields), null));
                    if (results.Count >= options.BatchRecords)
                    {
                        yield return new ParsedBatch(results, bytes);
                        results = [];
                        bytes = 0;
                    }
                }

                if (results.Count > 0)
                {
                    yield return new ParsedBatch(results, bytes);
                }
            }
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
