using Drydock.Provenance.Audit;
using Drydock.Provenance.Registry;
using Microsoft.Extensions.Logging;

namespace Drydock.Gateway.Operations;

/// <summary>
/// The audit chain as the admin API relies on it, checked before every decision it takes on a role or a grant (as the
/// CLI's role checks do): the actor records must be what their audit entries recorded (no grant forged, edited or
/// deleted in the database), and the hash chain must hold. The first check of a gateway process (at start, and again
/// while the log does not verify) walks the whole log from its first entry and checks the audit witness kept outside
/// the project (a registry put back from an older copy); a later check walks only the entries written since the head
/// this process verified last, which must still be there with the hash it had, unless the last whole walk is
/// <see cref="WholeWalkEvery"/> old or more: then the whole log is walked again, so an entry before the verified head
/// edited in place (its later hashes not recomputed) is found by the first decision after that. Not thread-safe:
/// called under the registry lock of <see cref="GatewayOperations"/>.
/// </summary>
internal sealed class AdminChain(TimeProvider time)
{
    /// <summary>How old the last walk of the whole log may be when a decision relies on it (docs/identity.md).</summary>
    public static readonly TimeSpan WholeWalkEvery = TimeSpan.FromMinutes(10);

    private (long Seq, string Hash) _head;
    private DateTimeOffset _wholeWalked;

    public AdminChain()
        : this(TimeProvider.System)
    {
    }

    /// <summary>Why the registry's audit log or actor records cannot be relied on for an access decision, or null.</summary>
    public string? Problem(ProvenanceRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var db = registry.Database;
        if (registry.ActorRecordsProblem() is { } edited) return $"actor record edited outside drydock: {edited}";
        var now = time.GetUtcNow();
        if (_head.Seq == 0 || now - _wholeWalked >= WholeWalkEvery)
        {
            var verification = AuditLog.Verify(db);
            if (!verification.Ok) return $"audit entry {verification.FirstBadSeq}: {verification.Problem}";
            if (AuditWitness.FolderProblem(db) is null && AuditWitness.Check(db) is { } rolledBack) return rolledBack;
            _head = AuditWitness.Head(db);
            _wholeWalked = now;
            return null;
        }

        var (head, problem) = AuditChain.Walk(db, _head.Seq, _head.Hash);
        if (problem is not null) return problem;
        _head = head;
        return null;
    }
}

/// <summary>The admin API's refusals on the audit chain or a registry grant, in the gateway's log (never a key or token).</summary>
internal static partial class AdminChainLog
{
    [LoggerMessage(45, LogLevel.Error, "admin API refused ({Path}) for {Actor}: {Reason}")]
    public static partial void Refused(ILogger logger, string path, string actor, string reason);

    [LoggerMessage(46, LogLevel.Error, "the registry's audit log does not verify at start; the admin API refuses every request until it does: {Reason}")]
    public static partial void BrokenAtStart(ILogger logger, string reason);
}
