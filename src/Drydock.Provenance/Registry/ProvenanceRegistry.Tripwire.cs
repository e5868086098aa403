using System.Security.Cryptography;
using Drydock.Provenance.Audit;

namespace Drydock.Provenance.Registry;

/// <summary>
/// A regurgitation tripwire index built at <c>drydock deploy</c> for a model version: where it was written (relative to
/// the project's state folder), its SHA-256, how many records it holds, the dataset versions they came from and which
/// records were chosen (<c>all</c> or <c>sensitive</c>). The gateway loads the newest one of the version an alias serves
/// and refuses a file whose SHA-256 differs.
/// </summary>
public sealed record TripwireIndexRecord(string Id, string ModelId, string Alias, string File, string Sha256, long Records, IReadOnlyList<string> Datasets, string Selection, string Actor, string At);

/// <summary>Tripwire indexes: recorded by <c>drydock deploy</c>, read by the gateway.</summary>
public sealed partial class ProvenanceRegistry
{
    /// <summary>Records the index built for <paramref name="modelId"/> when it was deployed as <paramref name="alias"/>.</summary>
    public TripwireIndexRecord RecordTripwireIndex(string modelId, string alias, string file, string sha256, long records, IReadOnlyList<string> datasets, string selection, string actor)
    {
        ArgumentNullException.ThrowIfNull(datasets);
        var model = GetModel(modelId);
        if (sha256.Length != 64 || !sha256.All(Uri.IsHexDigit)) throw new RegistryException($"a tripwire index's SHA-256 must be 64 hex digits, not '{sha256}'");
        var id = "tw-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        using var transaction = Database.BeginWrite();
        AuditLog.Append(Database, transaction, "tripwire_indexes", id, new Dictionary<string, string?>
        {
            ["model_id"] = model.Id, ["alias"] = alias, ["file"] = file, ["sha256"] = sha256,
            ["records"] = records.ToString(System.Globalization.CultureInfo.InvariantCulture), ["datasets"] = string.Join(",", datasets), ["selection"] = selection,
            ["actor"] = actor, ["at"] = RegistryDatabase.Now(),
        }, actor, "tripwire.index");
        Database.CommitWrite(transaction);
        return TripwireIndex(model.Id)!;
    }

    /// <summary>The newest tripwire index recorded for a model version, or null.</summary>
    public TripwireIndexRecord? TripwireIndex(string modelId)
    {
        using var command = Database.Command("SELECT id, model_id, alias, file, sha256, records, datasets, selection, actor, at FROM tripwire_indexes WHERE model_id = @m ORDER BY audit_seq DESC", null, ("m", modelId));
        using var r = command.ExecuteReader();
        if (!r.Read()) return null;
        return new TripwireIndexRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4),
            long.Parse(r.GetString(5), System.Globalization.CultureInfo.InvariantCulture), r.GetString(6).Split(',', StringSplitOptions.RemoveEmptyEntries), r.GetString(7), r.GetString(8), r.GetString(9));
    }
}
