using Drydock.Detection.Analyzers;
using Drydock.Provenance.Registry;

namespace Drydock.Gateway.Operations;

/// <summary>What the gateway serves for a requested model name.</summary>
/// <param name="Upstream">The model name sent upstream, or null when the alias is disabled (kill switch).</param>
/// <param name="Alias">True when the name is a deployment or configured alias, not passed through.</param>
public readonly record struct Route(string? Upstream, bool Alias);

/// <summary>
/// The gateway's view of the registry: deployments (aliases, kill switch, reverts) and canaries, re-read in the
/// background every <c>refresh</c> (requests never wait on the database), so containment ordered from the CLI or
/// another instance applies within that time; and the writer of
/// incidents and containment actions (each in the hash-chained audit log). Registry calls are serialised here.
/// Without a registry, configured aliases still apply and nothing is recorded.
/// </summary>
public sealed class GatewayOperations : IDisposable
{
    private readonly ProvenanceRegistry? _registry;
    private readonly IReadOnlyDictionary<string, string> _aliases;
    private readonly ApprovalPolicy _policy;
    private readonly Timer? _timer;
    private readonly Lock _lock = new();
    private IReadOnlyDictionary<string, DeploymentState> _deployments = new Dictionary<string, DeploymentState>();
    private CanaryAnalyzer _canaries = new([]);

    /// <summary>Creates the view; <paramref name="registry"/> may be null.</summary>
    public GatewayOperations(ProvenanceRegistry? registry, IReadOnlyDictionary<string, string> aliases, ApprovalPolicy policy, TimeSpan refresh)
    {
        _registry = registry;
        _aliases = aliases;
        _policy = policy;
        Refresh();
        if (registry is not null) _timer = new Timer(_ => Refresh(), null, refresh, refresh);
    }

    /// <summary>When the last background refresh failed (the registry is unreachable), its message; null when it is fine.</summary>
    public string? RefreshError { get; private set; }

    /// <summary>True when a registry is attached.</summary>
    public bool HasRegistry => _registry is not null;

    /// <summary>The canaries watched for now.</summary>
    public CanaryAnalyzer Canaries => _canaries;

    /// <summary>Resolves a requested model name.</summary>
    public Route Resolve(string model)
    {
        if (_deployments.TryGetValue(model, out var d)) return new Route(d.Enabled ? d.UpstreamModel ?? model : null, true);
        return _aliases.TryGetValue(model, out var upstream) ? new Route(upstream, true) : new Route(model, false);
    }

    /// <summary>Aliases clients may ask for (enabled deployments and configured aliases), and disabled names.</summary>
    public (IReadOnlyList<string> Served, IReadOnlySet<string> Disabled) Names()
    {
        var served = _aliases.Keys.Concat(_deployments.Values.Where(d => d.Enabled && d.ModelId is not null).Select(d => d.Alias)).Distinct(StringComparer.Ordinal).ToList();
        return (served, _deployments.Values.Where(d => !d.Enabled).Select(d => d.Alias).ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>Every deployment's state.</summary>
    public IReadOnlyList<DeploymentState> Deployments() => Registry(r => r.Deployments());

    /// <summary>Every incident's timeline.</summary>
    public IReadOnlyList<IReadOnlyList<IncidentEvent>> Incidents() => Registry(r => r.Incidents());

    /// <summary>Opens an incident (no-op without a registry); returns its id.</summary>
    public string? OpenIncident(string kind, string severity, string subject, string note) =>
        _registry is null ? null : Registry(r => r.OpenIncident(kind, severity, subject, note, "gateway"));

    /// <summary>Adds a step to an incident's timeline.</summary>
    public void Record(string incidentId, string action, string note, string actor) => Registry<object?>(r =>
    {
        r.RecordIncident(incidentId, action, note, actor);
        return null;
    });

    /// <summary>
    /// Contains a model alias: disables it (kill switch) or reverts it to the previous approved version, recorded on
    /// an incident (a new one unless <paramref name="incidentId"/> is given). Returns the incident id and the new state.
    /// </summary>
    public (string Incident, DeploymentState State) Contain(string alias, bool revert, string? reason, string? incidentId, string actor)
    {
        var result = Registry(r => Contain(r, alias, revert, reason, incidentId, actor, _policy));
        Refresh();
        return result;
    }

    /// <summary>Serves a disabled alias again.</summary>
    public DeploymentState Enable(string alias, string? reason, string actor)
    {
        var state = Registry(r => r.Enable(alias, reason, actor));
        Refresh();
        return state;
    }

    /// <summary>The containment itself, shared by the admin API and <c>drydock incident contain</c>.</summary>
    public static (string Incident, DeploymentState State) Contain(ProvenanceRegistry registry, string alias, bool revert, string? reason, string? incidentId, string actor, ApprovalPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var incident = incidentId ?? registry.OpenIncident("containment", "high", $"model:{alias}", reason, actor);
        var state = revert ? registry.Revert(alias, reason, actor, policy) : registry.Disable(alias, reason, actor);
        registry.RecordIncident(incident, "contained", revert ? $"model:{alias} reverted to {state.ModelId} ({state.UpstreamModel})" : $"model:{alias} disabled", actor);
        return (incident, state);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _timer?.Dispose();
        lock (_lock) _registry?.Dispose();
    }

    /// <summary>Re-reads deployments and canaries now; on a database error the last state stays in force.</summary>
    public void Refresh()
    {
        if (_registry is null) return;
        lock (_lock)
        {
            try
            {
                _deployments = _registry.Deployments().ToDictionary(d => d.Alias, StringComparer.Ordinal);
                var hashes = _registry.Canaries().Select(c => c.Sha256).ToList();
                if (hashes.Count != _canaries.Count) _canaries = new CanaryAnalyzer(hashes);
                RefreshError = null;
            }
            catch (Exception e) when (e is System.Data.Common.DbException or RegistryException or InvalidOperationException)
            {
                RefreshError = e.Message;
            }
        }
    }

    private T Registry<T>(Func<ProvenanceRegistry, T> action)
    {
        if (_registry is null) throw new RegistryException("the gateway runs without a registry");
        lock (_lock) return action(_registry);
    }
}
