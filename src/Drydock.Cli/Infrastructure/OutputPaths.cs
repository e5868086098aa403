using Drydock.Datasets.Input;

namespace Drydock.Cli.Infrastructure;

/// <summary>Where a verb writes, checked against what it reads (clean, scan).</summary>
internal static class OutputPaths
{
    /// <summary>
    /// The first output that is an input or another output, compared by real path (links resolved), so that no run
    /// writes over what it reads or writes two things to one file; null when every output is its own file.
    /// </summary>
    public static string? Clash(IReadOnlyList<(string Option, string Path)> outputs, IReadOnlyList<string> inputs)
    {
        static string Real(string path)
        {
            try
            {
                return InputFiles.Canonical(path);
            }
            catch (IOException)
            {
                return Path.GetFullPath(path);
            }
        }

        var reads = inputs.Select(i => (Input: i, Real: Real(i))).ToList();
        var writes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (option, path) in outputs)
        {
            var real = Real(path);
            if (reads.FirstOrDefault(r => string.Equals(r.Real, real, StringComparison.Ordinal)) is { Input: { } input })
            {
                return $"{option} {path} is the input {input}: refusing to write over what this run reads";
            }

            if (!writes.TryAdd(real, option))
            {
                return $"{option} {path} is also {writes[real]}: every output needs its own file";
            }
        }

        return null;
    }
}
