using System.Text;
using System.Text.Json;
using Drydock.Datasets.Input;

namespace Drydock.Datasets.Formats;

/// <summary>How a file is laid out on disk, and the record schema inside it.</summary>
public readonly record struct SniffedFormat(DatasetFormat Format, Container Container, char? Delimiter = null)
{
    /// <summary><c>gzip</c>, <c>zstd</c> or null.</summary>
    public string? Compression { get; init; }
}

/// <summary>How records are stored in a file.</summary>
public enum Container
{
    /// <summary>One JSON object per line.</summary>
    Lines,
    /// <summary>A top-level JSON array.</summary>
    Array,
    /// <summary>Delimited text with a header.</summary>
    Delimited,
    /// <summary>Apache Parquet.</summary>
    Parquet,
}

/// <summary>Detects the format of a dataset from its first bytes (and its name only as a tie-breaker).</summary>
public static class FormatSniffer
{
    /// <summary>Sniffs the first bytes of a decoded input.</summary>
    public static SniffedFormat Sniff(string path, ReadOnlySpan<byte> head, DatasetFormat forced)
    {
        var name = InputFiles.StripCompression(path);
        if (head.StartsWith("PAR1"u8) || forced == DatasetFormat.Parquet)
        {
            return new SniffedFormat(DatasetFormat.Parquet, Container.Parquet);
        }

        var isTsv = name.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase);
        if (forced == DatasetFormat.Csv || (forced == DatasetFormat.Auto && (isTsv || name.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))))
        {
            return new SniffedFormat(DatasetFormat.Csv, Container.Delimited, isTsv ? '\t' : null);
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) head = head[3..];
        head = head.TrimStart(" \t\r\n"u8);
        if (head.IsEmpty)
        {
            return new SniffedFormat(forced == DatasetFormat.Auto ? DatasetFormat.Jsonl : forced, Container.Lines);
        }

        var container = head[0] switch
        {
            (byte)'[' => Container.Array,
            (byte)'{' => Container.Lines,
            _ => forced == DatasetFormat.Auto ? throw new FormatException("cannot tell the format: the file starts with neither '{' (JSON Lines) nor '[' (JSON array); use --input-format") : Container.Lines,
        };

        if (forced != DatasetFormat.Auto)
        {
            return new SniffedFormat(forced, container);
        }

        var firstRecord = container == Container.Array ? head[1..].TrimStart(" \t\r\n"u8) : head;
        var newline = firstRecord.IndexOf((byte)'\n');
        var keys = TopLevelKeys(newline >= 0 ? firstRecord[..newline] : firstRecord);
        return new SniffedFormat(SchemaFromKeys(keys), container);
    }

    /// <summary>The record schema that a set of top-level keys suggests.</summary>
    public static DatasetFormat SchemaFromKeys(IReadOnlyCollection<string> keys)
    {
        if (keys.Contains("messages")) return DatasetFormat.Chat;
        if (keys.Contains("conversations")) return DatasetFormat.ShareGpt;
        if (keys.Contains("instruction") && keys.Contains("output")) return DatasetFormat.Alpaca;
        if (keys.Contains("prompt") && keys.Contains("completion")) return DatasetFormat.PromptCompletion;
        return DatasetFormat.Jsonl;
    }

    // Top-level property names of the first record, read as far as the sniffed bytes go.
    private static HashSet<string> TopLevelKeys(ReadOnlySpan<byte> json)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(json, isFinalBlock: false, new JsonReaderState(new JsonReaderOptions { MaxDepth = 256 }));
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                {
                    keys.Add(reader.GetString()!);
                }
            }
        }
        catch (JsonException)
        {
            // A broken first record still tells us the keys seen before the break.
        }
        catch (InvalidOperationException)
        {
        }

        return keys;
    }

}
