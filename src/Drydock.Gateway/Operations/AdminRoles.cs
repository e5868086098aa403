using Drydock.Provenance.Registry;

namespace Drydock.Gateway.Operations;

/// <summary>What an admin API route does, for the roles a token needs (see <see cref="AdminRoles.Table"/>).</summary>
internal enum AdminRight
{
    /// <summary>Read the deployments (<c>GET /admin/deployments</c>).</summary>
    Status,
    /// <summary>Read the incidents (<c>GET /admin/incidents</c>).</summary>
    Incidents,
    /// <summary>The monitor's dashboard over the signal log (<c>GET /admin/dashboard</c>).</summary>
    Monitor,
    /// <summary>Read the request log (<c>GET /admin/requests</c>); every read is an audit entry.</summary>
    Requests,
    /// <summary>Contain a model (<c>POST /admin/contain</c>).</summary>
    Contain,
    /// <summary>Enable a contained model again (<c>POST /admin/enable</c>).</summary>
    Enable,
    /// <summary>Revoke an API key (<c>POST /admin/keys/revoke</c>).</summary>
    Keys,
}

/// <summary>
/// The admin API's role table, in one place, following the CLI's (<c>drydock</c> verbs and the roles they need): every
/// route and the roles a token may hold to use it (any one of them). Administrator keys act as <c>admin</c>. The actions
/// the CLI offers too (revoke a key, contain, enable, read the request log or incidents) take their roles from
/// <see cref="ActorRoles"/>, which the CLI's table reads as well.
/// </summary>
internal static class AdminRoles
{
    public static IReadOnlyDictionary<AdminRight, IReadOnlyList<string>> Table { get; } = new Dictionary<AdminRight, IReadOnlyList<string>>
    {
        [AdminRight.Status] = ["viewer", "release-manager", "security-reviewer", "incident-responder", "auditor", "admin"],
        [AdminRight.Incidents] = ActorRoles.IncidentReadRoles,
        [AdminRight.Monitor] = ["security-reviewer", "incident-responder", "auditor", "admin"],
        [AdminRight.Requests] = ActorRoles.RequestLogRoles,
        [AdminRight.Contain] = ActorRoles.ContainRoles,
        [AdminRight.Enable] = ActorRoles.EnableRoles,
        [AdminRight.Keys] = ActorRoles.KeyRevokeRoles,
    };

    /// <summary>The first role of the table for <paramref name="right"/> that <paramref name="held"/> has, or null.</summary>
    public static string? RoleFor(AdminRight right, IReadOnlySet<string> held) => Table[right].FirstOrDefault(held.Contains);

    /// <summary>"the role R" or "one of the roles A, B".</summary>
    public static string Needed(AdminRight right) => Table[right] is [var one] ? $"the role {one}" : $"one of the roles {string.Join(", ", Table[right])}";

    /// <summary>The route a right stands for, as the refusal names it.</summary>
    public static string Route(AdminRight right) => right switch
    {
        AdminRight.Status => "GET /admin/deployments",
        AdminRight.Incidents => "GET /admin/incidents",
        AdminRight.Monitor => "GET /admin/dashboard",
        AdminRight.Requests => "GET /admin/requests",
        AdminRight.Contain => "POST /admin/contain",
        AdminRight.Enable => "POST /admin/enable",
        _ => "POST /admin/keys/revoke",
    };
}
