using System.CommandLine;
using Drydock.Curation.Policy;
using Drydock.Detection.Rules;
using Drydock.Provenance;
using Drydock.Provenance.Registry;
using Drydock.Provenance.ThreatModels;
using Drydock.Provenance.Vault;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Drydock.Cli.Infrastructure;

/// <summary>
/// What the provenance verbs share: drydock.yaml (project, required approval roles, registry location), the key
/// folder <c>.drydock/keys</c>, the registry and the vault, and one mapping from errors to exit codes.
/// </summary>
internal sealed class ProjectContext
{
    public const string StateFolder = ".drydock";

    public static readonly Option<string?> RegistryOption = new("--registry")
    {
        Description = "The registry: a SQLite file or postgres://user@host:port/db (default: drydock.yaml's registry, else .drydock/registry.db).",
    };

    public static readonly Option<string?> PolicyOption = new("--policy") { Description = "The project file (default: drydock.yaml when present)." };

    private ProjectContext(CleaningPolicy policy, string registry)
    {
        Policy = policy;
        RegistryLocation = registry;
    }

    public CleaningPolicy Policy { get; }

    public string RegistryLocation { get; }

    public static string KeysFolder => Path.Combine(StateFolder, "keys");

    public static string SigningKeyPath => Path.Combine(KeysFolder, "signing.key");

    public static string KeyRingPath => Path.Combine(KeysFolder, "keyring.json");

    public static string VaultFolder => Path.Combine(StateFolder, "vault");

    public static void AddOptions(Command command)
    {
        command.Options.Add(RegistryOption);
        command.Options.Add(PolicyOption);
    }

    /// <summary>Loads drydock.yaml (or the defaults) and resolves the registry location.</summary>
    public static ProjectContext Load(ParseResult parse)
    {
        var policyPath = parse.GetValue(PolicyOption);
        if (policyPath is not null && !File.Exists(policyPath)) throw new RuleFileException(policyPath, 0, "file", "no such file");
        policyPath ??= File.Exists(Commands.RuleSet.DefaultConfig) ? Commands.RuleSet.DefaultConfig : null;
        var policy = PolicyLoader.Load(policyPath);
        var registry = parse.GetValue(RegistryOption) ?? Environment.GetEnvironmentVariable("DRYDOCK_REGISTRY") ?? policy.Registry ?? Path.Combine(StateFolder, "registry.db");
        return new ProjectContext(policy, registry);
    }

    public ApprovalPolicy Approval => new(Policy.RequiredApprovalRoles, Policy.MaxClassification.Name());

    public ProvenanceRegistry OpenRegistry() => ProvenanceRegistry.Open(RegistryLocation);

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
        catch (Exception e) when (e is RegistryException or ThreatModelException or KeyRingException or RuleFileException or Training.TrainingPlanException or ArgumentException or FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult(Fail(ExitCodes.UsageOrInput, e.Message));
        }
        catch (Exception e) when (e is SqliteException or NpgsqlException or IOException or UnauthorizedAccessException)
        {
            return Task.FromResult(Fail(ExitCodes.UsageOrInput, e.Message));
        }
    }
}
