using System.Text.Json;

namespace Drydock.Provenance.Signing;

/// <summary>
/// What a signature must cover beyond the subjects it lists: every file of a signed model folder, and every file a
/// signed dataset manifest names (output, quarantine, ledger, held-out). A file added to a signed folder, or a file
/// of a dataset version that the signature leaves out, is a problem: <c>drydock verify</c> fails on it.
/// </summary>
public static class SignedCoverage
{
    private const string EnvelopeSuffix = ".dsse.json";
    private static readonly string[] s_datasetFiles = ["output", "quarantine", "ledger", "holdout"];

    /// <summary>The files a <c>drydock clean</c> manifest names: (field, recorded path, SHA-256), in a fixed order.</summary>
    public static IReadOnlyList<(string Field, string File, string Sha256)> ManifestFiles(string path, byte[] json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var files = new List<(string, string, string)>();
        try
        {
            using var doc = JsonDocument.Parse(json);
            foreach (var field in s_datasetFiles)
            {
                if (doc.RootElement.TryGetProperty(field, out var entry) && entry.ValueKind == JsonValueKind.Object
                    && entry.TryGetProperty("file", out var file) && file.ValueKind == JsonValueKind.String
                    && entry.TryGetProperty("sha256", out var sha) && sha.ValueKind == JsonValueKind.String)
                {
                    files.Add((field, file.GetString()!, sha.GetString()!));
                }
            }
        }
        catch (JsonException e)
        {
            throw new Registry.RegistryException($"{path}: not JSON: {e.Message}");
        }

        return files;
    }

    /// <summary>
    /// Where a file a manifest names is: as recorded, relative to the manifest's folder, or beside the manifest by
    /// name (in that order); null when none exists.
    /// </summary>
    public static string? Locate(string manifestPath, string recorded)
    {
        ArgumentNullException.ThrowIfNull(manifestPath);
        ArgumentNullException.ThrowIfNull(recorded);
        var directory = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        return new[] { recorded, Path.Combine(directory, recorded), Path.Combine(directory, Path.GetFileName(recorded)) }.FirstOrDefault(File.Exists);
    }

    /// <summary>The files under the envelope's target that its verified statement does not cover, as problems.</summary>
    public static IReadOnlyList<string> Check(string envelopePath, VerifyResult result)
    {
        ArgumentNullException.ThrowIfNull(envelopePath);
        ArgumentNullException.ThrowIfNull(result);
        var problems = new List<string>();
        if (!envelopePath.EndsWith(EnvelopeSuffix, StringComparison.Ordinal)) return problems;
        var target = Path.GetFullPath(envelopePath[..^EnvelopeSuffix.Length]);
        var directory = Path.GetDirectoryName(Path.GetFullPath(envelopePath))!;
        var names = result.Subjects.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        string Name(string path) => Path.GetRelativePath(directory, Path.GetFullPath(path)).Replace('\\', '/');

        if (result.PredicateType == Dsse.ModelPredicate && Directory.Exists(target))
        {
            var pending = new Stack<DirectoryInfo>([new DirectoryInfo(target)]);
            while (pending.Count > 0)
            {
                foreach (var entry in pending.Pop().EnumerateFileSystemInfos())
                {
                    if (entry is DirectoryInfo folder && entry.LinkTarget is null)
                    {
                        pending.Push(folder);
                    }
                    else if (entry is DirectoryInfo)
                    {
                        problems.Add($"'{Name(entry.FullName)}' in the signed model folder is a link to a folder, which the signature does not cover");
                    }
                    else if (!names.Contains(Name(entry.FullName)))
                    {
                        problems.Add($"'{Name(entry.FullName)}' is in the signed model folder but not covered by the signature (added after signing)");
                    }
                }
            }
        }
        else if (result.PredicateType == Dsse.DatasetPredicate)
        {
            if (!File.Exists(target) || !names.Contains(Name(target)))
            {
                problems.Add($"the signature does not cover the manifest {Name(target)}");
                return problems;
            }

            foreach (var (field, file, _) in ManifestFiles(target, File.ReadAllBytes(target)))
            {
                var found = Locate(target, file);
                if (found is null)
                {
                    problems.Add($"the manifest's {field} file {file} is missing");
                }
                else if (!names.Contains(Name(found)))
                {
                    problems.Add($"the manifest's {field} file {Name(found)} is not covered by the signature (sign the dataset version again with 'drydock dataset register')");
                }
            }
        }

        return problems;
    }
}
