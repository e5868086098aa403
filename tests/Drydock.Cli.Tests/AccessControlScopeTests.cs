using Drydock.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace Drydock.Cli.Tests;

/// <summary>
/// Where access control reaches, through the built CLI in its own process: refusals that cannot be decided are still
/// recorded where the registry opens; a registry kept outside <c>.drydock/</c>, or named only by a config file's
/// <c>registry:</c> line, brings its project's access control with it from outside the project; and demo refuses a
/// workdir inside a project or holding one further down.
/// </summary>
public sealed class AccessControlScopeTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly TempDir _outside = new();
    private readonly TempDir _state = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
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

    private static readonly Dictionary<string, string?> s_root = new() { ["DRYDOCK_ACTOR"] = "root" };

    private static void Ok(ProcessResult result) => Assert.True(result.Exit == 0, result.ToString());

    private static void Refused(ProcessResult result, params string[] expected)
    {
        Assert.True(result.Exit == 2, result.ToString());
        foreach (var text in expected) Assert.Contains(text, result.Stderr, StringComparison.Ordinal);
    }

    private static long Refusals(string registry, string like)
    {
        using var db = new SqliteConnection($"Data Source={registry};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var query = db.CreateCommand();
        query.CommandText = "SELECT count(*) FROM access_decisions WHERE decision = 'refused' AND reason LIKE @like";
        query.Parameters.AddWithValue("@like", like);
        return (long)query.ExecuteScalar()!;
    }

    private string Yaml => Path.Combine(_dir.Path, "drydock.yaml");

    private async Task Append(string path, string text) => await File.AppendAllTextAsync(path, text, TestContext.Current.CancellationToken);

    [Fact]
    public async Task RefusalsThatCannotBeDecided_AreRecordedWhereTheRegistryOpens()
    {
        Ok(await Drydock("init"));
        Ok(await Drydock("actor", "bootstrap", "root", "--expires", "30d", "--reason", "first admin"));
        await Append(Yaml, "\naccess: required\n");
        var registry = Path.Combine(_dir.Path, ".drydock", "registry.db");

        // The actor key folder cannot be used (a state folder inside the project): refused, and the refusal recorded.
        var inside = await In(_dir.Path, new Dictionary<string, string?>(s_root) { ["DRYDOCK_STATE_HOME"] = Path.Combine(_dir.Path, "state") }, "keys", "list");
        Refused(inside, "refused: access control cannot be decided");
        Assert.Equal(1L, Refusals(registry, "access control cannot be decided%"));

        // drydock.yaml that fails the reader in a protected project: refused as the verb would, and recorded.
        var yaml = await File.ReadAllTextAsync(Yaml, TestContext.Current.CancellationToken);
        await Append(Yaml, "no_such_setting: 1\n");
        Refused(await In(_dir.Path, s_root, "keys", "list"), "no_such_setting");
        Assert.Equal(1L, Refusals(registry, "access control cannot be decided: %no_such_setting%"));
        await File.WriteAllTextAsync(Yaml, yaml, TestContext.Current.CancellationToken);
        Ok(await In(_dir.Path, s_root, "audit", "verify"));
    }

    [Fact]
    public async Task ARegistryOutsideTheStateFolder_WhoseGrantsExpired_IsNotOpenFromOutsideTheProject()
    {
        Ok(await Drydock("init"));
        var registry = Path.Combine(_outside.Path, "kept", "b.db");
        Directory.CreateDirectory(Path.GetDirectoryName(registry)!);
        await Append(Yaml, $"\nregistry: {registry}\n");
        Ok(await Drydock("actor", "bootstrap", "root", "--expires", "3s", "--reason", "first admin"));
        await Append(Yaml, "access: required\n");
        Assert.True(File.Exists(registry));
        await Task.Delay(TimeSpan.FromSeconds(3.5), TestContext.Current.CancellationToken);

        // Inside the project the expired grant is refused; from outside, naming the registry (or a config naming it) is too.
        Refused(await In(_dir.Path, s_root, "audit", "log"), "expired");
        var elsewhere = Path.Combine(_outside.Path, "elsewhere");
        Directory.CreateDirectory(elsewhere);
        Refused(await In(elsewhere, null, "audit", "log", "--registry", registry), "access control was set up");
        var copy = Path.Combine(elsewhere, "copy.yaml");
        await File.WriteAllTextAsync(copy, $"registry: {registry}\n", TestContext.Current.CancellationToken);
        Refused(await In(elsewhere, null, "audit", "log", "--config", copy), "access control was set up");
        Assert.Equal(2L, Refusals(registry, "%access control was set up%"));
    }

    [Fact]
    public async Task AProtectedProjectsRegistry_NamedOnlyByAConfigFile_BringsItsAccessControl()
    {
        Ok(await Drydock("init"));
        await Append(Yaml, "\naccess: required\n");
        var registry = Path.Combine(_dir.Path, ".drydock", "registry.db");
        Refused(await Drydock("audit", "verify"), "no actor was given"); // (the registry is opened, so made, by the check)
        Assert.True(File.Exists(registry));

        var elsewhere = Path.Combine(_outside.Path, "elsewhere");
        Directory.CreateDirectory(elsewhere);
        var copy = Path.Combine(elsewhere, "copy.yaml");
        await File.WriteAllTextAsync(copy, $"registry: {registry}\n", TestContext.Current.CancellationToken);
        Refused(await In(elsewhere, null, "audit", "log", "--config", copy), "no actor was given");
        Refused(await In(elsewhere, null, "dataset", "list", "--config", copy), "no actor was given");
    }

    [Fact]
    public async Task ARegistryLineInDrydockYaml_CannotSwitchAccessControlAwayFromTheStateFoldersRegistry()
    {
        Ok(await Drydock("init"));
        Ok(await Drydock("actor", "bootstrap", "root", "--expires", "30d", "--reason", "first admin"));
        await Append(Yaml, "\naccess: required\n");
        var own = Path.Combine(_dir.Path, ".drydock", "registry.db");
        var original = await File.ReadAllTextAsync(Yaml, TestContext.Current.CancellationToken);
        var mallory = new Dictionary<string, string?> { ["DRYDOCK_STATE_HOME"] = Path.Combine(_outside.Path, "mallory"), ["DRYDOCK_ACTOR"] = "mallory" };

        // access: required kept, the registry: line pointed at a new registry where another actor made itself admin.
        await Append(Yaml, $"registry: {Path.Combine(_outside.Path, "evil.db")}\n");
        await In(_dir.Path, mallory, "actor", "bootstrap", "mallory", "--expires", "1d", "--reason", "x"); // (needs no role; writes only the new registry)
        Refused(await In(_dir.Path, mallory, "keys", "list"), "may not be switched to another registry");
        Refused(await In(_dir.Path, mallory, "keys", "create", "--name", "evil", "--admin"), "may not be switched to another registry");
        Refused(await In(_dir.Path, mallory, "vault", "list"), "may not be switched to another registry");

        // access: required removed and the registry: line pointed at an empty registry: still refused, with no actor.
        await File.WriteAllTextAsync(Yaml, original.Replace("access: required", "", StringComparison.Ordinal) + $"registry: {Path.Combine(_outside.Path, "empty.db")}\n", TestContext.Current.CancellationToken);
        Refused(await Drydock("keys", "list"), "may not be switched to another registry");
        Refused(await Drydock("audit", "requests"), "may not be switched to another registry");
        Assert.Equal(5L, Refusals(own, "%may not be switched to another registry%"));

        // drydock.yaml put back: the project's own actor works, and nothing was created meanwhile.
        await File.WriteAllTextAsync(Yaml, original, TestContext.Current.CancellationToken);
        var keys = await In(_dir.Path, s_root, "keys", "list");
        Ok(keys);
        Assert.DoesNotContain("evil", keys.Stdout, StringComparison.Ordinal);
        Ok(await In(_dir.Path, s_root, "audit", "verify"));
    }

    [Fact]
    public async Task Demo_RefusesAWorkdirInsideAProject_OrHoldingOneFurtherDown()
    {
        Ok(await Drydock("init"));
        var sub = Path.Combine(_dir.Path, "sub");
        Directory.CreateDirectory(sub);
        await File.WriteAllTextAsync(Path.Combine(sub, "notes.txt"), "keep", TestContext.Current.CancellationToken);
        Refused(await In(_outside.Path, null, "demo", "--workdir", sub), "lies inside the Drydock project");
        Refused(await In(_outside.Path, null, "demo", "--workdir", Path.Combine(_dir.Path, "new-folder")), "lies inside the Drydock project");
        Assert.True(File.Exists(Path.Combine(sub, "notes.txt")));

        var holder = Path.Combine(_outside.Path, "holder");
        var deep = Path.Combine(holder, "a", "b", "project");
        Directory.CreateDirectory(deep);
        Ok(await In(deep, null, "init"));
        Refused(await In(_outside.Path, null, "demo", "--workdir", holder), "further down", deep);
        Assert.True(File.Exists(Path.Combine(deep, "drydock.yaml")));
    }
}
