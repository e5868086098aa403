using Drydock.Datasets;
using Drydock.Datasets.Scanning;
using Drydock.Detection;

namespace Drydock.Cli.Reporting;

/// <summary>What was read from one input.</summary>
internal sealed class InputTotals(string path)
{
    public string Path { get; } = path;
    public string Format { get; set; } = "unknown";
    public string? Compression { get; set; }
    public long Records { get; set; }
    public long Malformed { get; set; }
    public long Bytes { get; set; }
    public long Findings { get; set; }
    public string? Error { get; set; }
}

/// <summary>Counts for the summary of a scan; deterministic (sorted keys), no timings.</summary>
internal sealed class ScanTotals
{
    public List<InputTotals> Inputs { get; } = [];
    public long Records { get; private set; }
    public long Fields { get; private set; }
    public long Bytes { get; private set; }
    public long Findings { get; private set; }
    public long Malformed { get; private set; }
    public SortedDictionary<string, long> ByCategory { get; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, (string Category, Severity Severity, long Count)> ByType { get; } = new(StringComparer.Ordinal);
    public long[] BySeverity { get; } = new long[4];
    public Severity? Highest { get; private set; }

    public void Add(InputTotals input, ScannedRecord record)
    {
        if (record.Read)
        {
            Records++;
            input.Records++;
            Fields += record.FieldCount;
        }

        if (record.Problem is not null)
        {
            Malformed++;
            input.Malformed++;
        }

        foreach (var located in record.Findings)
        {
            var f = located.Finding;
            Findings++;
            input.Findings++;
            ByCategory[f.Category] = ByCategory.GetValueOrDefault(f.Category) + 1;
            var key = $"{f.Category}/{f.Type}";
            var current = ByType.GetValueOrDefault(key, (f.Category, f.Severity, 0));
            ByType[key] = (f.Category, f.Severity > current.Severity ? f.Severity : current.Severity, current.Count + 1);
            BySeverity[(int)f.Severity]++;
            if (Highest is null || f.Severity > Highest) Highest = f.Severity;
        }
    }

    public void AddBytes(InputTotals input, long bytes)
    {
        Bytes += bytes;
        input.Bytes += bytes;
    }
}
