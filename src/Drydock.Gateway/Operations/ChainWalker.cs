using System.Diagnostics;
using Drydock.Provenance.Registry;
using Microsoft.Extensions.Logging;

namespace Drydock.Gateway.Operations;

/// <summary>
/// Walks the registry's whole audit log every <c>gateway.chain-walk-every</c> (default 10 minutes) in the background,
/// on a registry connection of its own, so no admin API request waits for it (the decisions in between walk only the
/// entries written since the head they verified last: <see cref="AdminChain"/>). A problem it finds is logged at once
/// (event 47) and holds every later admin API decision to a whole walk of its own, refused until the log verifies
/// again; each walk that holds is logged with its entry count and duration (event 48). One walk at a time: a walk
/// longer than the interval delays the next.
/// </summary>
internal sealed class ChainWalker : IDisposable
{
    private readonly AdminChain _chain;
    private readonly Func<ProvenanceRegistry> _open;
    private readonly ILogger _log;
    private readonly TimeSpan _every;
    private readonly ITimer _timer;
    private int _walking;

    public ChainWalker(AdminChain chain, Func<ProvenanceRegistry> open, TimeSpan every, ILogger log, TimeProvider time)
    {
        _chain = chain;
        _open = open;
        _every = every;
        _log = log;
        _timer = time.CreateTimer(_ => Walk(), null, every, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Walks the whole log once and tells the chain what it found; returns the problem, or null.</summary>
    public string? Walk()
    {
        if (Interlocked.Exchange(ref _walking, 1) == 1) return null;
        try
        {
            var watch = Stopwatch.StartNew();
            string? problem;
            long entries = 0;
            try
            {
                using var registry = _open();
                var (head, wrong) = AdminChain.WalkWhole(registry.Database);
                (entries, problem) = (head.Seq, wrong);
            }
            catch (Exception e) when (e is RegistryException or System.Data.Common.DbException or IOException or UnauthorizedAccessException or Provenance.KeyRingException or InvalidOperationException)
            {
                problem = $"the audit log cannot be read ({e.Message})";
            }

            _chain.Walked(problem);
            if (problem is null) AdminChainLog.Walked(_log, entries, watch.ElapsedMilliseconds);
            else AdminChainLog.BrokenByWalk(_log, problem);
            return problem;
        }
        finally
        {
            Volatile.Write(ref _walking, 0);
            try
            {
                _timer.Change(_every, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // stopped while walking
            }
        }
    }

    public void Dispose() => _timer.Dispose();
}
