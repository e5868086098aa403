using System.CommandLine;
using System.CommandLine.Parsing;
using Drydock.Provenance.Registry;

namespace Drydock.Cli.Infrastructure;

/// <summary>
/// Which projects a command line touches, with links resolved: the project of the current folder, and every project
/// whose state (<c>.drydock/</c> or drydock.yaml) a path on the command line names (<c>--folder</c>, <c>--vault</c>,
/// <c>--registry</c>, <c>-o</c>, DRYDOCK_REGISTRY, ...). A project is protected when its own drydock.yaml says
/// <c>access: required</c> or its own registry holds an active actor; then its own file and registry decide access,
/// whatever --config, --registry or DRYDOCK_REGISTRY say.
/// </summary>
internal static partial class ProjectGuard
{
    /// <summary>The path with every link along it resolved (parts that do not exist are kept as written).</summary>
    public static string RealPath(string path, int depth = 0)
    {
        var full = Path.GetFullPath(path);
        if (depth > 40) throw new IOException($"too many levels of links resolving {path}");
        var root = Path.GetPathRoot(full)!;
        var current = root;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.LinkTarget is { } target)
            {
                next = RealPath(Path.IsPathRooted(target) ? target : Path.Combine(current, target), depth + 1);
            }

            current = next;
        }

        return current;
    }

    /// <summary>The project whose state <paramref name="path"/> names (inside its .drydock/, or its drydock.yaml), or null.</summary>
    public static string? OwnerOfState(string path)
    {
        if (path.Length == 0 || path.Contains("://", StringComparison.Ordinal) || path.StartsWith("Host=", StringComparison.OrdinalIgnoreCase) || path.Contains('\0')) return null;
        string real;
        try
        {
            real = RealPath(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null;
        }

        if (Path.GetFileName(real) == ProjectContext.ProjectFileName) return Path.GetDirectoryName(real);
        for (var dir = real; Path.GetDirectoryName(dir) is { } parent; dir = parent)
        {
            if (Path.GetFileName(dir) == ProjectContext.StateFolderName) return parent;
        }

        return null;
    }

    /// <summary>
    /// Every project whose state a value on the command line (or DRYDOCK_REGISTRY) names; with
    /// <paramref name="linkedState"/>, also every project whose state the current project's own <c>.drydock/</c> reaches
    /// through a link (<see cref="StateThroughLinks"/>), which the verbs use without its being typed.
    /// </summary>
    public static IReadOnlyList<string> OwnersNamed(ParseResult parsed, bool linkedState = false)
    {
        var values = new List<string>();
        foreach (var child in parsed.CommandResult.Children)
        {
            if (child is OptionResult or ArgumentResult) values.AddRange(child.Tokens.Select(t => t.Value));
        }

        if (Environment.GetEnvironmentVariable("DRYDOCK_REGISTRY") is { Length: > 0 } env) values.Add(env);
        values.AddRange(PathsAfterDefaults(parsed));
        if (linkedState) values.AddRange(StateThroughLinks());
        return [.. values.Select(OwnerOfState).OfType<string>().Distinct(StringComparer.Ordinal)];
    }

    // The state paths the verb will use that were not typed: the registry after --config/--policy and DRYDOCK_REGISTRY are
    // applied (a config file's registry: line), and the default of every path option left out.
    private static IEnumerable<string> PathsAfterDefaults(ParseResult parsed)
    {
        var found = new List<string>();
        try
        {
            string? policy = parsed.GetResult(ProjectContext.PolicyOption) is null ? null : parsed.GetValue(ProjectContext.PolicyOption);
            string? registry = parsed.GetResult(ProjectContext.RegistryOption) is null ? null : parsed.GetValue(ProjectContext.RegistryOption);
            if ((policy is not null || registry is not null) && ProjectContext.NamedRegistry(policy, registry) is { } named) found.Add(named);
        }
        catch (Exception e) when (e is NoProjectException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            // no registry follows from them: the verb reports it
        }

        foreach (var option in parsed.CommandResult.Command.Options)
        {
            if (option is not Option<string> path || parsed.GetResult(path) is { Implicit: false }) continue;
            try
            {
                if (parsed.GetValue(path) is { Length: > 0 } value && Path.GetFileName(value) != ProjectContext.ProjectFileName) found.Add(value); // (a drydock.yaml to write is the verb's own: init)
            }
            catch (Exception e) when (e is NoProjectException or IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
            {
                // a default that cannot be worked out here (no project): the verb reports it
            }
        }

        return found;
    }

    /// <summary>Records a refusal in the project at <paramref name="root"/> when it is protected (or cannot be told), its drydock.yaml read as far as it can be.</summary>
    public static void RecordIfProtected(string root, string verb, string reason, TextWriter stderr)
    {
        try
        {
            var own = ProjectContext.LoadOwn(root, emergency: true);
            if (IsProtected(own, out _) != false) Record(own, verb, reason, stderr);
        }
        catch (Exception e) when (e is Detection.Configuration.ConfigFileException or IOException or UnauthorizedAccessException or NoProjectException)
        {
            stderr.WriteLine($"drydock {verb}: warning: the refusal could not be recorded: {e.Message}");
        }
    }

    /// <summary>Whether two registry locations (paths, links resolved, or URLs) are the same registry.</summary>
    public static bool SameRegistry(string a, string b)
    {
        static bool Url(string s) => s.Contains("://", StringComparison.Ordinal) || s.StartsWith("Host=", StringComparison.OrdinalIgnoreCase);
        if (Url(a) || Url(b)) return string.Equals(a, b, StringComparison.Ordinal);
        return string.Equals(RealPath(a), RealPath(b), OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }

    public static bool SameFolder(string a, string b) => string.Equals(RealPath(a), RealPath(b), OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>
    /// Whether the project at <paramref name="root"/> is protected, from its own drydock.yaml and own registry only.
    /// Null: it cannot be decided (the file or the registry cannot be read), with the reason in <paramref name="problem"/>.
    /// </summary>
    public static bool? IsProtected(string root, out string? problem)
    {
        try
        {
            return IsProtected(ProjectContext.LoadOwn(root), out problem);
        }
        catch (Exception e) when (e is Detection.Configuration.ConfigFileException or IOException or UnauthorizedAccessException)
        {
            problem = e.Message;
            return null;
        }
    }

    /// <summary>As <see cref="IsProtected(string, out string?)"/>, for the project's own context already loaded.</summary>
    public static bool? IsProtected(ProjectContext own, out string? problem)
    {
        problem = null;
        if (own.File["access"] is { Value: "required" }) return true;
        return RegistryHasActors(own, out problem);
    }

    /// <summary>
    /// Whether the registry of <paramref name="own"/> holds an actor that is not revoked (or actor rows edited outside
    /// drydock). Null: the registry cannot be read, with the reason in <paramref name="problem"/>.
    /// </summary>
    public static bool? RegistryHasActors(ProjectContext own, out string? problem)
    {
        problem = null;
        try
        {
            var location = own.RegistryLocation;
            var url = location.Contains("://", StringComparison.Ordinal) || location.StartsWith("Host=", StringComparison.OrdinalIgnoreCase);
            if (!url && !File.Exists(location)) return false;
            using var registry = own.OpenRegistry();
            var now = DateTimeOffset.UtcNow;
            if (registry.ActorRecordsProblem() is not null) return true; // actor rows edited outside drydock: protected, and the check refuses
            return registry.Actors().Any(a => a.State(now) != "revoked"); // an expired grant keeps it protected: only revoking every actor turns it off
        }
        catch (Exception e) when (e is RegistryException or IOException or UnauthorizedAccessException or ArgumentException or System.Data.Common.DbException or Provenance.KeyRingException)
        {
            problem = e.Message;
            return null;
        }
    }

    /// <summary>Records a refusal in the project's own registry where it can be opened (a refusal is never lost for want of it).</summary>
    public static void Record(ProjectContext own, string verb, string reason, TextWriter stderr)
    {
        try
        {
            var location = own.RegistryLocation;
            if (!location.Contains("://", StringComparison.Ordinal) && !location.StartsWith("Host=", StringComparison.OrdinalIgnoreCase) && !File.Exists(location)) return;
            using var registry = own.OpenRegistry();
            var actor = Environment.GetEnvironmentVariable("DRYDOCK_ACTOR") is { Length: > 0 } a && ProvenanceRegistry.ActorNameProblem(a.Trim()) is null ? a.Trim() : "(none)";
            registry.RecordAccessDecision(actor, verb, null, false, reason, null);
        }
        catch (Exception e) when (e is RegistryException or IOException or UnauthorizedAccessException or ArgumentException or System.Data.Common.DbException or Provenance.KeyRingException)
        {
            stderr.WriteLine($"drydock {verb}: warning: the refusal could not be recorded: {e.Message}");
        }
    }
}
