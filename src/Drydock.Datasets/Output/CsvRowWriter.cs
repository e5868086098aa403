using System.Text;

namespace Drydock.Datasets.Output;

/// <summary>
/// Writes a CSV row read by the CSV reader (<see cref="RawCsvRow"/>) back: changed cells are replaced by column name,
/// and rows and headers are written in RFC 4180 with the row's own delimiter (a cell is quoted when it holds the
/// delimiter, a quote or a line break).
/// </summary>
public static class CsvRowWriter
{
    /// <summary>The header line, the row as read, and the row with <paramref name="changes"/> (field path, new text) applied.</summary>
    public static (string Header, string Original, string Cleaned) Rewrite(RawCsvRow raw, IReadOnlyList<(string Path, string Text)> changes)
    {
        ArgumentNullException.ThrowIfNull(raw);
        ArgumentNullException.ThrowIfNull(changes);
        var original = Line(raw.Cells, raw.Delimiter);
        if (changes.Count == 0) return (Line(raw.Header, raw.Delimiter), original, original);
        var row = raw.Cells.ToArray();
        foreach (var (path, text) in changes)
        {
            var column = IndexOf(raw.Names, path);
            if (column < 0)
            {
                // Cells beyond the header are named by position (column7).
                column = path.StartsWith("column", StringComparison.Ordinal) && int.TryParse(path.AsSpan(6), out var n) ? n - 1 : -1;
            }

            if (column >= 0 && column < row.Length) row[column] = text;
        }

        return (Line(raw.Header, raw.Delimiter), original, Line(row, raw.Delimiter));
    }

    private static int IndexOf(IReadOnlyList<string> names, string path)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], path, StringComparison.Ordinal)) return i;
        }

        return -1;
    }

    private static string Line(IEnumerable<string> cells, char delimiter)
    {
        var builder = new StringBuilder();
        var first = true;
        foreach (var cell in cells)
        {
            if (!first) builder.Append(delimiter);
            first = false;
            if (cell.Contains(delimiter, StringComparison.Ordinal) || cell.Contains('"', StringComparison.Ordinal) || cell.Contains('\n', StringComparison.Ordinal) || cell.Contains('\r', StringComparison.Ordinal))
            {
                builder.Append('"').Append(cell.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                builder.Append(cell);
            }
        }

        return builder.ToString();
    }
}
