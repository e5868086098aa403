using Drydock.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace Drydock.Cli.Tests;

/// <summary>
/// A project folder with a state home outside it (the audit witness, the verified chain head), and the built CLI run
/// there as an actor in its own process: no actor key, redaction key or registry comes from the test run's environment.
/// </summary>
internal sealed class ActorProject : IDisposable
{
    public TempDir Dir { get; } = new();

    public TempDir State { get; } = new();

    public string Registry => Path.Combine(Dir.Path, ".drydock", "registry.db");

    public Dictionary<string, string?> Env(string? actor) => new()
    {
        ["DRYDOCK_STATE_HOME"] = State.Path, ["DRYDOCK_ACTOR"] = actor, ["DRYDOCK_ACTOR_KEY"] = null, ["DRYDOCK_REDACTION_KEY"] = null, ["DRYDOCK_REGISTRY"] = null,
    };

    /// <summary>Runs the CLI in the project folder as <paramref name="actor"/> (none: the environment names no actor).</summary>
    public Task<ProcessResult> As(string? actor, params string[] args) => In(Dir.Path, actor, args);

    /// <summary>Runs the CLI in <paramref name="folder"/> with this project's state home.</summary>
    public Task<ProcessResult> In(string folder, string? actor, params string[] args) =>
        DrydockProcess.Run(folder, args, Env(actor), timeout: TimeSpan.FromSeconds(120), cancellationToken: TestContext.Current.CancellationToken);

    public static void Ok(ProcessResult result) => Assert.True(result.Exit == 0, result.ToString());

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Dir.Dispose();
        State.Dispose();
    }
}
