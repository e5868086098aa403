using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Drydock.Detection.Configuration;
using Drydock.Provenance;
using Drydock.Provenance.Registry;
using Drydock.Provenance.Signing;

namespace Drydock.Cli.Infrastructure;

/// <summary>
/// What a verb needs to run: no role (it reads only the files it is given), a fixed set of roles (any one of them), or
/// roles taken from its arguments (approve --role R needs R). <see cref="Separation"/> names a separation-of-duties
/// conflict of the actor with what the verb acts on, or null.
/// </summary>
internal sealed record AccessRule(IReadOnlyList<string> Roles, Func<ParseResult, IReadOnlyList<string>>? RolesFrom = null, Func<ParseResult, ProvenanceRegistry, ProjectContext, string, string?>? Separation = null)
{
    public bool NoRole => Roles.Count == 0 && RolesFrom is null;

    public IReadOnlyList<string> RolesFor(ParseResult parse) => RolesFrom?.Invoke(parse) ?? Roles;
}

/// <summary>
/// The CLI's access control, in one place: the table of every verb and the role(s) it needs, consulted by the command
/// dispatch (<see cref="Check"/>) before any verb runs. When the project says <c>access: required</c> (or its
/// registry has actors), the actor (<c>--actor NAME</c> or <c>DRYDOCK_ACTOR</c>) proves possession of its private key
/// by signing a challenge (the verb, the SHA-256 of the command line, a nonce and the time) that the registry verifies
/// with the public key it recorded. Every decision, allowed or refused, is an audit entry; refusals exit 2.
/// </summary>
internal static class AccessControl
{
    public static readonly Option<string?> ActorOption = new("--actor") { Description = "The actor to act as (default DRYDOCK_ACTOR); needed when drydock.yaml says access: required." };

    private static readonly AccessRule None = new([]);
    private static readonly string[] s_everyone = [.. ActorRoles.All];

    private static AccessRule Any(params string[] roles) => new(roles);

    /// <summary>Every verb (space-separated command path) and what it needs. A verb missing here is refused when access is required.</summary>
    public static IReadOnlyDictionary<string, AccessRule> Table { get; } = new Dictionary<string, AccessRule>(StringComparer.Ordinal)
    {
        // Read only the files given, change no project state: no role.
        ["scan"] = None,
        ["rules"] = None,
        ["analyze"] = None,
        ["verify"] = None,
        ["supply-chain check"] = None,
        ["model scan"] = None,
        ["threat-model init"] = None,
        ["demo"] = None,
        ["actor keygen"] = None, // writes a new key pair where --output says (never over a file; not into a protected project's state)
        ["actor bootstrap"] = None, // allowed only while the registry has no actor (checked by the verb, in one transaction)

        ["init"] = Any("admin"),
        ["demo monitor"] = Any("admin"), // creates two gateway keys and serves the gateway in the current project
        ["clean"] = Any("data-owner", "ml-engineer", "admin"),
        ["review sample"] = Any("data-owner", "security-reviewer", "admin"),
        ["review apply"] = Any("data-owner", "security-reviewer", "admin"),
        ["dataset register"] = Any("data-owner", "ml-engineer", "admin"),
        ["dataset list"] = Any(s_everyone),
        ["dataset show"] = Any(s_everyone),
        ["dataset diff"] = Any(s_everyone),
        ["lineage"] = Any(s_everyone),
        ["approve"] = new([], parse => [parse.GetValue<string>("--role")!], ApproveSeparation),
        ["threat-model show"] = Any(s_everyone),
        ["threat-model approve"] = new([], parse => [parse.GetValue<string>("--role")!]),
        ["model register"] = Any("ml-engineer", "admin"),
        ["model list"] = Any(s_everyone),
        ["train plan"] = Any("ml-engineer", "admin"),
        ["train run"] = Any("ml-engineer", "admin"),
        ["train base"] = Any("ml-engineer", "admin"),
        ["eval"] = Any("ml-engineer", "security-reviewer", "admin"),
        ["eval memorization"] = Any("ml-engineer", "security-reviewer", "admin"),
        ["eval membership"] = Any("ml-engineer", "security-reviewer", "admin"),
        ["eval extraction"] = Any("ml-engineer", "security-reviewer", "admin"),
        ["gate"] = new(["release-manager", "admin"], Separation: (parse, registry, _, actor) => Registrant(registry, "model", parse.GetValue<string>("--model")!, actor, "record the release gate of")),
        ["deploy"] = new([], DeployRoles, DeploySeparation),
        ["serve"] = Any("release-manager", "admin"),
        ["serve-model"] = Any("ml-engineer", "release-manager", "admin"),
        // --watch writes alerts and may open incidents: not for the read-only auditor.
        ["monitor"] = new([], parse => parse.GetValue<bool>("--watch") ? ["incident-responder", "security-reviewer", "admin"] : ["incident-responder", "security-reviewer", "auditor", "admin"]),
        ["monitor evaluate"] = Any("incident-responder", "security-reviewer", "admin"), // records evaluations, opens incidents, may contain
        ["incident contain"] = new([], parse => parse.GetValue<string?>("--key") is null ? ActorRoles.ContainRoles : ActorRoles.KeyRevokeRoles, RevertSeparation),
        ["incident close"] = Any("incident-responder", "admin"),
        ["incident list"] = new(ActorRoles.IncidentReadRoles),
        ["incident show"] = new(ActorRoles.IncidentReadRoles),
        ["keys create"] = Any("admin"),
        ["keys rotate"] = Any("admin"),
        ["keys seal"] = Any("admin"),
        ["keys revoke"] = new(ActorRoles.KeyRevokeRoles), // as POST /admin/keys/revoke
        ["keys list"] = Any("admin", "auditor", "incident-responder"),
        ["canary create"] = Any("security-reviewer", "data-owner", "admin"),
        ["canary plant"] = Any("data-owner", "admin"),
        ["canary list"] = Any("security-reviewer", "data-owner", "auditor", "admin"),
        ["vault put"] = Any("data-owner", "ml-engineer", "admin"),
        ["vault get"] = Any("data-owner", "admin"),
        ["vault list"] = Any("data-owner", "ml-engineer", "auditor", "admin"),
        ["vault verify"] = Any("data-owner", "auditor", "admin"),
        ["vault rotate"] = Any("admin"),
        ["audit verify"] = Any("auditor", "security-reviewer", "admin"),
        ["audit log"] = Any("auditor", "admin"),
        ["audit requests"] = new(ActorRoles.RequestLogRoles),
        ["audit purge"] = Any("admin"),
        ["actor create"] = Any("admin"),
        ["actor revoke"] = Any("admin"),
        ["actor list"] = Any("admin", "auditor"),
    };

    private static IReadOnlyList<string> DeployRoles(ParseResult parse) =>
        parse.GetValue<string?>("alias") is null ? s_everyone // listing deployments
        : parse.GetValue<bool>("--enable") ? ActorRoles.EnableRoles
        : ["release-manager", "admin"];

    // Separation of duties on the version that ends up served: --model for a deploy; for --enable the version the alias
    // points at now (whatever --model says: --enable ignores it). The same check as POST /admin/enable.
    private static string? DeploySeparation(ParseResult parse, ProvenanceRegistry registry, ProjectContext context, string actor)
    {
        if (parse.GetValue<string?>("alias") is not { } alias) return null;
        if (!parse.GetValue<bool>("--enable")) return parse.GetValue<string?>("--model") is { } model ? Registrant(registry, "model", model, actor, "deploy") : null;
        return registry.ServingConflict(alias, revert: false, actor, context.Approval);
    }

    // incident contain --revert serves the earlier version it reverts to: the same separation as deploying it (and as
    // POST /admin/contain with a revert).
    private static string? RevertSeparation(ParseResult parse, ProvenanceRegistry registry, ProjectContext context, string actor) =>
        parse.GetValue<bool>("--revert") && parse.GetValue<string?>("--model") is { } alias ? registry.ServingConflict(alias, revert: true, actor, context.Approval) : null;

    // Who registered the subject may not approve it, and one actor approves it in one role only (two required roles are
    // two people). A rejection is always taken.
    private static string? ApproveSeparation(ParseResult parse, ProvenanceRegistry registry, ProjectContext context, string actor)
    {
        var (kind, id) = (parse.GetValue<string>("kind")!, parse.GetValue<string>("id")!);
        return Registrant(registry, kind, id, actor, "approve")
            ?? (parse.GetValue<string>("--decision") == "approve" ? registry.RoleConflict(kind, id, parse.GetValue<string>("--role")!, actor) : null);
    }

    // Separation of duties: who registered a dataset or model version may not approve, gate or deploy it.
    private static string? Registrant(ProvenanceRegistry registry, string kind, string id, string actor, string what) => registry.RegistrantConflict(kind, id, actor, what);

    /// <summary>The verb of a parsed command line: its command path without the root (<c>keys create</c>).</summary>
    public static string VerbOf(Command command, IEnumerable<Command> parents)
    {
        var names = parents.Where(c => c is not RootCommand).Select(c => c.Name).Append(command.Name);
        return string.Join(' ', names);
    }

    /// <summary>Every command that runs something, with its verb, under <paramref name="root"/>.</summary>
    public static IEnumerable<(string Verb, Command Command)> Verbs(RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var stack = new Stack<(Command, string)>();
        foreach (var sub in root.Subcommands) stack.Push((sub, sub.Name));
        while (stack.Count > 0)
        {
            var (command, verb) = stack.Pop();
            if (command.Action is not null) yield return (verb, command);
            foreach (var sub in command.Subcommands) stack.Push((sub, verb + " " + sub.Name));
        }
    }

    /// <summary>Adds <c>--actor</c> to every verb that has no option of that name (<c>audit log --actor</c> filters; there DRYDOCK_ACTOR chooses).</summary>
    public static void Attach(RootCommand root)
    {
        foreach (var (_, command) in Verbs(root))
        {
            if (!command.Options.Any(o => o.Name == "--actor")) command.Options.Add(ActorOption);
        }
    }

    /// <summary>
    /// Checks the parsed command line before it runs. Null: go on (as the verified actor, when access is required);
    /// otherwise the exit code of the refusal, already explained on <paramref name="stderr"/> and recorded.
    /// </summary>
    public static int? Check(ParseResult parsed, string[] args, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        var result = parsed.CommandResult;
        if (parsed.Action is null || parsed.Action != result.Command.Action) return null; // --help, --version: nothing runs
        var parents = new List<Command>();
        for (var p = result.Parent; p is System.CommandLine.Parsing.CommandResult c; p = c.Parent) parents.Insert(0, c.Command);
        var verb = VerbOf(result.Command, parents);
        Table.TryGetValue(verb, out var rule);

        int Refuse(string message)
        {
            stderr.WriteLine($"drydock {verb}: refused: {message}");
            return ExitCodes.UsageOrInput;
        }

        int RefuseRecorded(ProjectContext? own, string message)
        {
            if (own is not null) ProjectGuard.Record(own, verb, message, stderr);
            return Refuse(message);
        }

        var here = ProjectContext.FindRoot(Directory.GetCurrentDirectory());
        if (rule is { NoRole: true }) return Owners();

        if (here is not null)
        {
            // The current project: its own drydock.yaml and registry decide; a protected one's registry cannot be switched.
            ProjectContext own;
            var emergency = false;
            try
            {
                own = ProjectContext.LoadOwn(here);
            }
            catch (ConfigFileException e)
            {
                // The emergency verbs go on despite an unrelated error in drydock.yaml; the registry's actors still decide.
                if (verb is not ("keys revoke" or "incident contain") || !System.IO.File.Exists(e.File))
                {
                    // Refused as the verb itself would refuse it (same message, exit 2): nothing runs on a file that cannot be read.
                    stderr.WriteLine($"drydock {verb}: {e.Message}");
                    ProjectGuard.RecordIfProtected(here, verb, $"access control cannot be decided: {e.Message}", stderr);
                    return ExitCodes.UsageOrInput;
                }

                own = ProjectContext.LoadOwn(here, emergency: true);
                emergency = true;
            }

            if (SwitchedRegistry(own, here) is { } switched) return switched;

            var isProtected = ProjectGuard.IsProtected(own, out _);
            if (isProtected != false)
            {
                string? named;
                try
                {
                    named = ProjectContext.NamedRegistry(Value(parsed, ProjectContext.PolicyOption), Value(parsed, ProjectContext.RegistryOption));
                    if (named is not null && !ProjectGuard.SameRegistry(named, own.RegistryLocation))
                    {
                        return RefuseRecorded(own, $"the project {here} is protected (its drydock.yaml says access: required or its registry has actors), so its own drydock.yaml and registry decide and the registry may not be switched: --registry, DRYDOCK_REGISTRY or --config names {RegistryDatabase.Shown(named)}, not the project's registry {RegistryDatabase.Shown(own.RegistryLocation)}; leave them out");
                    }
                }
                catch (NoProjectException e)
                {
                    return RefuseRecorded(own, $"access control cannot be decided: {e.Message}");
                }

                if ((isProtected == true || emergency) && Enforce(parsed, verb, rule, args, stderr, own, !emergency && own.File["access"] is { Value: "required" }, emergency, Refuse) is { } refused) return refused;
                if (Owners() is { } refusedHere) return refusedHere; // (a registry that cannot be read, with access not required: the verb reports it)
                return ProjectGuard.StateEscape(here, isProtected: true) is { } escape ? RefuseRecorded(own, escape) : null;
            }

            // Hard-linked registry or key files and mounts in .drydock/ are refused in every project (links are traced instead).
            if (ProjectGuard.StateEscape(here, isProtected: false) is { } escaped) return RefuseRecorded(own, escaped);
        }

        // The keys, vault and logs in .drydock/ are guarded by the registry kept beside them: when that one has actors
        // (or cannot be read), a drydock.yaml whose registry: line names another registry may not switch access off.
        int? SwitchedRegistry(ProjectContext own, string root)
        {
            ProjectContext state;
            try
            {
                state = own.WithStateRegistry();
                if (ProjectGuard.SameRegistry(state.RegistryLocation, own.RegistryLocation)) return null;
            }
            catch (NoProjectException)
            {
                return null; // no state folder of its own: refused or decided further on
            }

            if (ProjectGuard.RegistryHasActors(state, out _) == false) return null;
            return RefuseRecorded(state, $"the project {root} keeps a registry with actors at {RegistryDatabase.Shown(state.RegistryLocation)} (it guards the keys, vault and logs in its state folder), but its drydock.yaml's registry: names {RegistryDatabase.Shown(own.RegistryLocation)}; access control may not be switched to another registry this way: remove that registry: line, or move the state folder's registry away when the project has really moved to another registry");
        }

        // Every project whose state a path on the command line names: its own drydock.yaml and registry decide.
        int? Owners()
        {
            foreach (var owner in ProjectGuard.OwnersNamed(parsed, linkedState: rule is not { NoRole: true }))
            {
                var isHere = here is not null && ProjectGuard.SameFolder(owner, here);
                if (isHere && !(rule is { NoRole: true })) continue; // decided as the current project
                try
                {
                    if (SwitchedRegistry(ProjectContext.LoadOwn(owner, emergency: true), owner) is { } switched) return switched;
                }
                catch (Exception e) when (e is ConfigFileException or IOException or UnauthorizedAccessException)
                {
                    // decided below (cannot be decided: refused)
                }

                var isProtected = ProjectGuard.IsProtected(owner, out var problem);
                if (isProtected == false || verb == "actor bootstrap") continue; // bootstrap: refused by the verb once the registry has an actor
                ProjectContext? ownerContext = null;
                try
                {
                    ownerContext = ProjectContext.LoadOwn(owner, emergency: true);
                }
                catch (Exception e) when (e is ConfigFileException or IOException or UnauthorizedAccessException)
                {
                    // nothing to record into
                }

                if (rule is { NoRole: true })
                {
                    return RefuseRecorded(ownerContext, $"'{verb}' needs no role, so it may not read or write the state of the protected project {owner} (its .drydock/ or drydock.yaml); name a path outside it");
                }

                if (isProtected is null || ownerContext is null) return RefuseRecorded(ownerContext, $"access control cannot be decided for the project {owner}, whose state the command line names: {problem}");
                var own = ProjectContext.LoadOwn(owner);
                if (Enforce(parsed, verb, rule, args, stderr, own, own.File["access"] is { Value: "required" }, emergency: false, Refuse) is { } refused) return refused;
            }

            return null;
        }

        if (Owners() is { } refusedByOwner) return refusedByOwner;

        ProjectContext context;
        try
        {
            context = ProjectContext.Load(Value(parsed, ProjectContext.PolicyOption), Value(parsed, ProjectContext.RegistryOption));
        }
        catch (ConfigFileException e)
        {
            if (verb is "keys revoke" or "incident contain" && System.IO.File.Exists(e.File)) return CheckEmergency(parsed, verb, rule, args, stderr);
            stderr.WriteLine($"drydock {verb}: {e.Message}");
            return ExitCodes.UsageOrInput;
        }
        catch (NoProjectException)
        {
            return null; // outside any project there is no access control; the verb reports what it needs
        }

        var required = context.File["access"] is { } access && access.Value == "required";
        return Enforce(parsed, verb, rule, args, stderr, context, required, emergency: false, Refuse);
    }

    // A registry that cannot be opened or read: the verb reports it when access is not required; refused when it is.
    private static bool Unreadable(Exception e) =>
        e is RegistryException or IOException or UnauthorizedAccessException or KeyRingException or System.Data.Common.DbException;

    private static int? CheckEmergency(ParseResult parsed, string verb, AccessRule? rule, string[] args, TextWriter stderr)
    {
        var context = ProjectContext.LoadForEmergency(parsed, verb);
        return Enforce(parsed, verb, rule, args, stderr, context, required: false, emergency: true, refuse: message =>
        {
            stderr.WriteLine($"drydock {verb}: refused: {message}");
            return ExitCodes.UsageOrInput;
        });
    }

    // emergency: drydock.yaml could not be read (a verb that goes on despite that); actors in the registry then require one.
    private static int? Enforce(ParseResult parsed, string verb, AccessRule? rule, string[] args, TextWriter stderr, ProjectContext context, bool required, bool emergency, Func<string, int> refuse)
    {
        // Recorded in the registry where it can be opened (a warning says so where it cannot); then refused.
        int Undecided(string message)
        {
            ProjectGuard.Record(context, verb, message, stderr);
            return refuse(message);
        }

        string location;
        try
        {
            location = context.RegistryLocation;
        }
        catch (NoProjectException e)
        {
            return required ? Undecided($"access control cannot be decided: {e.Message}") : null;
        }

        var exists = location.Contains("://", StringComparison.Ordinal) || location.StartsWith("Host=", StringComparison.OrdinalIgnoreCase) || System.IO.File.Exists(location);
        if (!required && !exists) return null;

        ProvenanceRegistry registry;
        try
        {
            registry = context.OpenRegistry();
        }
        catch (Exception e) when (Unreadable(e))
        {
            return required ? Undecided($"access control cannot be decided: {e.Message}") : null;
        }

        try
        {
            return Decide(parsed, verb, rule, args, stderr, context, registry, required, emergency, refuse);
        }
        catch (Exception e) when (Unreadable(e))
        {
            return required ? Undecided($"access control cannot be decided: {e.Message}") : null;
        }
        finally
        {
            registry.Dispose();
        }
    }

    private static int? Decide(ParseResult parsed, string verb, AccessRule? rule, string[] args, TextWriter stderr, ProjectContext context, ProvenanceRegistry registry, bool required, bool emergency, Func<string, int> refuse)
    {
        {
            var now = DateTimeOffset.UtcNow;
            var name = Value(parsed, ActorOption) ?? Environment.GetEnvironmentVariable("DRYDOCK_ACTOR");
            name = name?.Trim();
            int Record(string actor, string? role, bool allowed, string reason, string? challengeSha = null)
            {
                registry.RecordAccessDecision(actor, verb, role, allowed, reason, challengeSha);
                return allowed ? 0 : refuse(reason);
            }

            // The grants decide only as drydock wrote them: a row edited, added or deleted behind the audit log's back is refused.
            if (registry.ActorRecordsProblem() is { } edited)
            {
                var who = name is { Length: > 0 } && ProvenanceRegistry.ActorNameProblem(name) is null ? name : "(none)";
                return Record(who, null, false, $"actor record edited outside drydock: {edited}; run 'drydock audit verify'");
            }

            if (!required)
            {
                // Access control set up once stays on: drydock.yaml losing its 'access: required' line does not turn it off.
                if (!registry.Actors().Any(a => a.State(now) != "revoked")) return null;
                if (!emergency) return Record("(none)", null, false, $"the registry has actors whose grants are not revoked (access control was set up), but {context.PolicyPath ?? "drydock.yaml"} does not say 'access: required'; restore that line (or revoke every actor to turn access control off)");
            }

            if (rule is null) return Record(name is { Length: > 0 } ? name : "(none)", null, false, $"'{verb}' is not in the access table, so no role may run it (fail closed)");
            if (string.IsNullOrEmpty(name))
            {
                return Record("(none)", null, false, "access is required (drydock.yaml access: required) and no actor was given: pass --actor NAME or set DRYDOCK_ACTOR");
            }

            if (ProvenanceRegistry.ActorNameProblem(name) is { } problem) return Record("(invalid)", null, false, $"--actor: {problem}");
            var keyPath = ActorKeys.PathOf(registry.Database, name);
            if (!System.IO.File.Exists(keyPath)) return Record(name, null, false, $"actor '{name}': no key file at {keyPath} (DRYDOCK_ACTOR_KEY names another)");

            byte[] challenge;
            byte[] signature;
            try
            {
                challenge = Challenge(registry.Database.Identity, name, verb, args);
                using var key = SigningKey.Load(keyPath);
                signature = key.Sign(challenge);
            }
            catch (KeyRingException e)
            {
                return Record(name, null, false, $"actor '{name}': {e.Message}");
            }

            var challengeSha = Convert.ToHexStringLower(SHA256.HashData(challenge));
            ActorGrant grant;
            try
            {
                grant = registry.VerifyActor(name, challenge, signature, now);
            }
            catch (ActorRefusedException e)
            {
                return Record(name, null, false, e.Message);
            }

            var needed = rule.RolesFor(parsed);
            var role = needed.FirstOrDefault(r => grant.Roles.Contains(r));
            if (role is null)
            {
                return Record(name, null, false, $"actor '{name}' lacks the role {(needed.Count == 1 ? needed[0] : "(one of " + string.Join(", ", needed) + ")")} that '{verb}' requires (it holds {string.Join(", ", grant.Roles)})");
            }

            if (rule.Separation?.Invoke(parsed, registry, context, name) is { } conflict) return Record(name, role, false, conflict);
            Record(name, role, true, $"{verb} as {role}", challengeSha);
            Environment.SetEnvironmentVariable("DRYDOCK_ACTOR", name); // the verified actor is who the verb records
            stderr.WriteLine($"drydock {verb}: as {name} ({role})");
            return null;
        }
    }

    // What the actor signs: the registry, itself, the verb, the command line's SHA-256, a fresh nonce and the time.
    private static byte[] Challenge(string registryIdentity, string actor, string verb, string[] args)
    {
        var line = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\0', args))));
        var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var part in new[] { "drydock-actor-challenge/1", registryIdentity, actor, verb, line, nonce, RegistryDatabase.Now() }) w.WriteStringValue(part);
            w.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static T? Value<T>(ParseResult parse, Option<T> option) => parse.GetResult(option) is null ? default : parse.GetValue(option);
}
