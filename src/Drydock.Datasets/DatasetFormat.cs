namespace Drydock.Datasets;

/// <summary>Dataset layouts Drydock reads.</summary>
public enum DatasetFormat
{
    /// <summary>Detect from content.</summary>
    Auto,
    /// <summary>OpenAI chat JSONL: <c>{"messages": [{"role", "content"}]}</c>.</summary>
    Chat,
    /// <summary>Prompt/completion JSONL.</summary>
    PromptCompletion,
    /// <summary>Alpaca: instruction/input/output, as a JSON array or JSONL.</summary>
    Alpaca,
    /// <summary>ShareGPT: <c>{"conversations": [{"from", "value"}]}</c>.</summary>
    ShareGpt,
    /// <summary>Any JSON object per line; every string value is a field.</summary>
    Jsonl,
    /// <summary>Comma- or tab-separated values with a header row.</summary>
    Csv,
    /// <summary>Apache Parquet; string columns are fields.</summary>
    Parquet,
}

/// <summary>Names of formats as used on the command line and in reports.</summary>
public static class DatasetFormatNames
{
    private static readonly (DatasetFormat Format, string Name)[] s_names =
    [
        (DatasetFormat.Auto, "auto"), (DatasetFormat.Chat, "chat"), (DatasetFormat.PromptCompletion, "prompt-completion"),
        (DatasetFormat.Alpaca, "alpaca"), (DatasetFormat.ShareGpt, "sharegpt"), (DatasetFormat.Jsonl, "jsonl"),
        (DatasetFormat.Csv, "csv"), (DatasetFormat.Parquet, "parquet"),
    ];

    /// <summary>Every accepted name.</summary>
    public static IEnumerable<string> All => s_names.Select(n => n.Name);

    /// <summary>The name of a format.</summary>
    public static string Name(this DatasetFormat format) => s_names.First(n => n.Format == format).Name;

    /// <summary>Parses a format name.</summary>
    public static bool TryParse(string? name, out DatasetFormat format)
    {
        foreach (var (f, n) in s_names)
        {
            if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
            {
                format = f;
                return true;
            }
        }

        format = DatasetFormat.Auto;
        return false;
    }
}
