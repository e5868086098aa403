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

    /// <summary>
    /// Why <paramref name="actor"/> may not approve the <paramref name="kind"/> <paramref name="id"/> as
    /// <paramref name="role"/>, or null: it already approved that subject in another role, and each role's sign-off is
    /// another person's (data-owner and security-reviewer are two people, even when one actor holds both roles). The
    /// same role again, and any rejection, are allowed; an unknown id gives null (the verb reports it).
    /// </summary>
    public string? RoleConflict(string kind, string id, string role, string actor)
    {
        string subjectId;
        try
        {
            subjectId = kind switch
            {
                "dataset" => GetDataset(id).Id,
                "model" => GetModel(id).Id,
                "threat-model" => GetThreatModel(id).Id,
                _ => "",
            };
        }
        catch (RegistryException)
        {
            return null;
        }

        if (subjectId.Length == 0) return null;
        var signed = Approvals(kind, subjectId).Where(a => a.Actor == actor).GroupBy(a => a.Role).Select(g => g.Last())
            .FirstOrDefault(a => a.Decision == "approve" && a.Role != role);
        return signed is null ? null
            : $"separation of duties: {actor} already approved {kind} {subjectId} as {signed.Role} and may not approve it as {role} too; another actor must";
    }

    /// <summary>
    /// Whether every role in <paramref name="approversByRole"/> can be given its own approver, no actor counted twice
    /// (a matching of roles to distinct actors, found by augmenting paths; the lists are a handful of roles).
    /// </summary>
    internal static bool DistinctApprovers(IReadOnlyList<IReadOnlyList<string>> approversByRole)
    {
        var holder = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var role = 0; role < approversByRole.Count; role++)
        {
            if (!Assign(role, [])) return false;
        }

        return true;

        bool Assign(int role, HashSet<string> seen)
        {
            foreach (var actor in approversByRole[role])
            {
                if (!seen.Add(actor)) continue;
                if (!holder.TryGetValue(actor, out var other) || Assign(other, seen))
                {
                    holder[actor] = role;
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>True while the registry holds an actor grant that is not revoked (an expired one counts): access control is on.</summary>
    public bool HasActors(DateTimeOffset now) => Actors().Any(a => a.State(now) != "revoked");
}
