using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Drydock.Tests.Shared;

/// <summary>The outcome of one run of the built drydock command in its own process.</summary>
public sealed record ProcessResult(int Exit, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {Exit}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// Runs the built drydock CLI (drydock.dll beside the test assembly) as a separate process, the way users run
/// it: its own working directory, environment and streams. Use it for every control that crosses processes
/// (a CLI verb that changes state a running gateway must see) and for exit codes and messages as users see them.
/// </summary>
public static class DrydockProcess
{
    /// <summary>The CLI assembly; present in the output of every test project that references Drydock.Cli.</summary>
    public static string CliAssembly
    {
        get
        {
            var path = Path.Combine(AppContext.BaseDirectory, "drydock.dll");
            return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: the test project must reference src/Drydock.Cli");
        }
    }

    /// <summary>Runs <c>drydock ARGS</c> in <paramref name="workingDirectory"/> and waits for it to exit (killed after <paramref name="timeout"/>, default 2 minutes).</summary>
    public static async Task<ProcessResult> Run(string workingDirectory, IReadOnlyList<string> args, IReadOnlyDictionary<string, string?>? environment = null, string? stdin = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        using var process = Create(workingDirectory, args, environment);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"drydock {string.Join(' ', args)} did not exit within {timeout ?? TimeSpan.FromMinutes(2)}:\n{stderr}");
        }

        process.WaitForExit(); // drains the asynchronous readers
        return new ProcessResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs <c>drydock ARGS</c> in <paramref name="workingDirectory"/>.</summary>
    public static Task<ProcessResult> Run(string workingDirectory, params string[] args) => Run(workingDirectory, (IReadOnlyList<string>)args);

    /// <summary>Starts a long-running verb (<c>serve</c>, <c>serve-model</c>) in its own process; dispose to stop it.</summary>
    public static RunningDrydock Start(string workingDirectory, IReadOnlyList<string> args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var process = Create(workingDirectory, args, environment);
        var running = new RunningDrydock(process);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return running;
    }

    /// <summary>A free TCP port on 127.0.0.1 (for a server process the test starts).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Process Create(string workingDirectory, IReadOnlyList<string> args, IReadOnlyDictionary<string, string?>? environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(CliAssembly);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["NO_COLOR"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";

        // Audit witnesses (kept outside projects) go to a folder of the tests, not the user's home.
        info.Environment["DRYDOCK_STATE_HOME"] = Path.Combine(Path.GetTempPath(), "drydock-tests-state");
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        return new Process { StartInfo = info };
    }
}

/// <summary>A drydock process left running (a gateway); disposing kills it.</summary>
public sealed class RunningDrydock : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    internal RunningDrydock(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
    }

    /// <summary>Everything the process wrote so far, stdout and stderr interleaved.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Polls <paramref name="url"/> until it answers (any status) or the process exits or the time runs out.</summary>
    public async Task WaitUntilListening(Uri url, TimeSpan? timeout = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"drydock exited with {_process.ExitCode} before listening:\n{Output}");
            }

            try
            {
                using var response = await http.GetAsync(url);
                return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"drydock did not listen on {url}:\n{Output}");
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
