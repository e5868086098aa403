using Parquet;
using Parquet.Schema;

namespace Drydock.Datasets.Formats;

/// <summary>
/// Reads every string column of a Parquet file, one row group at a time; the row number is 1-based. A string inside a
/// struct is a field named by its JSON path (<c>payment.card</c>), an element of a list <c>tags[2]</c> (a list of
/// structs <c>items[0].note</c>, a map <c>attributes[1].value</c>). A string nested in more than one level of lists is
/// refused with the column's name: it is never skipped without a word.
/// </summary>
internal static class ParquetRecordReader
{
    public static IEnumerable<RecordBatch> Read(string file, ReaderOptions options)
    {
        Stream? input = null;
        ParquetReader reader;
        var columns = new List<Column>();
        try
        {
            input = ParquetInput.Open(file);
            reader = ParquetReader.CreateAsync(input).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not (DatasetException or OperationCanceledException))
        {
            input?.Dispose();
            throw new DatasetException(file, $"not a readable Parquet file: {e.Message}", e);
        }
        catch
        {
            input?.Dispose();
            throw;
        }

        try
        {
            try
            {
                // The schema is built from the footer on first use: a footer that reads as Thrift but not as a schema
                // (no fields, a field of no type) throws here.
                foreach (var field in reader.Schema.Fields) Collect(field, field.Name, columns);
            }
            catch (Exception e) when (e is not (DatasetException or OperationCanceledException))
            {
                throw new DatasetException(file, $"not a readable Parquet file: its schema: {e.Message}", e);
            }

            if (columns.Count == 0)
            {
                throw new DatasetException(file, "no string columns to scan");
            }

            if (columns.FirstOrDefault(c => c.Field.MaxRepetitionLevel > 1) is { } deep)
            {
                throw new DatasetException(file, $"column {deep.Path.Replace("[]", "[*]", StringComparison.Ordinal)}: strings inside lists of lists cannot be read as text fields yet (flatten the column)");
            }

            var fileBytes = new FileInfo(file).Length;
            long row = 0;
            for (var g = 0; g < reader.RowGroupCount; g++)
            {
                List<(string Path, string Text)>[] rowFields;
                long rows;
                try
                {
                    using var group = reader.OpenRowGroupReader(g);
                    rows = group.RowCount;
                    CheckDeclared(file, fileBytes, g, group, columns);
                    rowFields = new List<(string, string)>[rows];
                    foreach (var column in columns)
                    {
                        ReadColumn(group, column, rowFields);
                    }
                }
                catch (Exception e) when (e is not (DatasetException or OperationCanceledException))
                {
                    throw new DatasetException(file, $"row group {g + 1}: {e.Message}", e);
                }

                var results = new List<ReadResult>();
                long bytes = 0;
                for (var r = 0; r < rows; r++)
                {
                    row++;
                    var fields = new List<TextField>(rowFields[r]?.Count ?? 0);
                    long size = 0;
                    foreach (var (path, text) in rowFields[r] ?? [])
                    {
                        fields.Add(new TextField(path, text));
                        size += text.Length;
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
            input.Dispose();
        }
    }

    /// <summary>
    /// The most rows, or values of one column, a row group may declare: 64 per byte of the file, and at least 2^20.
    /// The reader sizes its arrays by what the footer declares before a page is read, so a file of a few hundred bytes
    /// declaring half a billion values took gigabytes; such a count is refused first. Real data stays far below: a row
    /// of text takes bytes, and even a dictionary-coded column of two labels holds about 8 rows a byte (1 bit a row).
    /// </summary>
    internal const int DeclaredValuesPerByte = 64;

    private static void CheckDeclared(string file, long bytes, int group, ParquetRowGroupReader reader, List<Column> columns)
    {
        var limit = Math.Max(1L << 20, bytes * DeclaredValuesPerByte);
        if (reader.RowCount < 0 || reader.RowCount > limit)
        {
            throw new DatasetException(file, $"row group {group + 1}: declares {reader.RowCount:N0} rows in a file of {bytes:N0} bytes (at most {limit:N0} are read from a file this size); refused before anything is allocated");
        }

        foreach (var column in columns)
        {
            var declared = reader.GetMetadata(column.Field)?.MetaData?.NumValues ?? 0;
            if (declared < 0 || declared > limit)
            {
                throw new DatasetException(file, $"row group {group + 1}, column {column.Path.Replace("[]", "[*]", StringComparison.Ordinal)}: declares {declared:N0} values in a file of {bytes:N0} bytes (at most {limit:N0} are read from a file this size); refused before anything is allocated");
            }
        }
    }

    // A string column and its JSON path, with "[]" where a list (or a map) repeats.
    private sealed record Column(DataField Field, string Path);

    // Collects the string columns under a field whose own JSON path is <paramref name="path"/>.
    private static void Collect(Field field, string path, List<Column> columns)
    {
        switch (field)
        {
            case DataField data when data.ClrType == typeof(string) || data.ClrType == typeof(ReadOnlyMemory<char>):
                // A legacy repeated column (no LIST wrapper) repeats itself.
                var lists = (path.Length - path.Replace("[]", "", StringComparison.Ordinal).Length) / 2;
                columns.Add(new Column(data, lists < data.MaxRepetitionLevel ? path + "[]" : path));
                break;
            case StructField structure:
                foreach (var child in structure.Fields) Collect(child, path + "." + child.Name, columns);
                break;
            case ListField list:
                Collect(list.Item, path + "[]", columns);
                break;
            case MapField map:
                Collect(map.Key, path + "[].key", columns);
                Collect(map.Value, path + "[].value", columns);
                break;
        }
    }

    private static void ReadColumn(ParquetRowGroupReader group, Column column, List<(string, string)>[] rowFields)
    {
        var rows = rowFields.Length;
        if (column.Field.MaxRepetitionLevel == 0)
        {
            var values = new string?[rows];
            group.ReadAsync(column.Field, values.AsMemory()!, null).AsTask().GetAwaiter().GetResult();
            for (var r = 0; r < rows; r++)
            {
                if (values[r] is { Length: > 0 } text) (rowFields[r] ??= []).Add((column.Path, text));
            }

            return;
        }

        // One list level, read raw: one repetition and one definition level per entry, and the values that are
        // present (those at the maximum definition level) packed. A repetition level of 0 starts the next row,
        // anything else is the next element of this one.
        var count = checked((int)(group.GetMetadata(column.Field)?.MetaData?.NumValues ?? throw new InvalidDataException($"column {column.Path}: no metadata")));
        var packed = new ReadOnlyMemory<char>[count];
        var definitions = new int[count];
        var repetitions = new int[count];
        group.ReadRawAsync(column.Field, packed.AsMemory(), definitions.AsMemory(), repetitions.AsMemory()).AsTask().GetAwaiter().GetResult();
        var present = column.Field.MaxDefinitionLevel;
        var row = -1;
        var index = 0;
        var next = 0;
        for (var i = 0; i < repetitions.Length; i++)
        {
            if (repetitions[i] == 0)
            {
                row++;
                index = 0;
            }
            else
            {
                index++;
            }

            if (row < 0 || row >= rows) throw new InvalidDataException($"column {column.Path}: more rows than the row group holds");
            if (definitions[i] < present) continue;
            if (next >= packed.Length) throw new InvalidDataException($"column {column.Path}: fewer values than its levels promise");
            if (packed[next++] is { Length: > 0 } chars)
            {
                var text = chars.ToString();
                var at = column.Path.IndexOf("[]", StringComparison.Ordinal);
                (rowFields[row] ??= []).Add((string.Concat(column.Path.AsSpan(0, at), $"[{index}]", column.Path.AsSpan(at + 2)), text));
            }
        }
    }
}
