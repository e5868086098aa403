using System.Text;
using System.Text.RegularExpressions;
using Drydock.Detection.Configuration;

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
    public static (IReadOnlyList<string> Files, IReadOnlyList<string> Errors) Resolve(IEnumerable<string> inputs) => Resolve(inputs, null);

    /// <summary>
    /// Resolves inputs: files, folders (recursively) and globs. A symbolic link is followed once: a folder reached a
    /// second time (a loop, or two links to one folder) is not entered again and a file reached a second time is not
    /// listed again; each is told to <paramref name="onNotice"/>. A folder that cannot be listed, a broken link with a
    /// dataset's name and an argument that matches nothing are errors naming the path.
    /// </summary>
    public static (IReadOnlyList<string> Files, IReadOnlyList<string> Errors) Resolve(IEnumerable<string> inputs, Action<string>? onNotice)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var walk = new Walk(onNotice);
        foreach (var input in inputs)
        {
            if (File.Exists(input))
            {
                if (RegularFiles.Problem(input) is { } problem) walk.Errors.Add($"{input}: {problem}");
                else walk.AddFile(input, CanonicalOrNull(input) ?? input);
            }
            else if (Directory.Exists(input))
            {
                var errors = walk.Errors.Count;
                if (walk.Folder(input, _ => true) == 0 && walk.Errors.Count == errors)
                {
                    walk.Errors.Add($"{input}: directory holds no dataset files (.jsonl, .json, .csv, .tsv, .parquet, optionally .gz or .zst)");
                }
            }
            else if (input.IndexOfAny(['*', '?', '[']) >= 0)
            {
                var errors = walk.Errors.Count;
                if (Glob(input, walk) == 0 && walk.Errors.Count == errors)
                {
                    walk.Errors.Add($"{input}: no file matches this pattern");
                }
            }
            else
            {
                walk.Errors.Add($"{input}: no such file or directory");
            }
        }

        return (walk.Files, walk.Errors);
    }

    /// <summary>
    /// The path with every symbolic link resolved (as <c>realpath</c> does), so that two names of one file compare
    /// equal; the path itself need not exist. Throws <see cref="IOException"/> on a link loop.
    /// </summary>
    public static string Canonical(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var separators = new[] { Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar };
        var absolute = Path.IsPathRooted(path) ? path : Path.Combine(Directory.GetCurrentDirectory(), path);
        var root = Path.GetPathRoot(absolute)!;
        var pending = new Stack<string>(absolute[root.Length..].Split(separators, StringSplitOptions.RemoveEmptyEntries).Reverse());
        var current = root;
        var hops = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            var next = Path.Combine(current, part);
            var link = new FileInfo(next).LinkTarget;
            if (link is null)
            {
                current = next;
                continue;
            }

            if (++hops > 40) throw new IOException($"{path}: too many levels of symbolic links");
            if (Path.IsPathRooted(link)) current = Path.GetPathRoot(link)!;
            foreach (var segment in link[(Path.GetPathRoot(link)?.Length ?? 0)..].Split(separators, StringSplitOptions.RemoveEmptyEntries).Reverse())
            {
                pending.Push(segment);
            }
        }

        return current;
    }

    private static string? CanonicalOrNull(string path)
    {
        try
        {
            return Canonical(path);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Whether a path matches a glob (<c>*</c>, <c>?</c>, <c>[...]</c>, <c>**/</c>), both with '/' separators.</summary>
    public static bool GlobMatches(string glob, string path)
    {
        ArgumentNullException.ThrowIfNull(glob);
        ArgumentNullException.ThrowIfNull(path);
        return new Regex("^" + GlobToRegex(glob.Replace('\\', '/')) + "$", RegexOptions.NonBacktracking | RegexOptions.CultureInvariant)
            .IsMatch(path.Replace('\\', '/'));
    }

    private static int? Glob(string pattern, Walk walk)
    {
        var normalized = pattern.Replace('\\', '/');
        var segments = normalized.Split('/');
        var fixedCount = segments.TakeWhile(s => s.IndexOfAny(['*', '?', '[']) < 0).Count();
        var root = string.Join('/', segments.Take(fixedCount));
        var baseDir = root.Length == 0 ? "." : (normalized.StartsWith('/') && fixedCount == 1 ? "/" : root);
        if (!Directory.Exists(baseDir))
        {
            return 0;
        }

        var regex = new Regex("^" + GlobToRegex(string.Join('/', segments.Skip(fixedCount))) + "$", RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
        return walk.Folder(baseDir, f => regex.IsMatch(Path.GetRelativePath(baseDir, f).Replace('\\', '/')), root.Length == 0);
    }

    // One walk over every input: the folders entered and the files listed, by their real paths.
    private sealed class Walk(Action<string>? onNotice)
    {
        private readonly HashSet<string> _folders = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _files = new(StringComparer.Ordinal);
        private readonly List<string> _found = [];

        public List<string> Errors { get; } = [];

        public List<string> Files => _found;

        public bool AddFile(string shown, string real)
        {
            if (_files.TryAdd(real, shown))
            {
                _found.Add(shown);
                return true;
            }

            if (!string.Equals(_files[real], shown, StringComparison.Ordinal))
            {
                onNotice?.Invoke($"{shown}: the same file as {_files[real]}, read once");
            }

            return false;
        }

        // Lists the dataset files under a folder (depth first, names in ordinal order); returns how many were added,
        // null when the folder was walked already.
        public int? Folder(string folder, Func<string, bool> include, bool relativeToCurrent = false)
        {
            var real = CanonicalOrNull(folder);
            if (real is null)
            {
                Errors.Add($"{folder}: too many levels of symbolic links");
                return 0;
            }

            if (!_folders.Add(real)) return null;
            var added = new List<string>();
            var stack = new Stack<(string Shown, string Real)>();
            stack.Push((folder, real));
            while (stack.Count > 0)
            {
                var (shown, realFolder) = stack.Pop();
                List<FileSystemInfo> entries;
                try
                {
                    entries = [.. new DirectoryInfo(shown).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal)];
                }
                catch (Exception e) when (e is UnauthorizedAccessException or IOException or System.Security.SecurityException)
                {
                    var why = e is UnauthorizedAccessException ? "permission denied" : e.Message;
                    Errors.Add($"{shown}: cannot read this folder ({why}); nothing under it was read");
                    continue;
                }

                var subfolders = new List<(string, string)>();
                foreach (var entry in entries)
                {
                    var path = Path.Combine(shown, entry.Name);
                    var target = Path.Combine(realFolder, entry.Name);
                    bool isFolder;
                    if (entry.LinkTarget is not null)
                    {
                        var resolved = CanonicalOrNull(path);
                        if (resolved is null || !Path.Exists(resolved))
                        {
                            if (IsDatasetName(path)) Errors.Add($"{path}: a symbolic link to nothing that can be read ({(resolved is null ? "a link loop" : "missing target")})");
                            else onNotice?.Invoke($"{path}: a broken symbolic link, not followed");
                            continue;
                        }

                        target = resolved;
                        isFolder = Directory.Exists(resolved);
                    }
                    else
                    {
                        isFolder = entry is DirectoryInfo;
                    }

                    if (isFolder)
                    {
                        if (_folders.Add(target)) subfolders.Add((path, target));
                        else onNotice?.Invoke($"{path}: a link to {target}, which is read once already (a link loop or a second link): not entered again");
                    }
                    else if (IsDatasetName(path) && include(path) && RegularFiles.Problem(path) is { } problem)
                    {
                        Errors.Add($"{path}: {problem}");
                    }
                    else if (IsDatasetName(path) && include(path))
                    {
                        var listed = relativeToCurrent ? Path.GetRelativePath(".", path) : path;
                        if (AddFile(listed, target)) added.Add(listed);
                    }
                }

                for (var i = subfolders.Count - 1; i >= 0; i--) stack.Push(subfolders[i]);
            }

            // The walk's own order is depth first; the listing is sorted as before.
            _found.RemoveRange(_found.Count - added.Count, added.Count);
            _found.AddRange(added.OrderBy(p => p, StringComparer.Ordinal));
            return added.Count;
        }
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
