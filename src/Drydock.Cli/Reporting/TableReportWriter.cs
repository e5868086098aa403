using System.Text;
using Drydock.Datasets.Scanning;
using Drydock.Detection;

namespace Drydock.Cli.Reporting;

/// <summary>
/// The human summary: findings per category and type, the most severe findings with their masked
/// excerpts, and every error (up to a limit, with the count of the rest).
/// </summary>
internal sealed class TableReportWriter(int top, bool color, double? seconds = null) : IReportWriter
{
    private const int MaxErrorsShown = 50;
    private readonly List<(ScannedRecord Record, LocatedFinding Finding)>[] _bySeverity = [[], [], [], []];
    private readonly List<(string File, long Line, string Reason)> _errors = [];

    public double? Seconds { get; set; } = seconds;

    public void Add(ScannedRecord record)
    {
        foreach (var located in record.Findings)
        {
            var bucket = _bySeverity[(int)located.Finding.Severity];
            if (bucket.Count < top) bucket.Add((record, located));
        }

        if (record.Problem is { } p && _errors.Count < MaxErrorsShown)
        {
            _errors.Add((p.File, p.Line, p.Reason));
        }
    }

    public void Complete(ScanTotals totals, Stream output)
    {
        var text = new StringBuilder();
        var rate = Seconds is > 0 ? $" in {Seconds:0.00} s ({totals.Bytes / 1e6 / Seconds.Value:0.0} MB/s)" : "";
        text.AppendLine($"drydock scan: {totals.Inputs.Count} file(s), {totals.Records:N0} records, {totals.Fields:N0} fields, {FormatBytes(totals.Bytes)}{rate}");
        text.AppendLine();

        if (totals.Findings == 0)
        {
            text.AppendLine("No findings.");
        }
        else
        {
            text.AppendLine($"Findings: {totals.Findings:N0}  (critical {totals.BySeverity[3]:N0}, high {totals.BySeverity[2]:N0}, medium {totals.BySeverity[1]:N0}, low {totals.BySeverity[0]:N0})");
            text.AppendLine();
            var rows = totals.ByType
                .Select(kv => new[] { kv.Value.Category, kv.Key[(kv.Value.Category.Length + 1)..], kv.Value.Severity.Name(), kv.Value.Count.ToString("N0") })
                .OrderByDescending(r => SeverityRank(r[2])).ThenBy(r => r[0], StringComparer.Ordinal).ThenBy(r => r[1], StringComparer.Ordinal)
                .ToList();
            AppendTable(text, ["CATEGORY", "TYPE", "SEVERITY", "COUNT"], rows, severityColumn: 2, rightAlign: 3);

            var shown = _bySeverity.Reverse().SelectMany(b => b).Take(top).ToList();
            text.AppendLine();
            text.AppendLine(shown.Count < totals.Findings ? $"Top {shown.Count} of {totals.Findings:N0} findings, most severe first:" : "Findings:");
            var findingRows = shown.Select(s => new[]
            {
                s.Finding.Finding.Severity.Name(), $"{s.Record.File}:{s.Record.Line}", s.Finding.Field, s.Finding.Finding.Type, s.Finding.Finding.Excerpt,
            }).ToList();
            AppendTable(text, ["SEVERITY", "LOCATION", "FIELD", "TYPE", "EXCERPT (masked)"], findingRows, severityColumn: 0);
        }

        if (totals.Malformed > 0 || totals.Inputs.Any(i => i.Error is not null))
        {
            text.AppendLine();
            var unreadable = totals.Inputs.Count(i => i.Error is not null);
            text.AppendLine(unreadable == 0
                ? $"Errors: {totals.Malformed:N0} malformed record(s)"
                : $"Errors: {totals.Malformed:N0} malformed record(s), {unreadable:N0} input(s) that could not be read");
            foreach (var input in totals.Inputs.Where(i => i.Error is not null))
            {
                text.AppendLine($"  {input.Path}: {input.Error}");
            }

            foreach (var (file, line, reason) in _errors)
            {
                text.AppendLine($"  {file}:{line}: {reason}");
            }

            if (totals.Malformed > _errors.Count)
            {
                text.AppendLine($"  … and {totals.Malformed - _errors.Count:N0} more (use --format json for the full list)");
            }
        }

        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        output.Write(bytes);
        output.Flush();
    }

    private static int SeverityRank(string name) => SeverityNames.TryParse(name, out var s) ? (int)s : -1;

    private void AppendTable(StringBuilder text, string[] header, List<string[]> rows, int severityColumn, int rightAlign = -1)
    {
        var widths = header.Select((h, i) => Math.Min(60, Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length)))).ToArray();
        void Row(string[] cells, bool isHeader)
        {
            text.Append("  ");
            for (var i = 0; i < cells.Length; i++)
            {
                var cell = cells[i].Length > widths[i] ? cells[i][..(widths[i] - 1)] + "…" : cells[i];
                var padded = i == rightAlign ? cell.PadLeft(widths[i]) : i == cells.Length - 1 ? cell : cell.PadRight(widths[i]);
                if (!isHeader && color && i == severityColumn)
                {
                    padded = Colorize(cells[i], padded);
                }

                text.Append(padded);
                if (i < cells.Length - 1) text.Append("  ");
            }

            text.AppendLine();
        }

        Row(header, true);
        foreach (var row in rows) Row(row, false);
    }

    private static string Colorize(string severity, string text) => severity switch
    {
        "critical" => $"\u001b[1;31m{text}\u001b[0m",
        "high" => $"\u001b[31m{text}\u001b[0m",
        "medium" => $"\u001b[33m{text}\u001b[0m",
        _ => $"\u001b[36m{text}\u001b[0m",
    };

    private static string FormatBytes(long bytes) => bytes switch
    {
        >= 1_000_000_000 => $"{bytes / 1e9:0.00} GB",
        >= 1_000_000 => $"{bytes / 1e6:0.0} MB",
        >= 1_000 => $"{bytes / 1e3:0.0} kB",
        _ => $"{bytes} B",
    };

    public void Dispose()
    {
    }
}
