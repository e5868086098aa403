using System.Diagnostics;
using Drydock.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace Drydock.Cli.Tests;

/// <summary>
/// A project's state that is not its own, through the built CLI in separate processes: a link at any depth in a
/// protected project's <c>.drydock/</c> leading outside it, a hard-linked registry or other state file (vault, request
/// and signal logs, ledger, alerts, evaluation results), and a bind mount inside
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

    // Every file in .drydock/ is the project's state, read and changed only through verbs that check roles and record
    // what they do: a second name for any of them (another project's state, a folder anyone may read) is refused,
    // recorded in the registry, and the verb runs again once the other name is gone.
    [Theory]
    [InlineData("vault")]
    [InlineData("gateway/requests/requests-2026-12-07.jsonl")]
    [InlineData("gateway/requests/signals-2026-12-07.jsonl")]
    [InlineData("review/ledger.jsonl")]
    [InlineData("monitor/alerts.jsonl")]
    [InlineData("eval/results.json")]
    public async Task AHardLinkedStateFile_IsRefusedAndRecorded(string relative)
    {
        await Protected();
        string file;
        if (relative == "vault")
        {
            await File.WriteAllTextAsync(Path.Combine(_project.Dir.Path, "tickets.jsonl"), "{\"text\":\"order 1234 arrived broken\"}\n", TestContext.Current.CancellationToken);
            var put = await As("root", "vault", "put", "tickets.jsonl", "--kind", "dataset");
            Ok(put);
            file = Path.Combine(State, "vault", put.Stdout.Split(' ')[0] + ".ddv");
        }
        else
        {
            file = Path.Combine(State, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            await File.WriteAllTextAsync(file, "{}\n", TestContext.Current.CancellationToken);
        }

        var other = Path.Combine(_outside.Path, "copy");
        Assert.Equal(0, Run("ln", file, other));
        Refused(await As("root", "model", "list"), file + " has 2 hard links");
        Assert.Equal(1L, RefusalsRecorded(file + " has 2 hard links"));

        File.Delete(other);
        Ok(await As("root", "model", "list"));
    }

    private long RefusalsRecorded(string reason)
    {
        using var db = new SqliteConnection($"Data Source={_project.Registry};Pooling=False");
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM access_decisions WHERE decision = 'refused' AND instr(reason, $reason) > 0";
        command.Parameters.AddWithValue("$reason", reason);
        return (long)command.ExecuteScalar()!;
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
