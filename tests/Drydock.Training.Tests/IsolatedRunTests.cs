using Drydock.Tests.Shared;
using Drydock.Training.Runs;

namespace Drydock.Training.Tests;

/// <summary>The trainer's confinement: environment allow-list, no network, time limit, and the private folder wiped.</summary>
public sealed class IsolatedRunTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly Dictionary<string, string> NoExtra = [];

    [Fact]
    public async Task OnlyAllowListedVariables_ReachTheTrainer()
    {
        Environment.SetEnvironmentVariable("DRYDOCK_TEST_SECRET", "do-not-pass");
        Environment.SetEnvironmentVariable("DRYDOCK_TEST_ALLOWED", "pass-me");
        try
        {
            var options = new IsolationOptions { RequireNoNetwork = false, AllowedEnvironment = ["PATH", "DRYDOCK_TEST_ALLOWED"] };
            var outcome = await IsolatedRun.RunAsync(["env"], _dir.Path, new Dictionary<string, string> { ["EXTRA"] = "1" }, options, TestContext.Current.CancellationToken);
            Assert.Equal(0, outcome.ExitCode);
            Assert.Contains("DRYDOCK_TEST_ALLOWED=pass-me", outcome.Log, StringComparison.Ordinal);
            Assert.Contains("EXTRA=1", outcome.Log, StringComparison.Ordinal);
            Assert.Contains($"HOME={_dir.Path}", outcome.Log, StringComparison.Ordinal);
            Assert.DoesNotContain("DRYDOCK_TEST_SECRET", outcome.Log, StringComparison.Ordinal);
            Assert.Equal(["DRYDOCK_TEST_ALLOWED", "EXTRA", "HOME", "PATH", "TMPDIR"], outcome.EnvironmentNames);
        }
        finally
        {
            Environment.SetEnvironmentVariable("DRYDOCK_TEST_SECRET", null);
            Environment.SetEnvironmentVariable("DRYDOCK_TEST_ALLOWED", null);
        }
    }

    [Fact]
    public async Task TheTrainerSeesNoNetwork_OrTheRunIsRefused()
    {
        // /proc/net/dev lists the interfaces of the process's network namespace: only loopback in a new one.
        var options = new IsolationOptions { RequireNoNetwork = true };
        if (IsolatedRun.NetworkPrefix is null)
        {
            var refused = await Assert.ThrowsAsync<IsolationUnavailableException>(() => IsolatedRun.RunAsync(["cat", "/proc/net/dev"], _dir.Path, NoExtra, options, TestContext.Current.CancellationToken));
            Assert.Contains("unshare", refused.Message, StringComparison.Ordinal);
            return;
        }

        var outcome = await IsolatedRun.RunAsync(["cat", "/proc/net/dev"], _dir.Path, NoExtra, options, TestContext.Current.CancellationToken);
        Assert.Equal(0, outcome.ExitCode);
        Assert.True(outcome.NetworkIsolated);
        var interfaces = outcome.Log.Split('\n').Skip(2).Where(l => l.Contains(':', StringComparison.Ordinal)).Select(l => l.Split(':')[0].Trim()).ToList();
        Assert.Equal(["lo"], interfaces);
    }

    [Fact]
    public async Task ARunPastItsTimeLimit_IsKilled()
    {
        var options = new IsolationOptions { RequireNoNetwork = false, Timeout = TimeSpan.FromSeconds(1) };
        var outcome = await IsolatedRun.RunAsync(["sh", "-c", "echo started; sleep 30"], _dir.Path, NoExtra, options, TestContext.Current.CancellationToken);
        Assert.True(outcome.TimedOut);
        Assert.Equal(124, outcome.ExitCode);
        Assert.Contains("started", outcome.Log, StringComparison.Ordinal);
        Assert.Contains("time limit", outcome.Log, StringComparison.Ordinal);
        Assert.True(outcome.Elapsed < TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task AMemoryHungryTrainer_HitsTheAddressSpaceLimit()
    {
        var options = new IsolationOptions { RequireNoNetwork = false, MemoryBytes = 256L << 20 };
        // head -c from /dev/zero into a shell variable needs ~1 GiB: refused under a 256 MiB limit.
        var outcome = await IsolatedRun.RunAsync(["sh", "-c", "x=$(head -c 1000000000 /dev/zero | tr '\\0' a); echo survived ${#x}"], _dir.Path, NoExtra, options, TestContext.Current.CancellationToken);
        Assert.DoesNotContain("survived 1000000000", outcome.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACommandTrainer_GetsThePlanAndData_AndItsFolderIsWipedAfterwards()
    {
        var train = _dir.File("train.jsonl", "{\"prompt\":\"q\",\"completion\":\"a\"}\n");
        var held = _dir.File("held.jsonl", "{\"prompt\":\"q2\",\"completion\":\"a2\"}\n");
        var script = "cat {plan}; cat \"$DRYDOCK_TRAIN\"; echo weights > {output}/model.bin; echo folder=$DRYDOCK_OUTPUT";
        var trainer = new TrainerSpec("command", ["sh", "-c", script], "");
        var (log, files, folder) = await TrainerRun.RunAsync(trainer, new TrainingInputs("{\"method\":\"lora\"}", train, held, null), new IsolationOptions { RequireNoNetwork = false },
            (output, outcome) => (outcome.Log, Directory.GetFiles(output).Select(Path.GetFileName).ToList(), output), TestContext.Current.CancellationToken);
        Assert.Contains("{\"method\":\"lora\"}", log, StringComparison.Ordinal);
        Assert.Contains("\"completion\":\"a\"", log, StringComparison.Ordinal);
        Assert.Equal(["model.bin"], files);
        Assert.Contains("folder=" + folder, log, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.GetDirectoryName(folder)), "the private run folder is deleted after the run");
    }
}
