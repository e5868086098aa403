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
/// <c>separation_of_duties</c>). An administrator key is the registry actor its name names. While the registry holds
/// actors (access control is on), a caller that is not one of them — a token, whose subject the registry does not know
/// as an actor, or a key named after no actor — cannot be checked and is refused.</item>
/// <item>While a tier checks answers against the training records, the regurgitation tripwire index of that version
/// (409 <c>tripwire_index</c>; a refused revert is a note on the incident, as at the CLI).</item>
/// </list>
/// Every refusal is an <c>access.refused</c> audit entry with the actor and the reason; the alias stays as it was.
/// </summary>
internal static class AdminServeChecks
{
    public static void Check(GatewayOperations operations, string alias, bool revert, string actor, string? actorName, string? role, string? reason, string? incidentId)
    {
        var verb = revert ? "admin contain --revert" : "admin enable";
        var refusal = operations.WithRegistry<AdminRefusedException?>(registry =>
        {
            if (Separation(registry, operations.Policy, alias, revert, actor, actorName) is { } conflict) return new AdminRefusedException(403, "separation_of_duties", conflict);
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

    private static string? Separation(ProvenanceRegistry registry, ApprovalPolicy policy, string alias, bool revert, string actor, string? actorName)
    {
        if (registry.HasActors(DateTimeOffset.UtcNow))
        {
            if (registry.ActorRecordsProblem() is { } edited) return $"actor record edited outside drydock: {edited}; run 'drydock audit verify'";
            if (actorName is null || registry.FindActor(actorName) is null)
            {
                return $"separation of duties cannot be checked for {actor}: it is no actor of this registry, so whether it registered the version served cannot be told " +
                    "(serve it again with an administrator key named after the actor, or with the CLI)";
            }
        }

        return actorName is null ? null : registry.ServingConflict(alias, revert, actorName, policy);
    }
}
