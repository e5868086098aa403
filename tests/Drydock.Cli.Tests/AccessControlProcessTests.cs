using Drydock.Cli.Infrastructure;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// CLI access control through the built CLI, each verb in its own process as users run it: actors bootstrapped and
/// granted, proved by their key files; expired, revoked, unknown and forged actors, missing roles and separation of
/// duties refused with exit code 2 and recorded in the audit log; and every verb in the role table.
/// </summary>
public sealed class AccessControlProcessTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly TempDir _state = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _dir.Dispose();
        _state.Dispose();
    }

    private Task<ProcessResult> Drydock(IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var env = new Dictionary<string, string?> { ["DRYDOCK_STATE_HOME"] = _state.Path, ["DRYDOCK_ACTOR"] = null, ["DRYDOCK_ACTOR_KEY"] = null, ["DRYDOCK_REDACTION_KEY"] = null };
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>()) env[k] = v;
        return DrydockProcess.Run(_dir.Path, args, env, timeout: TimeSpan.FromSeconds(120), cancellationToken: TestContext.Current.CancellationToken);
    }

    private Task<ProcessResult> Drydock(params string[] args) => Drydock(null, args);

    private Task<ProcessResult> As(string actor, params string[] args) => Drydock(new Dictionary<string, string?> { ["DRYDOCK_ACTOR"] = actor }, args);

    private static void Ok(ProcessResult result) => Assert.True(result.Exit == 0, result.ToString());

    private static void Refused(ProcessResult result, params string[] expected)
    {
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains("refused:", result.Stderr, StringComparison.Ordinal);
        foreach (var text in expected) Assert.Contains(text, result.Stderr, StringComparison.Ordinal);
    }

    // A project with access required and its first admin, root.
    private async Task<string> ProjectWithAdmin()
    {
        Ok(await Drydock("init"));
        var bootstrap = await Drydock("actor", "bootstrap", "root", "--expires", "30d", "--reason", "first admin");
        Ok(bootstrap);
        await File.AppendAllTextAsync(Path.Combine(_dir.Path, "drydock.yaml"), "\naccess: required\n", TestContext.Current.CancellationToken);
        var keyPath = bootstrap.Stdout.Split('\n').Single(l => l.StartsWith("private key: ", StringComparison.Ordinal))["private key: ".Length..].Split(' ')[0];
        Assert.StartsWith(_state.Path, keyPath, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
        return keyPath;
    }

    [Fact]
    public void EveryVerb_IsInTheAccessTable_AndTheTableNamesNoOtherVerb()
    {
        var root = DrydockApp.Build(TextWriter.Null, TextWriter.Null);
        var verbs = AccessControl.Verbs(root).Select(v => v.Verb).ToList();
        Assert.True(verbs.Count > 40, string.Join(", ", verbs));
        var missing = verbs.Where(v => !AccessControl.Table.ContainsKey(v)).ToList();
        Assert.True(missing.Count == 0, "verbs neither in the access table nor marked as needing no role: " + string.Join(", ", missing));
        var stale = AccessControl.Table.Keys.Except(verbs).ToList();
        Assert.True(stale.Count == 0, "access table entries that are no verb: " + string.Join(", ", stale));

        // Every role named is a real role; every verb that changes state or reads sensitive records needs one.
        foreach (var (verb, rule) in AccessControl.Table) Assert.All(rule.Roles, r => Assert.Contains(r, Provenance.Registry.ActorRoles.All));
        foreach (var verb in new[] { "approve", "gate", "deploy", "incident contain", "keys create", "keys revoke", "keys rotate", "canary create", "vault get", "threat-model approve", "audit requests", "audit log", "model register", "dataset register", "actor create", "actor revoke" })
        {
            Assert.False(AccessControl.Table[verb].NoRole, verb);
        }
    }

    [Fact]
    public async Task Bootstrap_Grant_MissingRoleAndNoActorRefused_EveryDecisionAudited()
    {
        await ProjectWithAdmin();

        // The first admin only while there is none.
        var again = await As("root", "actor", "bootstrap", "again", "--expires", "30d", "--reason", "x");
        Assert.True(again.Exit == 2, again.ToString());
        Assert.Contains("already has actors", again.Stderr, StringComparison.Ordinal);

        // No actor: refused, fail closed.
        Refused(await Drydock("actor", "list"), "no actor was given", "--actor NAME");

        var created = await Drydock("actor", "create", "alice", "--role", "ml-engineer", "--role", "viewer", "--expires", "30d", "--reason", "trains the support model", "--actor", "root");
        Ok(created);
        Assert.Contains("as root (admin)", created.Stderr, StringComparison.Ordinal);

        // A role it lacks: refused naming the role required.
        Refused(await As("alice", "keys", "create", "--name", "ci"), "actor 'alice' lacks the role admin that 'keys create' requires");
        Refused(await As("alice", "audit", "log"), "'audit log' requires");
        Ok(await As("alice", "model", "list"));

        var list = await As("root", "actor", "list");
        Ok(list);
        Assert.Contains("alice", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("ml-engineer,viewer", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("granted by root: trains the support model", list.Stdout, StringComparison.Ordinal);

        // Every decision is an audit entry with the actor; the chain holds.
        var log = await As("root", "audit", "log", "--limit", "50", "--format", "json");
        Ok(log);
        Assert.Contains("\"actor.bootstrap\"", log.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"actor.grant\"", log.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"access.refused\"", log.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"access.allowed\"", log.Stdout, StringComparison.Ordinal);
        Assert.Contains("keys create", log.Stdout, StringComparison.Ordinal);
        Ok(await As("root", "audit", "verify"));

        // Taking the line out of drydock.yaml does not turn access control off while actors hold grants.
        var yaml = Path.Combine(_dir.Path, "drydock.yaml");
        await File.WriteAllTextAsync(yaml, (await File.ReadAllTextAsync(yaml, TestContext.Current.CancellationToken)).Replace("access: required", "", StringComparison.Ordinal), TestContext.Current.CancellationToken);
        Refused(await As("alice", "keys", "create", "--name", "ci"), "does not say 'access: required'");
    }

    [Fact]
    public async Task ExpiredRevokedUnknownAndForgedActors_AreRefusedNamingTheActor()
    {
        await ProjectWithAdmin();
        Ok(await As("root", "actor", "create", "bob", "--role", "auditor", "--expires", "2s", "--reason", "short audit"));
        Ok(await As("root", "actor", "create", "carol", "--role", "auditor", "--expires", "30d", "--reason", "audit"));
        var alice = await As("root", "actor", "create", "alice", "--role", "viewer", "--expires", "30d", "--reason", "reads");
        Ok(alice);
        Ok(await As("carol", "audit", "verify"));
        Ok(await As("root", "actor", "revoke", "carol", "--reason", "left the team"));
        await Task.Delay(TimeSpan.FromSeconds(2.5), TestContext.Current.CancellationToken);

        Refused(await As("bob", "audit", "verify"), "actor 'bob'", "expired");
        Refused(await As("carol", "audit", "verify"), "actor 'carol' was revoked", "by root");
        Refused(await As("mallory", "audit", "verify"), "actor 'mallory'");

        // Another actor's key file presented as root's: the signature does not verify with root's recorded key.
        var aliceKey = alice.Stdout.Split('\n').Single(l => l.StartsWith("private key: ", StringComparison.Ordinal))["private key: ".Length..].Split(' ')[0];
        var forged = await Drydock(new Dictionary<string, string?> { ["DRYDOCK_ACTOR_KEY"] = aliceKey }, "audit", "verify", "--actor", "root");
        Refused(forged, "actor 'root': the signature does not verify");

        // The Unix user name alone is nothing: a name with no key file is refused.
        File.Move(aliceKey, aliceKey + ".moved");
        Refused(await As("alice", "model", "list"), "actor 'alice': no key file");

        var log = await As("root", "audit", "log", "--action", "access.refused", "--limit", "50");
        Ok(log);
        foreach (var name in new[] { "bob", "carol", "mallory", "root", "alice" }) Assert.Contains(name, log.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeparationOfDuties_WhoRegistersADatasetCannotApproveIt()
    {
        await ProjectWithAdmin();
        File.Copy(Path.Combine(AppContext.BaseDirectory, "samples", "support-tickets.jsonl"), Path.Combine(_dir.Path, "tickets.jsonl"));
        Ok(await As("root", "actor", "create", "alice", "--role", "data-owner", "--expires", "30d", "--reason", "owns the tickets"));
        Ok(await As("root", "actor", "create", "bob", "--role", "data-owner", "--expires", "30d", "--reason", "second owner"));
        Ok(await As("alice", "clean", "tickets.jsonl", "--output", "clean.jsonl"));
        var registered = await As("alice", "dataset", "register", "clean.jsonl.manifest.json");
        Ok(registered);
        var id = registered.Stdout.Split(' ')[0];

        Refused(await As("alice", "approve", "dataset", id, "--role", "data-owner", "--decision", "approve"), $"separation of duties: alice registered dataset {id}");

        // The role named by --role must be held.
        Refused(await As("bob", "approve", "dataset", id, "--role", "security-reviewer", "--decision", "approve"), "lacks the role security-reviewer");

        // Another data owner passes access control (the approval gates then decide: no threat model yet, exit 1).
        var bob = await As("bob", "approve", "dataset", id, "--role", "data-owner", "--decision", "approve");
        Assert.True(bob.Exit == 1, bob.ToString());
        Assert.Contains("as bob (data-owner)", bob.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("refused:", bob.Stderr, StringComparison.Ordinal);

        var log = await As("root", "audit", "log", "--actor", "alice", "--action", "access.refused");
        Ok(log);
        Assert.Contains("access_decisions/", log.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeparationOfDuties_OneActorHoldingBothRequiredRoles_GivesOnlyOneOfTheTwoApprovals()
    {
        await ProjectWithAdmin();
        File.Copy(Path.Combine(AppContext.BaseDirectory, "samples", "support-tickets.jsonl"), Path.Combine(_dir.Path, "tickets.jsonl"));
        Ok(await As("root", "actor", "create", "alice", "--role", "data-owner", "--expires", "30d", "--reason", "owns the tickets"));
        Ok(await As("root", "actor", "create", "multi", "--role", "data-owner", "--role", "security-reviewer", "--expires", "1d", "--reason", "both hats"));
        Ok(await As("root", "actor", "create", "carol", "--role", "security-reviewer", "--expires", "30d", "--reason", "reviews"));
        Ok(await As("alice", "clean", "tickets.jsonl", "--output", "clean.jsonl"));
        var registered = await As("alice", "dataset", "register", "clean.jsonl.manifest.json");
        Ok(registered);
        var id = registered.Stdout.Split(' ')[0];
        Ok(await Drydock("threat-model", "init"));
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "threat-model.yaml"), """
            project: default
            assets: [support tickets]
            attackers: [API users extracting records]
            data-sensitivity: confidential
            users: [support agents]
            damage: { leak: emails exposed, lie: wrong refunds, obey: tickets steer the model }
            """, TestContext.Current.CancellationToken);
        Ok(await As("multi", "threat-model", "approve", "--role", "security-reviewer", "--comment", "reviewed"));

        var owner = await As("multi", "approve", "dataset", id, "--role", "data-owner", "--decision", "approve");
        Ok(owner);
        Assert.Contains($"dataset {id} is pending: needs an approval by a security-reviewer", owner.Stdout, StringComparison.Ordinal);

        // The second required role is another person's sign-off, even though multi holds that role too.
        Refused(await As("multi", "approve", "dataset", id, "--role", "security-reviewer", "--decision", "approve"),
            $"separation of duties: multi already approved dataset {id} as data-owner and may not approve it as security-reviewer too");
        var show = await As("alice", "dataset", "show", id, "--format", "json");
        Ok(show);
        var shown = System.Text.Json.Nodes.JsonNode.Parse(show.Stdout)!;
        Assert.Equal("pending", (string?)shown["status"]);
        Assert.Equal(["data-owner"], shown["approvals"]!.AsArray().Select(a => (string?)a!["role"]));

        // carol, a second person, gives the review.
        var second = await As("carol", "approve", "dataset", id, "--role", "security-reviewer", "--decision", "approve");
        Ok(second);
        Assert.Contains($"dataset {id} is approved", second.Stdout, StringComparison.Ordinal);

        var log = await As("root", "audit", "log", "--actor", "multi", "--action", "access.refused");
        Ok(log);
        Assert.Contains("access_decisions/", log.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("acess: required\n", "acess")]
    [InlineData("access: yes\n", "access")]
    public async Task AccessSetting_TypoOrUnknownValue_NamesFileLineAndField_Exit2(string line, string field)
    {
        Ok(await Drydock("init"));
        var yaml = Path.Combine(_dir.Path, "drydock.yaml");
        var lines = (await File.ReadAllLinesAsync(yaml, TestContext.Current.CancellationToken)).Length;
        await File.AppendAllTextAsync(yaml, line, TestContext.Current.CancellationToken);
        var result = await Drydock("actor", "list");
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains($"drydock.yaml:{lines + 1}: {field}", result.Stderr, StringComparison.Ordinal);
    }
}
