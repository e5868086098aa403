using System.Runtime.InteropServices;
using Drydock.Datasets.Output;

namespace Drydock.Cli.Infrastructure;

/// <summary>
/// SIGINT, SIGTERM and SIGHUP stop the running verb through its cancellation token, so that it unwinds and removes
/// its temporary files (outputs are written atomically: nothing half-written is left). A verb that has not stopped
/// after <see cref="Grace"/>, or a second signal, ends the process at once, after removing every temporary file
/// still open. The exit code is 128 + the signal's number, as shells report it.
/// </summary>
internal sealed class Interruption : IDisposable
{
    /// <summary>How long a verb has to stop after the first signal.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _cancel = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _signals;

    private Interruption()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
        }
    }

    /// <summary>Cancelled by the first signal.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>128 + the number of the first signal received, or null.</summary>
    public int? ExitCode { get; private set; }

    /// <summary>Starts listening for the signals.</summary>
    public static Interruption Register() => new();

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
        _cancel.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        var code = 128 + context.Signal switch { PosixSignal.SIGINT => 2, PosixSignal.SIGTERM => 15, PosixSignal.SIGHUP => 1, _ => 0 };
        if (Interlocked.Increment(ref _signals) > 1)
        {
            Exit(code);
        }

        ExitCode = code;
        // The grace timer runs on a thread of its own, started before the cancellation callbacks run: a busy or
        // starved thread pool, or a callback that blocks, must not keep the process alive past the grace period.
        new Thread(() =>
        {
            Thread.Sleep(Grace);
            Exit(code);
        })
        { IsBackground = true, Name = "drydock-interrupt-grace" }.Start();
        _cancel.Cancel();
    }

    private static void Exit(int code)
    {
        AtomicFile.RemoveTemporaries();
        Environment.Exit(code);
    }
}
