using Drydock.Gateway.Guards;
using Drydock.Provenance.Registry;

namespace Drydock.Gateway.Operations;

/// <summary>
/// What serving a model version again needs while a tier checks answers against the training records: the
/// regurgitation tripwire index recorded for it at deploy, present, unchanged and built for that version. One check
/// for <c>drydock deploy --enable</c>, <c>drydock incident contain --revert</c>, <c>POST /admin/enable</c> and
/// <c>POST /admin/contain</c> with a revert; without it the gateway would answer 503 for the alias.
/// </summary>
public static class ServeChecks
{
    /// <summary>Why the index recorded for <paramref name="modelId"/> in <paramref name="stateFolder"/> cannot be used, or null.</summary>
    public static string? TripwireProblem(ProvenanceRegistry registry, string stateFolder, string modelId)
    {
        ArgumentNullException.ThrowIfNull(registry);
        if (registry.TripwireIndex(modelId) is not { } record) return $"no regurgitation tripwire index was built for {modelId} (a tier has regurgitation on); deploy it with --model {modelId} to build one";
        var path = Path.GetFullPath(Path.Combine(stateFolder, record.File));
        string Refused(string why) => $"the regurgitation tripwire index recorded for {modelId} ({record.File}) {why}; deploy it with --model {modelId} to build it again";
        if (!path.StartsWith(Path.GetFullPath(stateFolder) + Path.DirectorySeparatorChar, StringComparison.Ordinal)) return Refused("is outside the state folder");
        if (!File.Exists(path)) return Refused("is missing");
        try
        {
            using var file = File.OpenRead(path);
            if (Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(file)) != record.Sha256) return Refused("does not match the SHA-256 recorded at deploy");
            file.Position = 0;
            RegurgitationIndex.Load(file, modelId);
            return null;
        }
        catch (InvalidDataException e)
        {
            return Refused($"cannot be used: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Refused($"cannot be read: {e.Message}");
        }
    }

    /// <summary>
    /// Refuses a revert of <paramref name="alias"/> unless the version it reverts to passes <see cref="TripwireProblem"/>.
    /// A refusal is a note on the incident (opened for it unless <paramref name="incidentId"/> names one; an unknown one
    /// is refused before anything is recorded) and is returned with the incident id; the alias stays as it was. Null when
    /// the revert may go on (or there is nothing to revert to: the revert reports it).
    /// </summary>
    public static string? RevertRefusal(ProvenanceRegistry registry, string stateFolder, string alias, ApprovalPolicy policy, string? reason, string? incidentId, string actor)
    {
        ArgumentNullException.ThrowIfNull(registry);
        if (registry.ServedAgain(alias, revert: true, policy) is not { } target) return null;
        if (incidentId is not null) registry.Incident(incidentId);
        if (TripwireProblem(registry, stateFolder, target) is not { } problem) return null;
        var incident = incidentId ?? registry.OpenIncident("containment", "high", $"model:{alias}", reason, actor);
        registry.RecordIncident(incident, "note", $"revert of model:{alias} to {target} refused: {problem}", actor);
        return $"{incident}: revert refused: {problem}. {alias} is served as before; disable it instead";
    }
}
