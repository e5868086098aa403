using System.Diagnostics;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// A project's state that is not its own, through the built CLI in separate processes: a link at any depth in a
/// protected project's <c>.drydock/</c> leading outside it, a hard-linked registry, and a bind mount inside
/// <c>.drydock/</c> are refused (exit 2, naming the path); a link three levels down into a protected project's state
/// from a folder that is no protected project brings that project's access control.
/// </summary>
public sealed class StateEscapeTests : IDisposable
{
    private readonly ActorProject _project = new();
    private readonly TempDir _outside = new();
    private string? _mounted;

    public void Dispose()
    {
        if (_mounted is not null) Run("umount", _mounted);
        _project.Dispose();
        _outside.Dispose();
    }

    private string State => Path.Combine(_project.Dir.Path, ".drydock");

    private Task<ProcessResult> As(string? actor, params string[] args) => _project.As(actor, args);

    private static void Ok(ProcessResult result) => ActorProject.Ok(result);

    private static void Refused(ProcessResult result, params string[] expected)
    {
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains("refused", result.Stderr, StringComparison.Ordinal);
        foreach (var text in expected) Assert.Contains(text, result.Stderr, StringComparison.Ordinal);
    }

    private static int Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        process.WaitForExit();
        return process.ExitCode;
    }

    private async Task Protected()
    {
        Ok(await As(null, "init"));
        Ok(await As(null, "actor", "bootstrap", "root", "--expires", "30d", "--reason", "first admin"));
        await File.AppendAllTextAsync(Path.Combine(_project.Dir.Path, "drydock.yaml"), "\naccess: required\n", TestContext.Current.CancellationToken);
        Ok(await As("root", "model", "list"));
    }

    [Fact]
    public async Task ALinkFourLevelsDown_LeavingAProtectedProjectsState_IsRefused()
    {
        await Protected();
        var deep = Path.Combine(State, "gateway", "requests", "2026", "12");
        Directory.CreateDirectory(deep);
        var link = Path.Combine(deep, "07");
        Directory.CreateSymbolicLink(link, _outside.Path);
        Refused(await As("root", "model", "list"), link, "outside the project's state folder");

        // A link that stays inside the state folder is fine.
        Directory.Delete(link);
        Directory.CreateSymbolicLink(link, Path.Combine(State, "gateway"));
        Ok(await As("root", "model", "list"));
    }

    [Fact]
    public async Task ALinkThreeLevelsDown_IntoAProtectedProjectsState_BringsItsAccessControl()
    {
        await Protected();
        var deep = Path.Combine(_outside.Path, ".drydock", "gateway", "requests");
        Directory.CreateDirectory(deep);
        Directory.CreateSymbolicLink(Path.Combine(deep, "2026"), Path.Combine(State, "vault"));
        Refused(await _project.In(_outside.Path, null, "model", "list"), "no actor was given");
    }

    [Fact]
    public async Task AHardLinkedRegistry_IsRefused()
    {
        await Protected();
        Assert.Equal(0, Run("ln", Path.Combine(State, "registry.db"), Path.Combine(_outside.Path, "registry.db")));
        Refused(await As("root", "model", "list"), "registry.db has 2 hard links");
        File.Delete(Path.Combine(_outside.Path, "registry.db"));
        Ok(await As("root", "model", "list"));
    }

    [Fact]
    public async Task ABindMountInsideTheStateFolder_IsRefused()
    {
        await Protected();
        var vault = Path.Combine(State, "vault");
        Directory.CreateDirectory(vault);
        if (Run("mount", "--bind", _outside.Path, vault) != 0) Assert.Skip("bind mounts need privileges this test run does not have");
        _mounted = vault;
        Refused(await As("root", "model", "list"), vault, "is a mount point");
    }
}
