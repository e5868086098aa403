using System.CommandLine;
using Drydock.Curation.Policy;
using Drydock.Detection.Configuration;
using Drydock.Provenance;
using Drydock.Provenance.Registry;
using Drydock.Provenance.ThreatModels;
using Drydock.Provenance.Vault;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Drydock.Cli.Infrastructure;

/// <summary>
/// What the verbs share: the project (found the way git finds a repository: the nearest folder, from the current one
/// upwards, holding drydock.yaml or .drydock/), its drydock.yaml read once by the strict reader (or the file
/// <c>--policy</c> names), the key folder <c>.drydock/keys</c>, the registry and the vault, and one mapping from
/// errors to exit codes. A verb that reads or changes state refuses to run outside a project (only
/// <c>drydock init</c> creates one), so no empty registry appears wherever a command happens to run.
/// </summary>
internal sealed class ProjectContext
{
    public const string StateFolderName = ".drydock";

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<TextWriter, TextWriter> s_announced = [];

    public const string ProjectFileName = "drydock.yaml";

    public static readonly Option<string?> RegistryOption = new("--registry")
    {
        Description = "The registry: a SQLite file or postgres://user@host:port/db (default: drydock.yaml's registry, else .drydock/registry.db in the project).",
    };

    public static readonly Option<string?> PolicyOption = new("--policy", "--config")
    {
        Description = "The project file to use instead of the project's drydock.yaml (--config is the same option).",
    };

    private readonly string? _registry;

    private ProjectContext(string? root, string? policyPath, ConfigNode file, string? registry)
    {
        Root = root;
        PolicyPath = policyPath;
        File = file;
        Policy = PolicyLoader.Read(file);
        _registry = registry;
    }

    /// <summary>The project folder, or null outside any project.</summary>
    public string? Root { get; }

    /// <summary>The drydock.yaml in force (null: built-in defaults).</summary>
    public string? PolicyPath { get; }

    /// <summary>drydock.yaml, checked as a whole (every section) by the strict reader.</summary>
    public ConfigNode File { get; }

    public CleaningPolicy Policy { get; }

    /// <summary>The registry: --registry, DRYDOCK_REGISTRY, drydock.yaml's registry (relative to the project), else .drydock/registry.db in the project.</summary>
    public string RegistryLocation => _registry ?? Path.Combine(StateOf(Root ?? throw NoProject()), "registry.db");

    /// <summary>
    /// The same project with the registry kept in its state folder (.drydock/registry.db), whatever drydock.yaml's
    /// <c>registry:</c> says: the registry that guards the keys, vault and logs kept beside it.
    /// </summary>
    public ProjectContext WithStateRegistry() => new(Root, PolicyPath, File, null);

    /// <summary>The state folder of the project found from the current directory (refused outside a project).</summary>
    public static string StateFolder => StateOf(FindRoot(Directory.GetCurrentDirectory()) ?? throw NoProject());

    /// <summary>The nearest project above <paramref name="root"/> (one that encloses it), or null.</summary>
    public static string? EnclosingRoot(string root) => Path.GetDirectoryName(Path.GetFullPath(root)) is { } parent ? FindRoot(parent) : null;

    /// <summary>
    /// The state folder of <paramref name="root"/>. A drydock.yaml in a subfolder of a project makes the nearest
    /// folder the project (as git does); but when that folder has no state of its own while the enclosing project
    /// has, its state would start empty without a word (a new registry, new keys), so that is refused: 'drydock init'
    /// there makes the nested project on purpose.
    /// </summary>
    public static string StateOf(string root)
    {
        var state = Path.Combine(root, StateFolderName);
        if (!Directory.Exists(state) && EnclosingRoot(root) is { } outer && Directory.Exists(Path.Combine(outer, StateFolderName)))
        {
            throw new NoProjectException(
                $"{Path.Combine(root, ProjectFileName)} makes {root} a project of its own, inside the project {outer}, but it has no {StateFolderName}/ yet, so this command would start an empty registry and new keys there; " +
                $"run 'drydock init' in {root} to make it a project on purpose, or run the command from {outer} (or pass --policy {Path.Combine(root, ProjectFileName)} there)");
        }

        return state;
    }

    public static string KeysFolder => Path.Combine(StateFolder, "keys");

    public static string SigningKeyPath => Path.Combine(KeysFolder, "signing.key");

    public static string KeyRingPath => Path.Combine(KeysFolder, "keyring.json");

    public static string VaultFolder => Path.Combine(StateFolder, "vault");

    public static void AddOptions(Command command)
    {
        command.Options.Add(RegistryOption);
        command.Options.Add(PolicyOption);
    }

    /// <summary>The nearest folder from <paramref name="start"/> upwards holding drydock.yaml or .drydock/, or null.</summary>
    public static string? FindRoot(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, ProjectFileName)) || Directory.Exists(Path.Combine(dir.FullName, StateFolderName))) return dir.FullName;
        }

        return null;
    }

    /// <summary>
    /// The project and its file for a verb: --policy FILE when given (it must exist), else the project's drydock.yaml,
    /// else the defaults. Says on stderr which project it uses. Errors in the file name file, line and field.
    /// </summary>
    public static ProjectContext Load(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var context = Load(Value(parse, PolicyOption), Value(parse, RegistryOption));
        context.Announce(parse.InvocationConfiguration.Error);
        return context;
    }

    /// <summary>Says on stderr which project (and which file, when --policy names another) the command uses.</summary>
    public void Announce(TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        if (Root is null && PolicyPath is null) return;

        // Once per command: a verb that loads the project in two places still says it once.
        if (!s_announced.TryAdd(stderr, stderr)) return;
        var file = PolicyPath is null ? "" : Root is not null && Path.GetFullPath(PolicyPath) == Path.Combine(Root, ProjectFileName) ? "" : $" (file {PolicyPath})";
        var nested = Root is not null && EnclosingRoot(Root) is { } outer ? $" (nested inside the project {outer}; the nearest is used)" : "";
        stderr.WriteLine(Root is null ? $"drydock: no project; file {PolicyPath}" : $"drydock: project {Root}{file}{nested}");
    }

    /// <summary>As <see cref="Load(ParseResult)"/>, for a given --policy and --registry, without a word on stderr.</summary>
    public static ProjectContext Load(string? policyOption, string? registryOption = null)
    {
        var root = FindRoot(Directory.GetCurrentDirectory());
        if (policyOption is not null && !System.IO.File.Exists(policyOption)) throw new ConfigFileException(policyOption, 0, "file", "no such file (--policy)");
        var policyPath = policyOption ?? (root is not null && System.IO.File.Exists(Path.Combine(root, ProjectFileName)) ? Path.Combine(root, ProjectFileName) : null);
        var file = policyPath is null ? ProjectFile.Defaults : ProjectFile.Load(policyPath);
        var fromFile = FromFolder(file.Text("registry"), root ?? Path.GetDirectoryName(Path.GetFullPath(policyPath ?? "."))!); // (no file: no registry: line)
        var registry = registryOption ?? Environment.GetEnvironmentVariable("DRYDOCK_REGISTRY") ?? fromFile;
        return new ProjectContext(root, policyPath, file, registry) { _explicit = registryOption is not null ? "--registry" : registry is not null && registry != fromFile ? "DRYDOCK_REGISTRY" : null };
    }

    /// <summary>
    /// The project at <paramref name="root"/> as its own drydock.yaml says, ignoring --policy, --registry and
    /// DRYDOCK_REGISTRY: what access control decides from. With <paramref name="emergency"/>, a file that fails the
    /// strict reader gives the defaults and only its top-level registry (as <see cref="LoadForEmergency"/>).
    /// </summary>
    public static ProjectContext LoadOwn(string root, bool emergency = false)
    {
        var policyPath = System.IO.File.Exists(Path.Combine(root, ProjectFileName)) ? Path.Combine(root, ProjectFileName) : null;
        ConfigNode file;
        string? registry;
        try
        {
            file = policyPath is null ? ProjectFile.Defaults : ProjectFile.Load(policyPath);
            registry = file.Text("registry");
        }
        catch (ConfigFileException) when (emergency && policyPath is not null)
        {
            file = ProjectFile.Defaults;
            registry = RegistryOnly(policyPath);
        }

        return new ProjectContext(root, policyPath, file, FromFolder(registry, root));
    }

    /// <summary>
    /// The registry a verb run here with <paramref name="policyOption"/> and <paramref name="registryOption"/> uses
    /// (as <see cref="Load(ParseResult)"/> or, for a file that fails the strict reader, <see cref="LoadForEmergency"/>), or
    /// null when neither those nor DRYDOCK_REGISTRY is given (the project's own) or the verb cannot run at all.
    /// </summary>
    public static string? NamedRegistry(string? policyOption, string? registryOption)
    {
        if (policyOption is null && registryOption is null && Environment.GetEnvironmentVariable("DRYDOCK_REGISTRY") is null) return null;
        try
        {
            return Load(policyOption, registryOption).RegistryLocation;
        }
        catch (ConfigFileException e) when (System.IO.File.Exists(e.File))
        {
            var root = FindRoot(Directory.GetCurrentDirectory());
            var fromFile = FromFolder(RegistryOnly(e.File), root ?? Path.GetDirectoryName(Path.GetFullPath(e.File))!);
            return registryOption ?? Environment.GetEnvironmentVariable("DRYDOCK_REGISTRY") ?? fromFile ?? (root is null ? null : Path.Combine(StateOf(root), "registry.db"));
        }
        catch (ConfigFileException)
        {
            return null; // --policy names no file: the verb refuses
        }
    }

    /// <summary>
    /// As <see cref="Load(ParseResult)"/>, for an emergency action (revoking a key) that an unrelated error in drydock.yaml
    /// must never block: on such an error it warns on stderr and goes on with the defaults and only the file's
    /// top-level <c>registry</c> (read on its own), so the revocation still lands in the project's audit log.
    /// </summary>
    public static ProjectContext LoadForEmergency(ParseResult parse, string verb)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var stderr = parse.InvocationConfiguration.Error;
        try
        {
            return Load(parse);
        }
        catch (ConfigFileException e) when (System.IO.File.Exists(e.File))
        {
            var root = FindRoot(Directory.GetCurrentDirectory());
            var fromFile = FromFolder(RegistryOnly(e.File), root ?? Path.GetDirectoryName(Path.GetFullPath(e.File))!);

            var option = Value(parse, RegistryOption);
            var registry = option ?? Environment.GetEnvironmentVariable("DRYDOCK_REGISTRY") ?? fromFile;
            var context = new ProjectContext(root, e.File, ProjectFile.Defaults, registry) { _explicit = option is not null ? "--registry" : registry is not null && registry != fromFile ? "DRYDOCK_REGISTRY" : null };
            context.Announce(stderr);
            stderr.WriteLine($"drydock {verb}: warning: {e.Message}");
            stderr.WriteLine($"drydock {verb}: going on despite it ({verb} is never blocked by a setting it does not use; registry {RegistryDatabase.Shown(context.RegistryLocation)}); fix the file");
            return context;
        }
    }

    /// <summary>
    /// drydock.yaml's <c>registry:</c> as a location: a PostgreSQL URL or Npgsql connection string (<c>Host=…</c>) as
    /// written, and so is what is no file path (another URL scheme, a connection string beginning with another key), which
    /// opening the registry refuses; a relative file path from <paramref name="folder"/>.
    /// </summary>
    private static string? FromFolder(string? registry, string folder) =>
        registry is null || registry.Contains("://", StringComparison.Ordinal) || registry.StartsWith("Host=", StringComparison.OrdinalIgnoreCase)
            || RegistryDatabase.LocationProblem(registry) is not null || Path.IsPathRooted(registry)
            ? registry
            : Path.Combine(folder, registry);

    // The top-level registry setting of a file that fails the strict reader elsewhere; null when the YAML itself cannot be read.
    private static string? RegistryOnly(string path)
    {
        try
        {
            var stream = new YamlDotNet.RepresentationModel.YamlStream();
            stream.Load(new StringReader(RegularFiles.ReadAllText(path, ConfigReader.MaxFileBytes)));
            return stream.Documents.Count > 0
                && stream.Documents[0].RootNode is YamlDotNet.RepresentationModel.YamlMappingNode map
                && map.Children.TryGetValue(new YamlDotNet.RepresentationModel.YamlScalarNode("registry"), out var value)
                && value is YamlDotNet.RepresentationModel.YamlScalarNode { Value: { Length: > 0 } text } ? text : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or YamlDotNet.Core.YamlException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The built-in rules, the rules of this project file and of <paramref name="ruleFiles"/>.</summary>
    public Commands.RuleSet Rules(IEnumerable<string>? ruleFiles = null) => Commands.RuleSet.Load(File, ruleFiles ?? []);

    public ApprovalPolicy Approval => new(Policy.RequiredApprovalRoles, Policy.MaxClassification.Name());

    // Which of --registry or DRYDOCK_REGISTRY named the registry (null: the project's own, or drydock.yaml's).
    private string? _explicit;

    /// <summary>
    /// Opens the registry. One named by <c>--registry</c> or <c>DRYDOCK_REGISTRY</c> must exist (a SQLite file that is not
    /// there is refused, never created empty): a typo would otherwise record a containment, an approval or a key change
    /// in a new registry that nothing else reads. The project's own registry is created on first use.
    /// </summary>
    public ProvenanceRegistry OpenRegistry()
    {
        var location = RegistryLocation;
        if (RegistryDatabase.LocationProblem(location) is { } problem) throw new RegistryException(problem);
        if (_explicit is not null && !location.StartsWith("postgres://", StringComparison.Ordinal) && !location.StartsWith("postgresql://", StringComparison.Ordinal)
            && !location.StartsWith("Host=", StringComparison.OrdinalIgnoreCase) && !System.IO.File.Exists(location))
        {
            throw new RegistryException($"there is no registry at {Path.GetFullPath(location)} ({_explicit}); a registry named there must exist (none is created empty); check the path, or leave {_explicit} out to use the project's own registry");
        }

        return ProvenanceRegistry.Open(location);
    }

    private static T? Value<T>(ParseResult parse, Option<T> option) => parse.GetResult(option) is null ? default : parse.GetValue(option);

    private static NoProjectException NoProject() => new(
        $"no Drydock project in {Directory.GetCurrentDirectory()} or any folder above it (a folder with drydock.yaml or .drydock/); run 'drydock init' in the project's folder, or run this command there");

    /// <summary>Runs a verb body, turning known failures into a message on stderr and an exit code (<see cref="CommandErrors"/>).</summary>
    public static Task<int> Guard(string verb, TextWriter stderr, Func<int> body) => CommandErrors.Run(verb, stderr, () => Task.FromResult(body()));
}

/// <summary>A command that reads or changes the project's state ran outside any project (exit code 2).</summary>
internal sealed class NoProjectException(string message) : ArgumentException(message);
