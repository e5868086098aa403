using Drydock.Provenance.Registry;

namespace Drydock.Gateway.Operations;

/// <summary>An admin API request refused by a check: answered with its status, code and reason, after being recorded.</summary>
internal sealed class AdminRefusedException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;
}

/// <summary>
/// The checks of the CLI's <c>deploy ALIAS --enable</c> and <c>incident contain --revert</c>, made by the admin API before
/// <c>POST /admin/enable</c> and <c>POST /admin/contain</c> with a revert change anything (the same code:
/// <see cref="ProvenanceRegistry.ServingConflict"/>, <see cref="ServeChecks"/>):
/// <list type="bullet">
/// <item>Separation of duties on the version that ends up served: the caller may not have registered it (403
/// <c>separation_of_duties</c>). Neither an administrator key (<c>adminkey:ID</c>, the key itself, whatever its name)
/// nor a token (<c>oidc:sub_…</c>) is an actor the registry knows, so while the registry holds actors (access control is
/// on) whether its holder registered that version cannot be told, and it is refused: serving a version again is then
/// done with the CLI, by an actor whose key the registry knows. Without actors no caller is a known person, and there is
/// nothing to compare.</item>
/// <item>While a tier checks answers against the training records, the regurgitation tripwire index of that version
/// (409 <c>tripwire_index</c>; a refused revert is a note on the incident, as at the CLI).</item>
/// </list>
/// Every refusal is an <c>access.refused</c> audit entry with the actor and the reason; the alias stays as it was.
/// </summary>
internal static class AdminServeChecks
{
    public static void Check(GatewayOperations operations, string alias, bool revert, string actor, string? role, string? reason, string? incidentId)
    {
        var verb = revert ? "admin contain --revert" : "admin enable";
        var refusal = operations.WithRegistry<AdminRefusedException?>(registry =>
        {
            if (Separation(registry, actor) is { } conflict) return new AdminRefusedException(403, "separation_of_duties", conflict);
            if (operations.TripwireFolder is not { } folder) return null;
            var problem = revert
                ? ServeChecks.RevertRefusal(registry, folder, alias, operations.Policy, reason, incidentId, actor)
                : registry.ServedAgain(alias, revert: false, operations.Policy) is { } served && ServeChecks.TripwireProblem(registry, folder, served) is { } why ? $"{alias} is not served again: {why}" : null;
            return problem is null ? null : new AdminRefusedException(409, "tripwire_index", problem);
        });
        if (refusal is null) return;
        try
        {
            operations.RecordAccess(actor, verb, role, allowed: false, refusal.Message);
        }
        catch (Exception e) when (e is RegistryException or System.Data.Common.DbException or IOException)
        {
            // the refusal stands; the reply says why
        }

        throw refusal;
    }

    private static string? Separation(ProvenanceRegistry registry, string actor)
    {
        if (!registry.HasActors(DateTimeOffset.UtcNow)) return null;
        if (registry.ActorRecordsProblem() is { } edited) return $"actor record edited outside drydock: {edited}; run 'drydock audit verify'";
        return $"separation of duties cannot be checked for {actor}: an administrator key or a token is no actor of this registry (a key's name is no identity), so whether its holder registered the version served cannot be told " +
            "(serve it again with the CLI as an actor: 'drydock deploy ALIAS --enable' or 'drydock incident contain --model ALIAS --revert')";
    }
}
