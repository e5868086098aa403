using System.Text;
using System.Text.Json;

namespace Drydock.Curation.Records;

/// <summary>
/// Rewrites a CSV row kept by the reader (<c>{"delimiter", "header", "names", "row"}</c>): changed cells are replaced by
/// column name, and rows and headers are written back in RFC 4180 (a cell is quoted when it holds the delimiter, a
/// quote or a line break).
/// </summary>
internal static class CsvRowWriter
{
    /// <summary>The header line, the row as read, and the row with <paramref name="changes"/> applied.</summary>
    public static (string Header, string Original, string Cleaned) Rewrite(string raw, IReadOnlyList<(string Path, string Text)> changes)
    {
        using var doc = JsonDocument.Parse(raw);
        var root = doc.RootElement;
        var delimiter = root.GetProperty("delimiter").GetString()![0];
        var header = root.GetProperty("header").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var names = root.GetProperty("names").EnumerateArray().Select(e => e.GetString()!).ToList();
        var row = root.GetProperty("row").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var original = Line(row, delimiter);
        foreach (var (path, text) in changes)
        {
            var column = names.IndexOf(path);
            if (column < 0)
            {
                // Cells beyond the header are named by position (column7).
                column = path.StartsWith("column", StringComparison.Ordinal) && int.TryParse(path.AsSpan(6), out var n) ? n - 1 : -1;
            }

            if (column >= 0 && column < row.Length) row[column] = text;
        }

        return (Line(header, delimiter), original, changes.Count == 0 ? original : Line(row, delimiter));
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
