namespace Drydock.Provenance.Registry;

/// <summary>
/// Separation of duties, one check for the CLI and the gateway's admin API: who registered a dataset or model version
/// may not approve, gate, deploy or serve it again.
/// </summary>
public sealed partial class ProvenanceRegistry
{
    /// <summary>
    /// Why <paramref name="actor"/> may not <paramref name="what"/> the <paramref name="kind"/> (<c>dataset</c> or
    /// <c>model</c>) <paramref name="id"/> — it registered it, or the row was edited outside drydock — or null. An
    /// unknown id gives null: the verb reports it.
    /// </summary>
    public string? RegistrantConflict(string kind, string id, string actor, string what)
    {
        string registrant;
        try
        {
            (var rowId, registrant) = kind == "dataset" ? (GetDataset(id) is var d ? (d.Id, d.RegisteredBy) : default)
                : kind == "model" ? (GetModel(id) is var m ? (m.Id, m.RegisteredBy) : default) : ("", "");
            if (rowId.Length > 0 && RegistrationProblem(kind, rowId) is { } edited) return $"{kind} record edited outside drydock: {edited}; run 'drydock audit verify'";
        }
        catch (RegistryException)
        {
            return null;
        }

        return registrant == actor ? $"separation of duties: {actor} registered {kind} {id} and may not {what} it; another actor must" : null;
    }

    /// <summary>
    /// The model version that serving <paramref name="alias"/> again would serve: the version it points at now
    /// (<c>deploy --enable</c>, <c>POST /admin/enable</c>) or, with <paramref name="revert"/>, the one
    /// <see cref="RevertTarget"/> names. Null when there is none (the verb reports why).
    /// </summary>
    public string? ServedAgain(string alias, bool revert, ApprovalPolicy policy)
    {
        try
        {
            return revert ? RevertTarget(alias, policy).ModelId : Deployment(alias)?.ModelId;
        }
        catch (RegistryException)
        {
            return null;
        }
    }

    /// <summary>
    /// Separation of duties on the version that serving <paramref name="alias"/> again ends up serving (see
    /// <see cref="ServedAgain"/>): why <paramref name="actor"/> may not, or null.
    /// </summary>
    public string? ServingConflict(string alias, bool revert, string actor, ApprovalPolicy policy) =>
        ServedAgain(alias, revert, policy) is { } target ? RegistrantConflict("model", target, actor, revert ? $"revert {alias} to" : $"re-enable {alias} on") : null;

    /// <summary>True while the registry holds an actor grant that is not revoked (an expired one counts): access control is on.</summary>
    public bool HasActors(DateTimeOffset now) => Actors().Any(a => a.State(now) != "revoked");
}
