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
    public string RegistryLocation => _registry ?? Path.Combine(Root ?? throw NoProject(), StateFolderName, "registry.db");

    /// <summary>The state folder of the project found from the current directory (refused outside a project).</summary>
    public static string StateFolder => Path.Combine(FindRoot(Directory.GetCurrentDirectory()) ?? throw NoProject(), StateFolderName);

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
        stderr.WriteLine(Root is null ? $"drydock: no project; file {PolicyPath}" : $"drydock: project {Root}{file}");
    }

    /// <summary>As <see cref="Load(ParseResult)"/>, for a given --policy and --registry, without a word on stderr.</summary>
    public static ProjectContext Load(string? policyOption, string? registryOption = null)
    {
        var root = FindRoot(Directory.GetCurrentDirectory());
        if (policyOption is not null && !System.IO.File.Exists(policyOption)) throw new ConfigFileException(policyOption, 0, "file", "no such file (--policy)");
        var policyPath = policyOption ?? (root is not null && System.IO.File.Exists(Path.Combine(root, ProjectFileName)) ? Path.Combine(root, ProjectFileName) : null);
        var file = policyPath is null ? ProjectFile.Defaults : ProjectFile.Load(policyPath);
        var fromFile = file.Text("registry") is { } r && !r.Contains("://", StringComparison.Ordinal) && !Path.IsPathRooted(r) ? Path.Combine(root ?? Path.GetDirectoryName(Path.GetFullPath(policyPath!))!, r) : file.Text("registry");
        var registry = registryOption ?? Environment.GetEnvironmentVariable("DRYDOCK_REGISTRY") ?? fromFile;
        return new ProjectContext(root, policyPath, file, registry);
    }

    /// <summary>The built-in rules, the rules of this project file and of <paramref name="ruleFiles"/>.</summary>
    public Commands.RuleSet Rules(IEnumerable<string>? ruleFiles = null) => Commands.RuleSet.Load(File, ruleFiles ?? []);

    public ApprovalPolicy Approval => new(Policy.RequiredApprovalRoles, Policy.MaxClassification.Name());

    public ProvenanceRegistry OpenRegistry() => ProvenanceRegistry.Open(RegistryLocation);

    /// <summary>
    /// The signed checkpoint of this registry's audit head: <c>.drydock/audit-heads/</c>, one file per registry,
    /// outside the registry so that removing entries from the log's end together with their rows is found.
    /// </summary>
    public string CheckpointPath => Path.Combine(Root ?? throw NoProject(), StateFolderName, "audit-heads",
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(RegistryLocation)))[..16] + ".dsse.json");

    /// <summary>Signs the registry's current audit head (with the project's signing key, when it has one); a log that fails the last checkpoint keeps it and is reported.</summary>
    public void Checkpoint(ProvenanceRegistry registry, TextWriter stderr)
    {
        if (Root is null || !System.IO.File.Exists(SigningKeyPath)) return;
        using var key = Provenance.Signing.SigningKey.Load(SigningKeyPath);
        if (Provenance.Audit.AuditCheckpoint.Write(registry.Database, CheckpointPath, key) is { } problem) stderr.WriteLine($"drydock: warning: the audit checkpoint was not moved: {problem}");
    }

    /// <summary>Checks the registry's audit log against its signed checkpoint: null when it holds it (or there is none).</summary>
    public string? CheckCheckpoint(ProvenanceRegistry registry)
    {
        if (Root is null || !System.IO.File.Exists(CheckpointPath)) return null;
        var publicKey = SigningKeyPath + ".pub";
        if (!System.IO.File.Exists(publicKey)) return $"there is no public key {publicKey} to verify the audit checkpoint {CheckpointPath} with";
        return Provenance.Audit.AuditCheckpoint.Check(registry.Database, CheckpointPath, [Provenance.Signing.SigningKey.LoadPublic(publicKey)]);
    }

    private static T? Value<T>(ParseResult parse, Option<T> option) => parse.GetResult(option) is null ? default : parse.GetValue(option);

    private static NoProjectException NoProject() => new(
        $"no Drydock project in {Directory.GetCurrentDirectory()} or any folder above it (a folder with drydock.yaml or .drydock/); run 'drydock init' in the project's folder, or run this command there");

    /// <summary>Runs a verb body, turning known failures into a message on stderr and an exit code.</summary>
    public static Task<int> Guard(string verb, TextWriter stderr, Func<int> body)
    {
        int Fail(int code, string message)
        {
            stderr.WriteLine($"drydock {verb}: {message}");
            return code;
        }

        try
        {
            return Task.FromResult(body());
        }
        catch (GateException e)
        {
            stderr.WriteLine($"drydock {verb}: refused; the gate failed:");
            foreach (var reason in e.Reasons) stderr.WriteLine($"  - {reason}");
            return Task.FromResult(ExitCodes.Findings);
        }
        catch (VaultIntegrityException e)
        {
            return Task.FromResult(Fail(ExitCodes.Findings, $"integrity check failed: {e.Message}"));
        }
        catch (Exception e) when (e is RegistryException or ThreatModelException or KeyRingException or ConfigFileException or Training.TrainingPlanException or ArgumentException or FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult(Fail(ExitCodes.UsageOrInput, e.Message));
        }
        catch (Exception e) when (e is SqliteException or NpgsqlException or IOException or UnauthorizedAccessException)
        {
            return Task.FromResult(Fail(ExitCodes.UsageOrInput, e.Message));
        }
    }
}

/// <summary>A command that reads or changes the project's state ran outside any project (exit code 2).</summary>
internal sealed class NoProjectException(string message) : ArgumentException(message);
