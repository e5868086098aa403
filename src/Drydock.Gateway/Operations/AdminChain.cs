using Drydock.Provenance.Audit;
using Drydock.Provenance.Registry;
using Microsoft.Extensions.Logging;

namespace Drydock.Gateway.Operations;

/// <summary>
/// The audit chain as the admin API relies on it, checked before every decision it takes on a role or a grant (as the
/// CLI's role checks do): the actor records must be what their audit entries recorded (no grant forged, edited or
/// deleted in the database), and the hash chain must hold. The first check of a gateway process (at start) walks the
/// whole log from its first entry and checks the audit witness kept outside the project (a registry put back from an
/// older copy); every later check walks only the entries written since the head this process verified last, which must
/// still be there with the hash it had, so an edit to an entry written since is refused at once. An entry before that
/// head edited in place (its later hashes not recomputed) is left to the whole walk that <see cref="ChainWalker"/> runs
/// in the background on its own connection (<see cref="Walked"/>): no decision waits for it. Once that walk has found
/// a problem, every check walks the whole log again (refused until the entry is put back). Every check also holds the
/// log against the audit witness, which every write of every process moves up to its head: entries deleted from the
/// end of the log (with their rows) are refused at the next decision, and found by the next background walk. <see cref="Problem"/> is not
/// thread-safe: called under the registry lock of <see cref="GatewayOperations"/>.
/// </summary>
internal sealed class AdminChain(HeldHead held)
{
    private (long Seq, string Hash) _head;
    private string? _lastProblem;
    private string? _foundByWalk;
    private string? _lastWalk;

    /// <summary>What the last whole walk found (null: the log held, or none has run yet): shown in <c>/readyz</c>.</summary>
    public string? LastWalkProblem => Volatile.Read(ref _lastWalk);

    /// <summary>Why the last <see cref="Problem"/> refused (null: it held): no audited write is made on such a log.</summary>
    public string? LastProblem => Volatile.Read(ref _lastProblem);

    /// <summary>The longest head this process verified (<see cref="HeldHead"/>).</summary>
    public HeldHead Held => held;

    /// <summary>Whether the last <see cref="Problem"/> walked the whole log (and so may clear what an earlier walk found).</summary>
    public bool LastCheckWasWhole { get; private set; }

    /// <summary>Why the registry's audit log or actor records cannot be relied on for an access decision, or null.</summary>
    public string? Problem(ProvenanceRegistry registry)
    {
        var problem = Check(registry);
        Volatile.Write(ref _lastProblem, problem);
        if (problem is null) held.Raise(_head.Seq, _head.Hash);
        return problem;
    }

    private string? Check(ProvenanceRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        // A log that no longer holds the longest head verified here (put back with its witness, or cut) is refused
        // before any walk: a whole walk of the older log would hold and forget the newer head.
        if (held.Problem(registry.Database) is { } gone) return gone;
        var db = registry.Database;
        LastCheckWasWhole = false;
        if (registry.ActorRecordsProblem() is { } edited) return $"actor record edited outside drydock: {edited}";
        var found = Volatile.Read(ref _foundByWalk);
        if (_head.Seq == 0 || found is not null)
        {
            LastCheckWasWhole = true;
            var (head, wrong) = WalkWhole(db);
            Volatile.Write(ref _lastWalk, wrong);
            if (wrong is not null) return wrong;
            _head = head;
            Interlocked.CompareExchange(ref _foundByWalk, null, found); // a problem found meanwhile holds
            return null;
        }

        var (next, problem) = AuditChain.Walk(db, _head.Seq, _head.Hash);
        if (problem is not null) return problem;

        // Entries written since by another process and then deleted from the end leave this head intact: the witness,
        // moved by every write of every process, still names them.
        if (AuditWitness.FolderProblem(db) is null && AuditWitness.Check(db) is { } behind) return behind;
        _head = next;
        return null;
    }

    /// <summary>
    /// What a whole walk outside the decision path found (null: the log held): a problem holds every later decision to a
    /// whole walk of its own, so it is refused until the log verifies again.
    /// </summary>
    public void Walked(string? problem)
    {
        Volatile.Write(ref _lastWalk, problem);
        if (problem is not null) Volatile.Write(ref _foundByWalk, problem);
    }

    /// <summary>
    /// Walks the whole log from its first entry (every entry against its hash and its predecessor, every audited row
    /// against its entry: what <c>drydock audit verify</c> runs) and checks it against the audit witness; returns the
    /// head it verified, or why the log cannot be relied on.
    /// </summary>
    public static ((long Seq, string Hash) Head, string? Problem) WalkWhole(RegistryDatabase db)
    {
        ArgumentNullException.ThrowIfNull(db);
        var verification = AuditLog.Verify(db);
        if (!verification.Ok) return (default, $"audit entry {verification.FirstBadSeq}: {verification.Problem}");
        if (AuditWitness.FolderProblem(db) is null && AuditWitness.Check(db) is { } rolledBack) return (default, rolledBack);
        return ((verification.Entries, verification.Head), null);
    }
}

/// <summary>The admin API's refusals on the audit chain or a registry grant, in the gateway's log (never a key or token).</summary>
internal static partial class AdminChainLog
{
    [LoggerMessage(45, LogLevel.Error, "admin API refused ({Path}) for {Actor}: {Reason}")]
    public static partial void Refused(ILogger logger, string path, string actor, string reason);

    [LoggerMessage(46, LogLevel.Error, "the registry's audit log does not verify at start; admin and model requests are refused until it does: {Reason}")]
    public static partial void BrokenAtStart(ILogger logger, string reason);

    [LoggerMessage(47, LogLevel.Error, "the periodic walk of the whole audit log found a problem; admin and model requests are refused until it is put back: {Reason}")]
    public static partial void BrokenByWalk(ILogger logger, string reason);

    [LoggerMessage(48, LogLevel.Information, "the whole audit log was walked: {Entries} entries in {Milliseconds} ms")]
    public static partial void Walked(ILogger logger, long entries, long milliseconds);
}

/// <summary>Serving refused or resumed on the registry's state against its audit log (<see cref="GatewayOperations.ServingProblem"/>).</summary>
internal static partial class ServingLog
{
    [LoggerMessage(55, LogLevel.Critical, "model requests are refused (503 registry_state_broken) until the registry's state matches its audit log again: {Reason}")]
    public static partial void Refused(ILogger logger, string reason);

    [LoggerMessage(56, LogLevel.Warning, "the registry's state matches its audit log again; model requests are served")]
    public static partial void Served(ILogger logger);
}
