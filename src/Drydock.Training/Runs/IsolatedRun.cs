using System.Diagnostics;
using System.Text;

namespace Drydock.Training.Runs;

/// <summary>How a trainer process is confined: environment allow-list, network, time and memory.</summary>
public sealed record IsolationOptions
{
    /// <summary>Environment variables passed through from Drydock's own environment (nothing else is).</summary>
    public IReadOnlyList<string> AllowedEnvironment { get; init; } = ["PATH", "LANG", "LC_ALL"];

    /// <summary>Run without network (a new Linux network namespace); refuse when that is not possible.</summary>
    public bool RequireNoNetwork { get; init; } = true;

    /// <summary>Wall-clock limit; the whole process group is killed when it runs out.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Address-space limit of the trainer (bytes; 0 for none).</summary>
    public long MemoryBytes { get; init; } = 16L << 30;
}

/// <summary>What a trainer process did: its exit code, its output (stdout and stderr interleaved), how long it took, how it was confined.</summary>
public sealed record ProcessOutcome(int ExitCode, string Log, TimeSpan Elapsed, bool TimedOut, bool NetworkIsolated, IReadOnlyList<string> EnvironmentNames);

/// <summary>Isolation is required but this machine cannot provide it.</summary>
public sealed class IsolationUnavailableException(string message) : Exception(message);

/// <summary>
/// Runs a trainer command confined: a fresh environment holding only allow-listed variables (HOME and TMPDIR point
/// into the run's private folder), no network (<c>unshare --net</c>, as root or in a user namespace), an address-space
/// limit (<c>prlimit --as</c>) and a wall-clock limit that kills the whole process group. Output is captured, at most
/// 16 MiB (the rest is cut with a note).
/// </summary>
public static class IsolatedRun
{
    private const int MaxLog = 16 << 20;

    /// <summary>The command prefix that drops the network, or null when the machine cannot (cached).</summary>
    public static IReadOnlyList<string>? NetworkPrefix => LazyPrefix.Value;

    private static readonly Lazy<IReadOnlyList<string>?> LazyPrefix = new(() =>
    {
        if (!OperatingSystem.IsLinux()) return null;
        foreach (var prefix in new[] { new[] { "unshare", "--net" }, ["unshare", "--net", "--map-root-user"] })
        {
            if (Probe([.. prefix, "--", "true"])) return prefix;
        }

        return null;
    });

    /// <summary>Runs <paramref name="command"/> in <paramref name="workDirectory"/> with <paramref name="environment"/> added to the allow-listed variables.</summary>
    public static async Task<ProcessOutcome> RunAsync(IReadOnlyList<string> command, string workDirectory, IReadOnlyDictionary<string, string> environment, IsolationOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);
        if (command.Count == 0) throw new ArgumentException("the trainer command is empty");
        var argv = new List<string>();
        var isolated = false;
        if (options.RequireNoNetwork)
        {
            argv.AddRange(NetworkPrefix ?? throw new IsolationUnavailableException(
                "network isolation is required but unavailable: 'unshare --net' failed (needs Linux with root or unprivileged user namespaces; install util-linux). Set training.isolation.network: allow to run with the network, knowingly."));
            argv.Add("--");
            isolated = true;
        }

        if (options.MemoryBytes > 0 && OperatingSystem.IsLinux())
        {
            argv.AddRange(["prlimit", $"--as={options.MemoryBytes}", "--"]);
        }

        argv.AddRange(command);
        var start = new ProcessStartInfo(argv[0]) { WorkingDirectory = workDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in argv.Skip(1)) start.ArgumentList.Add(a);
        start.Environment.Clear();
        foreach (var name in options.AllowedEnvironment)
        {
            if (Environment.GetEnvironmentVariable(name) is { } value) start.Environment[name] = value;
        }

        start.Environment["HOME"] = workDirectory;
        start.Environment["TMPDIR"] = workDirectory;
        foreach (var (k, v) in environment) start.Environment[k] = v;

        var log = new StringBuilder();
        var cut = false;
        void Append(string? line)
        {
            if (line is null) return;
            lock (log)
            {
                if (log.Length + line.Length + 1 > MaxLog)
                {
                    if (!cut) log.Append("[drydock: log cut at 16 MiB]\n");
                    cut = true;
                    return;
                }

                log.Append(line).Append('\n');
            }
        }

        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ArgumentException($"cannot start '{argv[0]}': {e.Message}", e);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var timedOut = false;
        using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            limit.CancelAfter(options.Timeout);
            try
            {
                await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                timedOut = !cancellationToken.IsCancellationRequested;
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                if (!timedOut) throw;
                Append($"[drydock: killed after the time limit of {options.Timeout}]");
            }
        }

        process.WaitForExit(); // drains the output readers
        string text;
        lock (log) text = log.ToString();
        return new ProcessOutcome(timedOut ? 124 : process.ExitCode, text, clock.Elapsed, timedOut, isolated, [.. start.Environment.Keys.Order(StringComparer.Ordinal)]);
    }

    private static bool Probe(string[] argv)
    {
        try
        {
            var start = new ProcessStartInfo(argv[0]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in argv.Skip(1)) start.ArgumentList.Add(a);
            using var p = Process.Start(start)!;
            p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            return p.WaitForExit(10_000) && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
