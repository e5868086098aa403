using System.Diagnostics;
using Drydock.Provenance.Registry;
using Microsoft.Extensions.Logging;

namespace Drydock.Gateway.Operations;

/// <summary>
/// Walks the registry's whole audit log every <c>gateway.chain-walk-every</c> (default 10 minutes) in the background,
/// on a registry connection of its own, so no admin API request waits for it (the decisions in between walk only the
/// entries written since the head they verified last: <see cref="AdminChain"/>). A problem it finds is logged at once
/// (event 47) and holds every later admin API decision to a whole walk of its own, refused until the log verifies
/// again, and refuses every model request until a walk holds again (<see cref="GatewayOperations.Walked"/>); each walk
/// that holds is logged with its entry count and duration (event 48). Walks start every <c>chain-walk-every</c> from
/// the start of the one before (a walk longer than that starts the next at once), so an edit is found within
/// <c>chain-walk-every</c> plus one walk; while a problem stands, the log is walked again every
/// <see cref="Recheck"/> (or <c>chain-walk-every</c>, if shorter), so a log put back is served again soon.
/// </summary>
internal sealed class ChainWalker : IDisposable
{
    /// <summary>How soon the log is walked again while a walk's problem stands.</summary>
    public static readonly TimeSpan Recheck = TimeSpan.FromSeconds(30);

    private readonly Action<string?> _walked;
    private readonly Func<RegistryDatabase, ((long Seq, string Hash) Head, string? Problem)> _walk;
    private readonly Func<ProvenanceRegistry> _open;
    private readonly ILogger _log;
    private readonly TimeSpan _every;
    private readonly ITimer _timer;
    private int _walking;

    public ChainWalker(AdminChain chain, Func<ProvenanceRegistry> open, TimeSpan every, ILogger log, TimeProvider time)
        : this(chain.Walked, open, every, log, time)
    {
    }

    /// <summary>A walker that tells <paramref name="walked"/> what each walk found (null: the log held).</summary>
    public ChainWalker(Action<string?> walked, Func<ProvenanceRegistry> open, TimeSpan every, ILogger log, TimeProvider time, Func<RegistryDatabase, ((long Seq, string Hash) Head, string? Problem)>? walk = null)
    {
        _walked = walked;
        _walk = walk ?? AdminChain.WalkWhole;
        _open = open;
        _every = every;
        _log = log;
        _timer = time.CreateTimer(_ => Walk(), null, every, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Walks the whole log once and tells the chain what it found; returns the problem, or null.</summary>
    public string? Walk()
    {
        if (Interlocked.Exchange(ref _walking, 1) == 1) return null;
        var watch = Stopwatch.StartNew();
        string? problem = null;
        try
        {
            long entries = 0;
            try
            {
                using var registry = _open();
                var (head, wrong) = _walk(registry.Database);
                (entries, problem) = (head.Seq, wrong);
            }
            catch (Exception e) when (e is RegistryException or System.Data.Common.DbException or IOException or UnauthorizedAccessException or Provenance.KeyRingException or InvalidOperationException)
            {
                problem = $"the audit log cannot be read ({e.Message})";
            }

            _walked(problem);
            if (problem is null) AdminChainLog.Walked(_log, entries, watch.ElapsedMilliseconds);
            else AdminChainLog.BrokenByWalk(_log, problem);
            return problem;
        }
        finally
        {
            Volatile.Write(ref _walking, 0);
            try
            {
                // From the start of this walk, not its end: the window is chain-walk-every plus one walk, not two.
                var every = problem is null || _every < Recheck ? _every : Recheck;
                var next = every - watch.Elapsed;
                _timer.Change(next > TimeSpan.Zero ? next : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // stopped while walking
            }
        }
    }

    public void Dispose() => _timer.Dispose();
}
