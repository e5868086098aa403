using Drydock.Provenance.Registry;

namespace Drydock.Gateway.Operations;

/// <summary>
/// The longest audit-log head this gateway process has verified (by an admin decision's walk or a whole walk), never
/// forgotten while it runs: a log that no longer holds that entry with that hash (entries deleted from its end, or an
/// older copy of the registry put back with its witness files) is refused — admin and model requests alike — until it
/// holds it again or the gateway restarts. Checking it costs one query. Thread-safe.
/// </summary>
internal sealed class HeldHead
{
    private readonly Lock _lock = new();
    private (long Seq, string Hash) _head;

    /// <summary>The head held now (0 before any verification).</summary>
    public (long Seq, string Hash) Head
    {
        get
        {
            lock (_lock) return _head;
        }
    }

    /// <summary>Remembers a verified head when it reaches further than the one held.</summary>
    public void Raise(long seq, string hash)
    {
        lock (_lock)
        {
            if (seq > _head.Seq) _head = (seq, hash);
        }
    }

    /// <summary>Why the log no longer holds the head this process verified, or null (one query).</summary>
    public string? Problem(RegistryDatabase db)
    {
        ArgumentNullException.ThrowIfNull(db);
        var (seq, hash) = Head;
        if (seq == 0) return null;
        using var command = db.Command("SELECT hash FROM audit_log WHERE seq = @seq", null, ("seq", seq));
        var found = command.ExecuteScalar() as string;
        var shown = hash[..Math.Min(12, hash.Length)];
        if (found is null)
        {
            return $"the audit log was rolled back: audit entry {seq} is missing, which this gateway verified (head {shown}) — its newest entries were deleted, or an older copy of the registry was put back; " +
                "refused until the log holds that entry again or the gateway restarts";
        }

        return string.Equals(found, hash, StringComparison.OrdinalIgnoreCase) ? null
            : $"the audit log was rewritten: audit entry {seq} is not the one this gateway verified (head {shown}); refused until the log holds that entry again or the gateway restarts";
    }
}
