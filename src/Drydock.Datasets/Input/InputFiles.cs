using System.Text;
using System.Text.RegularExpressions;

namespace Drydock.Datasets.Input;

/// <summary>Expands command-line inputs (files, directories, globs) into a sorted list of dataset files.</summary>
public static class InputFiles
{
    private static readonly string[] s_extensions = [".jsonl", ".json", ".ndjson", ".csv", ".tsv", ".parquet"];

    /// <summary>True when the name looks like a dataset Drydock reads (optionally .gz or .zst compressed).</summary>
    public static bool IsDatasetName(string path)
    {
        var name = StripCompression(path);
        return s_extensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The name without a trailing <c>.gz</c> or <c>.zst</c>.</summary>
    public static string StripCompression(string path) =>
        path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] :
        path.EndsWith(".zst", StringComparison.OrdinalIgnoreCase) ? path[..^4] : path;

    /// <summary>Resolves inputs. Every argument that matches nothing is an error message naming it.</summary>
    public static (IReadOnlyList<string> Files, IReadOnlyList<string> Errors) Resolve(IEnumerable<string> inputs)
    {
        var files = new List<string>();
        var errors = new List<string>();
        foreach (var input in inputs)
        {
            if (File.Exists(input))
            {
                files.Add(input);
            }
            else if (Directory.Exists(input))
            {
                var found = Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories).Where(IsDatasetName)
                    .OrderBy(p => p, StringComparer.Ordinal).ToList();
                if (found.Count == 0)
                {
                    errors.Add($"{input}: directory holds no dataset files (.jsonl, .json, .csv, .tsv, .parquet, optionally .gz or .zst)");
                }

                files.AddRange(found);
            }
            else if (input.IndexOfAny(['*', '?', '[']) >= 0)
            {
                var found = Glob(input);
                if (found.Count == 0)
                {
                    errors.Add($"{input}: no file matches this pattern");
                }

                files.AddRange(found);
            }
            else
            {
                errors.Add($"{input}: no such file or directory");
            }
        }

        return (files.Distinct(StringComparer.Ordinal).ToList(), errors);
    }

    /// <summary>Whether a path matches a glob (<c>*</c>, <c>?</c>, <c>[...]</c>, <c>**/</c>), both with '/' separators.</summary>
    public static bool GlobMatches(string glob, string path)
    {
        ArgumentNullException.ThrowIfNull(glob);
        ArgumentNullException.ThrowIfNull(path);
        return new Regex("^" + GlobToRegex(glob.Replace('\\', '/')) + "$", RegexOptions.NonBacktracking | RegexOptions.CultureInvariant)
            .IsMatch(path.Replace('\\', '/'));
    }

    private static List<string> Glob(string pattern)
    {
        var normalized = pattern.Replace('\\', '/');
        var segments = normalized.Split('/');
        var fixedCount = segments.TakeWhile(s => s.IndexOfAny(['*', '?', '[']) < 0).Count();
        var root = string.Join('/', segments.Take(fixedCount));
        var baseDir = root.Length == 0 ? "." : (normalized.StartsWith('/') && fixedCount == 1 ? "/" : root);
        if (!Directory.Exists(baseDir))
        {
            return [];
        }

        var regex = new Regex("^" + GlobToRegex(string.Join('/', segments.Skip(fixedCount))) + "$", RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
        return Directory.EnumerateFiles(baseDir, "*", SearchOption.AllDirectories)
            .Where(f => regex.IsMatch(Path.GetRelativePath(baseDir, f).Replace('\\', '/')))
            .Select(f => root.Length == 0 ? Path.GetRelativePath(".", f) : f)
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToList();
    }

    private static string GlobToRegex(string glob)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                // "**/" matches any number of directories, including none.
                var slash = i + 2 < glob.Length && glob[i + 2] == '/';
                builder.Append(slash ? "(?:.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else if (c == '*')
            {
                builder.Append("[^/]*");
            }
            else if (c == '?')
            {
                builder.Append("[^/]");
            }
            else if (c == '[')
            {
                var close = glob.IndexOf(']', i + 1);
                if (close < 0)
                {
                    builder.Append(@"\[");
                }
                else
                {
                    builder.Append('[').Append(glob[(i + 1)..close].Replace("\\", "\\\\", StringComparison.Ordinal)).Append(']');
                    i = close;
                }
            }
            else
            {
                builder.Append(Regex.Escape(c.ToString()));
            }
        }

        return builder.ToString();
    }
}
