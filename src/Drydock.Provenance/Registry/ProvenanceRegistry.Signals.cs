using System.Globalization;

namespace Drydock.Provenance.Registry;

/// <summary>One hourly summary of the gateway's signals as the registry keeps it: the hour (Unix seconds), alias, tier, key id and the summed row (JSON).</summary>
public sealed record SignalSummaryRecord(long Hour, string Alias, string Tier, string KeyId, string Summary, string UpdatedAt);

/// <summary>
/// Hourly summaries of the gateway's signals (counts, finding types, scores, template ids; never text), written by
/// <c>drydock monitor --watch --publish</c> beside the gateway and read by <c>drydock monitor --from-registry</c> on
/// any machine that reaches the registry. Unlike the audited tables, a summary is derived data: the hours still being
/// written are replaced as a whole, in one transaction, until they are complete.
/// </summary>
public sealed partial class ProvenanceRegistry
{
    /// <summary>Replaces the summaries of every hour from <paramref name="fromHour"/> on with <paramref name="summaries"/>, in one transaction.</summary>
    public void ReplaceSignalSummaries(long fromHour, IEnumerable<(long Hour, string Alias, string Tier, string KeyId, string Summary)> summaries)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        var now = Registry.RegistryDatabase.Now();
        using var transaction = Database.BeginWrite();
        Database.Execute("DELETE FROM signal_summaries WHERE hour >= @h", transaction, ("h", fromHour));
        foreach (var s in summaries)
        {
            if (s.Hour < fromHour || s.Hour % 3600 != 0) throw new RegistryException($"a signal summary's hour ({s.Hour}) must be an hour's start from {fromHour} on");
            Database.Execute("INSERT INTO signal_summaries (hour, alias, tier, key_id, summary, updated_at) VALUES (@h, @a, @t, @k, @s, @u)", transaction,
                ("h", s.Hour), ("a", s.Alias), ("t", s.Tier), ("k", s.KeyId), ("s", s.Summary), ("u", now));
        }

        transaction.Commit();
    }

    /// <summary>Deletes the summaries of the hours before <paramref name="hour"/> (Unix seconds): their retention is over. Returns how many.</summary>
    public int DeleteSignalSummariesBefore(long hour)
    {
        using var transaction = Database.BeginWrite();
        var deleted = Database.Execute("DELETE FROM signal_summaries WHERE hour < @h", transaction, ("h", hour));
        transaction.Commit();
        return deleted;
    }

    /// <summary>The start of the newest hour summarised, or null when none is.</summary>
    public long? LatestSignalSummaryHour() =>
        Database.Scalar("SELECT MAX(hour) FROM signal_summaries", null) is { } v and not DBNull ? Convert.ToInt64(v, CultureInfo.InvariantCulture) : null;

    /// <summary>The summaries of the hours in [<paramref name="from"/>, <paramref name="to"/>), oldest first.</summary>
    public IEnumerable<SignalSummaryRecord> SignalSummaries(long from, long to)
    {
        using var command = Database.Command("SELECT hour, alias, tier, key_id, summary, updated_at FROM signal_summaries WHERE hour >= @f AND hour < @t ORDER BY hour, alias, tier, key_id", null, ("f", from), ("t", to));
        using var r = command.ExecuteReader();
        while (r.Read()) yield return new SignalSummaryRecord(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5));
    }
}
