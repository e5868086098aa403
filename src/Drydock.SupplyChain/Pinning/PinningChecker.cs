using System.Text.Json;
using System.Text.RegularExpressions;
using Drydock.Detection;

namespace Drydock.SupplyChain.Pinning;

/// <summary>An unpinned dependency or a model loaded from a mutable reference, with where it is.</summary>
public sealed record PinningFinding(string File, int Line, string Type, Severity Severity, string Message);

/// <summary>
/// Finds what a training project does not pin: Python requirements without an exact version (<c>==</c>) or a
/// commit, pyproject and conda dependencies with ranges, npm ranges, NuGet floating versions, and models loaded
/// by name without a revision (<c>from_pretrained</c>, <c>hf_hub_download</c>, <c>snapshot_download</c>, a
/// <c>base_model:</c> in a trainer config, <c>/resolve/main/</c> URLs). A lock file next to a manifest lowers
/// the severity of its ranges: the lock pins them.
/// </summary>
public static partial class PinningChecker
{
    private static readonly string[] s_skip = ["node_modules", ".git", "bin", "obj", ".venv", "venv", "__pycache__", ".drydock", ".build"];
    private static readonly string[] s_pythonLocks = ["poetry.lock", "uv.lock", "pdm.lock", "Pipfile.lock"];

    /// <summary>Checks every relevant file under <paramref name="root"/> (or the file itself).</summary>
    public static List<PinningFinding> Check(string root)
    {
        var files = File.Exists(root) ? [root] : Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true })
            .Where(f => !Path.GetRelativePath(root, f).Split(Path.DirectorySeparatorChar).Any(s_skip.Contains)).Order(StringComparer.Ordinal).ToList();
        var findings = new List<PinningFinding>();
        foreach (var file in files)
        {
            var name = Path.GetFileName(file);
            var extension = Path.GetExtension(file).ToLowerInvariant();
            var info = new FileInfo(file);
            if (info.Length > 8 << 20) continue;
            var lines = File.ReadAllLines(file);
            var dir = Path.GetDirectoryName(file)!;
            if (name.StartsWith("requirements", StringComparison.Ordinal) && extension is ".txt" or ".in") Requirements(file, lines, findings);
            else if (name == "pyproject.toml") PyProject(file, lines, s_pythonLocks.Any(l => File.Exists(Path.Combine(dir, l))), findings);
            else if (name is "environment.yml" or "environment.yaml") Conda(file, lines, findings);
            else if (name == "package.json") PackageJson(file, File.Exists(Path.Combine(dir, "package-lock.json")) || File.Exists(Path.Combine(dir, "yarn.lock")) || File.Exists(Path.Combine(dir, "pnpm-lock.yaml")), findings);
            else if (extension == ".csproj") CsProj(file, lines, findings);
            if (extension is ".py" or ".yaml" or ".yml" or ".json" or ".sh" or ".ipynb" or ".toml" or ".cfg") ModelReferences(file, lines, findings);
        }

        return findings;
    }

    private static void Requirements(string file, string[] lines, List<PinningFinding> findings)
    {
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Split(" #")[0].Trim();
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith("-r", StringComparison.Ordinal) || line.StartsWith("-c", StringComparison.Ordinal) || line.StartsWith("--", StringComparison.Ordinal)) continue;
            var requirement = line.Split(" --hash")[0].Trim().TrimEnd('\\').Trim();
            if (requirement.StartsWith("-e ", StringComparison.Ordinal) || requirement.Contains("git+", StringComparison.Ordinal) || requirement.Contains("://", StringComparison.Ordinal))
            {
                if (!CommitRef().IsMatch(requirement)) findings.Add(new(file, i + 1, "unpinned-vcs", Severity.High, $"'{requirement}' follows a branch or tag, not a commit"));
                continue;
            }

            if (!requirement.Contains("==", StringComparison.Ordinal)) findings.Add(new(file, i + 1, "unpinned-python", Severity.Medium, $"'{requirement}' has no exact version (==)"));
            else if (requirement.Contains('*', StringComparison.Ordinal)) findings.Add(new(file, i + 1, "unpinned-python", Severity.Medium, $"'{requirement}' has a wildcard version"));
        }
    }

    private static void PyProject(string file, string[] lines, bool locked, List<PinningFinding> findings)
    {
        var severity = locked ? Severity.Low : Severity.Medium;
        var inDependencies = false;
        string? table = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.StartsWith('['))
            {
                table = line;
                inDependencies = false;
                continue;
            }

            if (table == "[project]" && line.StartsWith("dependencies", StringComparison.Ordinal)) inDependencies = true;
            if (inDependencies)
            {
                foreach (Match m in QuotedString().Matches(line))
                {
                    var spec = m.Groups[1].Value;
                    if (!spec.Contains("==", StringComparison.Ordinal)) findings.Add(new(file, i + 1, "unpinned-python", severity, $"'{spec}' has no exact version (==){(locked ? "; a lock file pins it" : "")}"));
                }

                if (line.Contains(']', StringComparison.Ordinal)) inDependencies = false;
            }
            else if (table is "[tool.poetry.dependencies]" or "[tool.poetry.group.dev.dependencies]" && line.Contains('=', StringComparison.Ordinal) && !line.StartsWith("python", StringComparison.Ordinal))
            {
                var value = line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim().Trim('"');
                if (value.Length > 0 && (value[0] is '^' or '~' or '*' or '>' or '<' || value.Contains(',', StringComparison.Ordinal)))
                {
                    findings.Add(new(file, i + 1, "unpinned-python", severity, $"'{line}' is a version range{(locked ? "; a lock file pins it" : "")}"));
                }
            }
        }
    }

    private static void Conda(string file, string[] lines, List<PinningFinding> findings)
    {
        var inDependencies = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var raw = lines[i];
            if (raw.TrimStart().StartsWith("dependencies:", StringComparison.Ordinal)) { inDependencies = true; continue; }
            if (inDependencies && raw.Length > 0 && !char.IsWhiteSpace(raw[0]) && !raw.StartsWith('-')) inDependencies = false;
            var item = raw.Trim();
            if (!inDependencies || !item.StartsWith("- ", StringComparison.Ordinal)) continue;
            var spec = item[2..].Trim().Split(" #")[0];
            if (spec.EndsWith(':') || spec.Length == 0) continue; // "- pip:" opens a list of pip requirements
            var pinned = spec.Contains("==", StringComparison.Ordinal) || (spec.Contains('=', StringComparison.Ordinal) && !spec.Contains(">=", StringComparison.Ordinal) && !spec.Contains('*', StringComparison.Ordinal));
            if (!pinned) findings.Add(new(file, i + 1, "unpinned-conda", Severity.Medium, $"'{spec}' has no exact version"));
        }
    }

    private static void PackageJson(string file, bool locked, List<PinningFinding> findings)
    {
        JsonDocument doc;
        try
        {
            var bytes = File.ReadAllBytes(file);
            if (!System.Text.Unicode.Utf8.IsValid(bytes)) throw new JsonException("not valid UTF-8");
            doc = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            findings.Add(new(file, (int)(e.LineNumber ?? 0) + 1, "unreadable", Severity.Low, $"not JSON: {e.Message}"));
            return;
        }

        using (doc)
        {
            var lines = File.ReadAllLines(file);
            foreach (var section in new[] { "dependencies", "devDependencies", "optionalDependencies" })
            {
                if (!doc.RootElement.TryGetProperty(section, out var deps) || deps.ValueKind != JsonValueKind.Object) continue;
                foreach (var dep in deps.EnumerateObject())
                {
                    var version = dep.Value.ValueKind == JsonValueKind.String ? dep.Value.GetString() ?? "" : dep.Value.GetRawText();
                    var range = version.Length == 0 || version[0] is '^' or '~' or '>' or '<' or '*' || version is "latest" or "x" || version.Contains("||", StringComparison.Ordinal) || version.Contains(".x", StringComparison.Ordinal);
                    var vcs = version.Contains("github:", StringComparison.Ordinal) || version.Contains("git", StringComparison.Ordinal) && !CommitRef().IsMatch(version);
                    if (!range && !vcs) continue;
                    var line = Array.FindIndex(lines, l => l.Contains($"\"{dep.Name}\"", StringComparison.Ordinal)) + 1;
                    findings.Add(new(file, line, "unpinned-npm", vcs ? Severity.High : locked ? Severity.Low : Severity.Medium,
                        $"\"{dep.Name}\": \"{version}\" is {(vcs ? "a branch or tag" : "a range")}{(locked && !vcs ? "; the lock file pins it" : "")}"));
                }
            }
        }
    }

    private static void CsProj(string file, string[] lines, List<PinningFinding> findings)
    {
        for (var i = 0; i < lines.Length; i++)
        {
            var m = PackageReference().Match(lines[i]);
            if (!m.Success) continue;
            var version = m.Groups["version"].Value;
            if (version.Contains('*', StringComparison.Ordinal) || version.StartsWith('[') || version.StartsWith('('))
            {
                findings.Add(new(file, i + 1, "unpinned-nuget", Severity.Medium, $"{m.Groups["name"].Value} {version} floats"));
            }
        }
    }

    private static void ModelReferences(string file, string[] lines, List<PinningFinding> findings)
    {
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            foreach (Match m in LoadCall().Matches(line))
            {
                var call = string.Join(" ", lines.Skip(i).Take(4).ToArray());
                var from = call.IndexOf(m.Value, StringComparison.Ordinal);
                var window = call[from..Math.Min(call.Length, from + 400)];
                var close = window.IndexOf(')', StringComparison.Ordinal);
                if (close > 0) window = window[..close];
                if (!RevisionPin().IsMatch(window))
                {
                    findings.Add(new(file, i + 1, "mutable-model-reference", Severity.High, $"{m.Groups["fn"].Value}(\"{m.Groups["repo"].Value}\") without revision=<commit>: the model can change under the same name"));
                }
            }

            var baseModel = BaseModel().Match(line);
            if (baseModel.Success && !lines.Any(l => l.TrimStart().StartsWith("revision", StringComparison.Ordinal) || l.Contains("base_model_revision", StringComparison.Ordinal)))
            {
                findings.Add(new(file, i + 1, "mutable-model-reference", Severity.High, $"base_model {baseModel.Groups["repo"].Value} with no pinned revision in the config"));
            }

            if (line.Contains("/resolve/main/", StringComparison.Ordinal) || line.Contains("/resolve/master/", StringComparison.Ordinal))
            {
                findings.Add(new(file, i + 1, "mutable-model-reference", Severity.High, "a model file downloaded from a branch (/resolve/main/): pin the commit"));
            }
        }
    }

    [GeneratedRegex(@"@[0-9a-f]{40}\b|#[0-9a-f]{40}\b", RegexOptions.NonBacktracking)]
    private static partial Regex CommitRef();

    [GeneratedRegex("\"([^\"]+)\"", RegexOptions.NonBacktracking)]
    private static partial Regex QuotedString();

    [GeneratedRegex("""<PackageReference\s+Include="(?<name>[^"]+)"\s+Version="(?<version>[^"]+)""", RegexOptions.NonBacktracking)]
    private static partial Regex PackageReference();

    [GeneratedRegex("""(?<fn>from_pretrained|hf_hub_download|snapshot_download|load_dataset)\(\s*(?:repo_id\s*=\s*)?["'](?<repo>[\w.-]+/[\w.-]+)["']""", RegexOptions.NonBacktracking)]
    private static partial Regex LoadCall();

    [GeneratedRegex("""revision\s*=\s*["'][0-9a-f]{40}["']""", RegexOptions.NonBacktracking)]
    private static partial Regex RevisionPin();

    [GeneratedRegex(@"^\s*base_model\s*:\s*[""']?(?<repo>[\w.-]+/[\w.-]+)", RegexOptions.NonBacktracking)]
    private static partial Regex BaseModel();
}
