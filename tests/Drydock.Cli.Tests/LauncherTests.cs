using System.Diagnostics;
using System.Text.Json;

namespace Drydock.Cli.Tests;

/// <summary>The README's first command, end to end: the launcher builds the real executable and scans the sample.</summary>
public class LauncherTests
{
    [Fact]
    public async Task Launcher_ScansTheBundledSample_SameReportAsInProcess()
    {
        var root = RepositoryRoot();
        var sample = Path.Combine(root, "samples", "support-tickets.jsonl");
        var start = new ProcessStartInfo("bash", [Path.Combine(root, "drydock"), "scan", sample, "--format", "json"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = root,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(25)); // the first run publishes the native executable: minutes on a busy 2-core machine
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == 1, await stderr);
        using var report = JsonDocument.Parse(await stdout);
        Assert.True(report.RootElement.GetProperty("summary").GetProperty("findings").GetInt32() >= 15);

        // The built executable (native or ReadyToRun) and the in-process command agree byte for byte.
        var inProcess = await CliRunner.Run("scan", sample, "--format", "json");
        Assert.Equal(inProcess.Stdout, await stdout);
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Drydock.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Drydock.slnx not found above " + AppContext.BaseDirectory);
    }
}
