using Drydock.Datasets.Formats;
using Drydock.Datasets.Input;

namespace Drydock.Datasets;

/// <summary>
/// Reads any supported dataset file as a stream of <see cref="RecordBatch"/>es, with bounded memory.
/// </summary>
public sealed class DatasetReader
{
    private readonly ReaderOptions _options;

    /// <summary>Creates a reader.</summary>
    public DatasetReader(ReaderOptions? options = null) => _options = options ?? new ReaderOptions();

    /// <summary>Sniffs the format of <paramref name="path"/> (honouring a forced format).</summary>
    public SniffedFormat Detect(string path)
    {
        using var opened = InputStreams.Open(path);
        var head = new byte[64 * 1024];
        int read;
        try
        {
            read = opened.Content.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ZstdSharp.ZstdException)
        {
            throw new DatasetException(path, $"cannot decompress ({opened.Compression}): {e.Message}", e);
        }

        try
        {
            return FormatSniffer.Sniff(path, head.AsSpan(0, read), _options.Format) with { Compression = opened.Compression };
        }
        catch (FormatException e)
        {
            throw new DatasetException(path, e.Message, e);
        }
    }

    /// <summary>
    /// The text of each record of a file in any supported format, as records are rendered for training and scoring:
    /// its text fields joined by new lines, without the record's id and the speakers' roles (<c>role</c>, ShareGPT's
    /// <c>from</c>), which are metadata; at most <paramref name="limit"/>; a malformed record stops the read with its
    /// file and line.
    /// </summary>
    public static IReadOnlyList<string> Texts(string path, int limit = int.MaxValue) => [.. EnumerateTexts(path).Take(limit)];

    /// <summary>
    /// Whether a text field is metadata rather than text to train on: the record's id and the speakers' roles
    /// (<c>id</c>, <c>role</c>, ShareGPT's <c>from</c>, at any depth), which <see cref="Texts"/> leaves out.
    /// </summary>
    public static bool IsMetadataField(string fieldPath)
    {
        ArgumentNullException.ThrowIfNull(fieldPath);
        var name = fieldPath[(fieldPath.LastIndexOf('.') + 1)..];
        return name is "id" or "role" or "from";
    }

    /// <summary>The same texts as <see cref="Texts"/>, streamed one record at a time.</summary>
    public static IEnumerable<string> EnumerateTexts(string path)
    {
        var reader = new DatasetReader();
        foreach (var batch in reader.Read(path, reader.Detect(path)))
        {
            foreach (var result in batch.Parse())
            {
                if (result.Record is null) throw new DatasetException($"{result.Problem!.File}:{result.Problem.Line}", result.Problem.Reason);
                var fields = result.Record.Fields.Where(f => !IsMetadataField(f.Path)).Select(f => f.Text).ToArray();
                if (fields.Length > 0) yield return string.Join("\n", fields);
            }
        }
    }

    /// <summary>Reads the batches of one file. <paramref name="progress"/> gets the raw bytes read so far.</summary>
    public IEnumerable<RecordBatch> Read(string path, SniffedFormat format, Action<long>? progress = null)
    {
        if (format.Container == Container.Parquet)
        {
            foreach (var batch in ParquetRecordReader.Read(path, _options))
            {
                yield return batch;
            }

            yield break;
        }

        using var opened = InputStreams.Open(path);
        var parser = new JsonRecordParser(format.Format, _options.MaxDepth);
        var batches = format.Container switch
        {
            Container.Lines => JsonLinesReader.Read(path, opened.Content, parser, _options),
            Container.Array => JsonArrayReader.Read(path, opened.Content, parser, _options),
            _ => CsvRecordReader.Read(path, opened.Content, format.Delimiter, _options),
        };

        using var enumerator = batches.GetEnumerator();
        while (true)
        {
            try
            {
                if (!enumerator.MoveNext()) break;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ZstdSharp.ZstdException)
            {
                throw new DatasetException(path, $"cannot read ({opened.Compression ?? "file"}): {e.Message}", e);
            }

            progress?.Invoke(opened.Raw.Position);
            yield return enumerator.Current;
        }
    }
}
