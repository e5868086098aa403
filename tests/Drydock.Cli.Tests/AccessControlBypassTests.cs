using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// Ways around the CLI's access control, each through the built CLI in its own process: a protected project's own
/// drydock.yaml and registry decide, whatever registry --registry, DRYDOCK_REGISTRY or --config names; a path naming a
/// protected project's state (links resolved) brings that project's access control with it; verbs that need no role
/// neither read nor write a protected project's state; demo refuses to empty a project.
/// </summary>
public sealed class AccessControlBypassTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly TempDir _other = new();
    private readonly TempDir _outside = new();
    private readonly TempDir _state = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _dir.Dispose();
        _other.Dispose();
        _outside.Dispose();
        _state.Dispose();
    }

    private Task<ProcessResult> In(string folder, IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var env = new Dictionary<string, string?> { ["DRYDOCK_STATE_HOME"] = _state.Path, ["DRYDOCK_ACTOR"] = null, ["DRYDOCK_ACTOR_KEY"] = null, ["DRYDOCK_REDACTION_KEY"] = null, ["DRYDOCK_REGISTRY"] = null };
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>()) env[k] = v;
        return DrydockProcess.Run(folder, args, env, timeout: TimeSpan.FromSeconds(120), cancellationToken: TestContext.Current.CancellationToken);
    }

    private Task<ProcessResult> Drydock(params string[] args) => In(_dir.Path, null, args);

    private static void Ok(ProcessResult result) => Assert.True(result.Exit == 0, result.ToString());

    private static void Refused(ProcessResult result, params string[] expected)
    {
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains("refused:", result.Stderr, StringComparison.Ordinal);
        foreach (var text in expected) Assert.Contains(text, result.Stderr, StringComparison.Ordinal);
    }

    private string Registry => Path.Combine(_dir.Path, ".drydock", "registry.db");

    // The protected project (access required, first admin root) and another project, the attacker's, whose only admin is 'me'.
    private async Task Projects()
    {
        Ok(await Drydock("init"));
        Ok(await Drydock("actor", "bootstrap", "root", "--expires", "30d", "--reason", "first admin"));
        await File.AppendAllTextAsync(Path.Combine(_dir.Path, "drydock.yaml"), "\naccess: required\n", TestContext.Current.CancellationToken);
        Ok(await In(_other.Path, null, "init"));
        Ok(await In(_other.Path, null, "actor", "bootstrap", "me", "--expires", "30d", "--reason", "mine"));
    }

    private string OtherRegistry => Path.Combine(_other.Path, ".drydock", "registry.db");

    [Fact]
    public async Task ARegistryNamedByEnvironmentOrOption_CannotDecideAccessToAProtectedProject()
    {
        await Projects();
        var copy = Path.Combine(_outside.Path, "x.db");
        File.Copy(OtherRegistry, copy);
        var me = new Dictionary<string, string?> { ["DRYDOCK_ACTOR"] = "me" };
        foreach (var named in new[] { OtherRegistry, copy })
        {
            var env = new Dictionary<string, string?>(me) { ["DRYDOCK_REGISTRY"] = named };
            Refused(await In(_dir.Path, env, "audit", "requests"), "may not be switched");
            Refused(await In(_dir.Path, env, "vault", "list"), "may not be switched");
            Refused(await In(_dir.Path, env, "keys", "create", "--name", "x", "--admin"), "may not be switched");
            Refused(await In(_dir.Path, me, "keys", "create", "--name", "x", "--admin", "--registry", named), "may not be switched");
            Refused(await In(_dir.Path, env, "keys", "revoke", "dk-0000"), "may not be switched");
        }

        // The refusals are recorded in the project's own registry; its own admin still works.
        using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Registry};Mode=ReadOnly;Pooling=False"))
        {
            db.Open();
            using var query = db.CreateCommand();
            query.CommandText = "SELECT count(*) FROM access_decisions WHERE decision = 'refused' AND reason LIKE '%may not be switched%'";
            Assert.Equal(10L, (long)query.ExecuteScalar()!);
        }

        Ok(await In(_dir.Path, new Dictionary<string, string?> { ["DRYDOCK_ACTOR"] = "root" }, "audit", "verify"));
        Ok(await In(_dir.Path, new Dictionary<string, string?> { ["DRYDOCK_ACTOR"] = "root", ["DRYDOCK_REGISTRY"] = Registry }, "keys", "list"));
    }

    [Fact]
    public async Task AConfigFile_CannotSwitchOffAccessOrTheRegistryOfAProtectedProject()
    {
        await Projects();
        var plain = Path.Combine(_outside.Path, "plain.yaml");
        await File.WriteAllTextAsync(plain, $"registry: {OtherRegistry}\n", TestContext.Current.CancellationToken);
        Refused(await Drydock("keys", "create", "--name", "x", "--admin", "--config", plain), "may not be switched");

        var broken = Path.Combine(_outside.Path, "broken.yaml");
        await File.WriteAllTextAsync(broken, $"registry: {OtherRegistry}\nno_such_setting: 1\n", TestContext.Current.CancellationToken);
        Refused(await Drydock("keys", "revoke", "dk-0000", "--config", broken), "may not be switched");

        // A --config without access: and with the project's registry still needs an actor.
        var same = Path.Combine(_outside.Path, "same.yaml");
        await File.WriteAllTextAsync(same, $"registry: {Registry}\n", TestContext.Current.CancellationToken);
        Refused(await Drydock("keys", "create", "--name", "x", "--admin", "--config", same), "no actor was given");
        var keys = await In(_dir.Path, new Dictionary<string, string?> { ["DRYDOCK_ACTOR"] = "root" }, "keys", "list");
        Ok(keys);
        Assert.DoesNotContain(" x ", keys.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APathNamingAProtectedProjectsState_BringsItsAccessControl_FromOutsideAndThroughLinks()
    {
        await Projects();
        var state = Path.Combine(_dir.Path, ".drydock");
        Directory.CreateDirectory(Path.Combine(state, "gateway", "requests"));
        Refused(await In(_outside.Path, null, "audit", "requests", "--folder", Path.Combine(state, "gateway", "requests")), "no actor was given");
        Refused(await In(_outside.Path, null, "audit", "purge", "--folder", Path.Combine(state, "gateway", "requests")), "no actor was given");
        Refused(await In(_outside.Path, null, "vault", "list", "--vault", Path.Combine(state, "vault")), "no actor was given");
        Refused(await In(_outside.Path, new Dictionary<string, string?> { ["DRYDOCK_ACTOR"] = "me" }, "vault", "list", "--vault", Path.Combine(state, "vault")), "actor 'me'");

        var link = Path.Combine(_outside.Path, "innocent");
        Directory.CreateSymbolicLink(link, state);
        Refused(await In(_outside.Path, null, "vault", "list", "--vault", Path.Combine(link, "vault")), "no actor was given");

        // With the protected project's own actor it runs.
        Ok(await In(_outside.Path, new Dictionary<string, string?> { ["DRYDOCK_ACTOR"] = "root" }, "vault", "list", "--vault", Path.Combine(state, "vault")));
    }

    [Fact]
    public async Task VerbsNeedingNoRole_NeitherOverwriteAProtectedProjectsState_NorDemoEmptiesAProject()
    {
        await Projects();
        var yaml = await File.ReadAllTextAsync(Path.Combine(_dir.Path, "drydock.yaml"), TestContext.Current.CancellationToken);
        Refused(await Drydock("threat-model", "init", "-o", ".drydock/registry.db", "--force"), "needs no role");
        Refused(await Drydock("threat-model", "init", "-o", "drydock.yaml", "--force"), "needs no role");
        Assert.StartsWith("SQLite format 3", await File.ReadAllTextAsync(Registry, TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(yaml, await File.ReadAllTextAsync(Path.Combine(_dir.Path, "drydock.yaml"), TestContext.Current.CancellationToken));
        Ok(await In(_dir.Path, new Dictionary<string, string?> { ["DRYDOCK_ACTOR"] = "root" }, "audit", "verify"));

        var demo = await In(_outside.Path, null, "demo", "--workdir", _dir.Path);
        Assert.True(demo.Exit == 2, demo.ToString());
        Assert.Contains("holds a Drydock project", demo.Stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir.Path, "drydock.yaml")));
        Assert.True(File.Exists(Registry));

        // An unprotected project is no demo workdir either.
        var unprotected = await In(_outside.Path, null, "demo", "--workdir", _other.Path);
        Assert.True(unprotected.Exit == 2, unprotected.ToString());
        Assert.True(Directory.Exists(Path.Combine(_other.Path, ".drydock")));
    }

    [Fact]
    public async Task AnActorWithItsOwnKeyPair_IsGrantedItsPublicKeyOnly_AndTheGrantorHoldsNoPrivateKey()
    {
        await Projects();
        var keyPath = Path.Combine(_outside.Path, "alice.key");
        var keygen = await In(_outside.Path, null, "actor", "keygen", "--output", keyPath);
        Ok(keygen);
        Assert.Contains("BEGIN PUBLIC KEY", keygen.Stdout, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
        Assert.True(File.Exists(keyPath + ".pub"));
        Assert.Equal(2, (await In(_outside.Path, null, "actor", "keygen", "--output", keyPath)).Exit); // never overwritten

        var root = new Dictionary<string, string?> { ["DRYDOCK_ACTOR"] = "root" };
        var created = await In(_dir.Path, root, "actor", "create", "alice", "--role", "viewer", "--public-key", keyPath + ".pub", "--expires", "30d", "--reason", "reads");
        Ok(created);
        Assert.Contains("held by alice alone", created.Stdout, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(_state.Path, "alice.key*", SearchOption.AllDirectories));

        // Alice acts with her own key; without it (no key where the grantor would have put one) she is refused.
        Ok(await In(_dir.Path, new Dictionary<string, string?> { ["DRYDOCK_ACTOR"] = "alice", ["DRYDOCK_ACTOR_KEY"] = keyPath }, "model", "list"));
        Refused(await In(_dir.Path, new Dictionary<string, string?> { ["DRYDOCK_ACTOR"] = "alice" }, "model", "list"), "actor 'alice'");
    }
}
