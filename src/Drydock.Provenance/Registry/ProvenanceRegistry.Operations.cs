using System.Security.Cryptography;
using Drydock.Provenance.Audit;

namespace Drydock.Provenance.Registry;

/// <summary>A registered canary: never its value, only the SHA-256 of its normalised form.</summary>
public sealed record CanaryRecord(string Id, string Label, string Sha256, string? DatasetId, string CreatedBy, string CreatedAt);

/// <summary>One change of a deployment: <c>deploy</c>, <c>disable</c>, <c>enable</c> or <c>revert</c>.</summary>
public sealed record DeploymentEvent(string Id, string Alias, string Action, string? ModelId, string? UpstreamModel, string? Reason, string Actor, string At);

/// <summary>Where an alias stands now: enabled or not, the model version and upstream model it serves, and its history.</summary>
public sealed record DeploymentState(string Alias, bool Enabled, string? ModelId, string? UpstreamModel, IReadOnlyList<DeploymentEvent> History);

/// <summary>One step of an incident's timeline: <c>opened</c>, <c>contained</c>, <c>note</c> or <c>closed</c>.</summary>
public sealed record IncidentEvent(string Id, string IncidentId, string Action, string Kind, string Severity, string Subject, string? Note, string Actor, string At);

/// <summary>Canaries, deployments and incidents: what evaluation and the gateway record.</summary>
public sealed partial class ProvenanceRegistry
{
    /// <summary>Registers a canary by the hash of its normalised value.</summary>
    public CanaryRecord RegisterCanary(string label, string sha256, string? datasetId, string actor)
    {
        var id = "cn-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var dataset = datasetId is null ? null : GetDataset(datasetId).Id;
        using var transaction = Database.BeginWrite();
        AuditLog.Append(Database, transaction, "canaries", id, new Dictionary<string, string?>
        {
            ["label"] = label, ["sha256"] = sha256, ["dataset_id"] = dataset, ["created_by"] = actor, ["created_at"] = RegistryDatabase.Now(),
        }, actor, "canary.register");
        Database.CommitWrite(transaction);
        return Canaries().Single(c => c.Id == id);
    }

    /// <summary>Every registered canary, oldest first.</summary>
    public IReadOnlyList<CanaryRecord> Canaries()
    {
        using var command = Database.Command("SELECT id, label, sha256, dataset_id, created_by, created_at FROM canaries ORDER BY audit_seq", null);
        using var r = command.ExecuteReader();
        var list = new List<CanaryRecord>();
        while (r.Read()) list.Add(new CanaryRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetString(4), r.GetString(5)));
        return list;
    }

    /// <summary>
    /// Points <paramref name="alias"/> at an approved model version (served upstream as <paramref name="upstreamModel"/>,
    /// by default the model's name) and enables it. A model that is not approved is refused with the reasons.
    /// </summary>
    public DeploymentState Deploy(string alias, string modelId, string? upstreamModel, string? reason, string actor, ApprovalPolicy policy)
    {
        var model = GetModel(modelId);
        var status = Status("model", model.Id, policy.RequiredRoles);
        if (status.State != "approved") throw new GateException([$"model: {model.Id} is {status.State} ({string.Join("; ", status.Reasons.ToArray())})"]);
        return AppendDeployment(alias, "deploy", model.Id, upstreamModel ?? model.Name, reason, actor);
    }

    /// <summary>The kill switch: the alias answers no requests until enabled or reverted.</summary>
    public DeploymentState Disable(string alias, string? reason, string actor)
    {
        var current = Deployment(alias);
        return AppendDeployment(alias, "disable", current?.ModelId, current?.UpstreamModel, reason, actor);
    }

    /// <summary>
    /// Serves the alias again. A model version that is not approved under <paramref name="policy"/> now (rejected
    /// after the incident, or its approvals withdrawn) is refused with the reasons, as <see cref="Deploy"/> refuses it.
    /// </summary>
    public DeploymentState Enable(string alias, string? reason, string actor, ApprovalPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var current = Deployment(alias) ?? throw new RegistryException($"no deployment '{alias}'");
        if (current.ModelId is not null)
        {
            var status = Status("model", current.ModelId, policy.RequiredRoles);
            if (status.State != "approved") throw new GateException([$"model: {current.ModelId} is {status.State} ({string.Join("; ", status.Reasons.ToArray())}); deploy an approved version or revert instead"]);
        }

        return AppendDeployment(alias, "enable", current.ModelId, current.UpstreamModel, reason, actor);
    }

    /// <summary>
    /// Points the alias at the version deployed before the current one that is still approved and was never reverted
    /// away from, and enables it. Throws when there is none.
    /// </summary>
    public DeploymentState Revert(string alias, string? reason, string actor, ApprovalPolicy policy)
    {
        var previous = RevertTarget(alias, policy);
        return AppendDeployment(alias, "revert", previous.ModelId, previous.UpstreamModel, reason, actor);
    }

    /// <summary>
    /// The deployment <see cref="Revert"/> would point <paramref name="alias"/> at now (its model version and upstream
    /// name), without changing anything: what the checks of the version that ends up served look at. Throws as
    /// <see cref="Revert"/> does when there is none.
    /// </summary>
    public DeploymentEvent RevertTarget(string alias, ApprovalPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var current = Deployment(alias) ?? throw new RegistryException($"no deployment '{alias}'");
        var reverted = new HashSet<string>(StringComparer.Ordinal);
        string? serving = null;
        foreach (var e in current.History)
        {
            if (e.Action == "revert" && serving is not null) reverted.Add(serving);
            if (e.Action is "deploy" or "revert") serving = e.ModelId;
        }

        if (current.ModelId is not null) reverted.Add(current.ModelId);
        var previous = current.History.Where(e => e.Action == "deploy" && e.ModelId is not null && !reverted.Contains(e.ModelId)).Reverse()
            .FirstOrDefault(e => Status("model", e.ModelId!, policy.RequiredRoles).State == "approved")
            ?? throw new RegistryException($"'{alias}' has no earlier approved version to revert to (disable it instead)");

        // The gateway contains a version by the names it is served under: a revert that keeps the upstream model name
        // could not tell the reverted-away version from the one reverted to.
        if (current.UpstreamModel is not null && string.Equals(previous.UpstreamModel, current.UpstreamModel, StringComparison.Ordinal))
        {
            throw new RegistryException($"'{alias}' cannot revert to {previous.ModelId}: it is served under the same upstream model name '{current.UpstreamModel}' as {current.ModelId} (disable it instead, or deploy the earlier version under its own upstream name)");
        }

        return previous;
    }

    /// <summary>The alias's current state, or null when it was never deployed or contained.</summary>
    public DeploymentState? Deployment(string alias)
    {
        var history = DeploymentEvents("WHERE alias = @a", ("a", alias));
        if (history.Count == 0) return null;
        var last = history[^1];
        return new DeploymentState(alias, last.Action != "disable", last.ModelId, last.UpstreamModel, history);
    }

    /// <summary>Every alias's current state.</summary>
    public IReadOnlyList<DeploymentState> Deployments() =>
        [.. DeploymentEvents("").GroupBy(e => e.Alias, StringComparer.Ordinal).Select(g => new DeploymentState(g.Key, g.Last().Action != "disable", g.Last().ModelId, g.Last().UpstreamModel, [.. g]))];

    /// <summary>Opens an incident; returns its id.</summary>
    public string OpenIncident(string kind, string severity, string subject, string? note, string actor)
    {
        var id = "in-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        AppendIncident(id, "opened", kind, severity, subject, note, actor);
        return id;
    }

    /// <summary>Adds a step (<c>contained</c>, <c>note</c>, <c>closed</c>) to an incident's timeline.</summary>
    public void RecordIncident(string incidentId, string action, string? note, string actor)
    {
        if (action is not ("contained" or "note" or "closed")) throw new RegistryException($"incident action must be contained, note or closed, not '{action}'");
        var opened = Incident(incidentId)[0];
        AppendIncident(opened.IncidentId, action, opened.Kind, opened.Severity, opened.Subject, note, actor);
    }

    /// <summary>An incident's timeline (oldest first); throws when there is none.</summary>
    public IReadOnlyList<IncidentEvent> Incident(string incidentId)
    {
        var events = IncidentEvents("WHERE incident_id = @i", ("i", incidentId));
        return events.Count > 0 ? events : throw new RegistryException($"no incident '{incidentId}'");
    }

    /// <summary>Every incident's timeline, oldest incident first.</summary>
    public IReadOnlyList<IReadOnlyList<IncidentEvent>> Incidents() =>
        [.. IncidentEvents("").GroupBy(e => e.IncidentId, StringComparer.Ordinal).Select(g => (IReadOnlyList<IncidentEvent>)[.. g])];

    private DeploymentState AppendDeployment(string alias, string action, string? modelId, string? upstreamModel, string? reason, string actor)
    {
        if (string.IsNullOrWhiteSpace(alias)) throw new RegistryException("a deployment needs an alias");
        var id = "dp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        using var transaction = Database.BeginWrite();
        AuditLog.Append(Database, transaction, "deployments", id, new Dictionary<string, string?>
        {
            ["alias"] = alias, ["action"] = action, ["model_id"] = modelId, ["upstream_model"] = upstreamModel, ["reason"] = reason, ["actor"] = actor, ["at"] = RegistryDatabase.Now(),
        }, actor, $"deployment.{action}");
        Database.CommitWrite(transaction);
        return Deployment(alias)!;
    }

    private void AppendIncident(string incidentId, string action, string kind, string severity, string subject, string? note, string actor)
    {
        var id = "ie-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        using var transaction = Database.BeginWrite();
        AuditLog.Append(Database, transaction, "incident_events", id, new Dictionary<string, string?>
        {
            ["incident_id"] = incidentId, ["action"] = action, ["kind"] = kind, ["severity"] = severity, ["subject"] = subject, ["note"] = note, ["actor"] = actor, ["at"] = RegistryDatabase.Now(),
        }, actor, $"incident.{action}");
        Database.CommitWrite(transaction);
    }

    private List<DeploymentEvent> DeploymentEvents(string where, params (string, object?)[] parameters)
    {
        using var command = Database.Command($"SELECT id, alias, action, model_id, upstream_model, reason, actor, at FROM deployments {where} ORDER BY audit_seq", null, parameters);
        using var r = command.ExecuteReader();
        var list = new List<DeploymentEvent>();
        string? Opt(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        while (r.Read()) list.Add(new DeploymentEvent(r.GetString(0), r.GetString(1), r.GetString(2), Opt(3), Opt(4), Opt(5), r.GetString(6), r.GetString(7)));
        return list;
    }

    private List<IncidentEvent> IncidentEvents(string where, params (string, object?)[] parameters)
    {
        using var command = Database.Command($"SELECT id, incident_id, action, kind, severity, subject, note, actor, at FROM incident_events {where} ORDER BY audit_seq", null, parameters);
        using var r = command.ExecuteReader();
        var list = new List<IncidentEvent>();
        while (r.Read()) list.Add(new IncidentEvent(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.IsDBNull(6) ? null : r.GetString(6), r.GetString(7), r.GetString(8)));
        return list;
    }
}
