using Drydock.Detection.Analyzers;
using Drydock.Provenance.Audit;
using Drydock.Provenance.Registry;
using Microsoft.Extensions.Logging;

namespace Drydock.Gateway.Operations;

/// <summary>What the gateway serves for a requested model name.</summary>
/// <param name="Upstream">
/// The model name sent upstream, or null when what the name serves is contained: a disabled alias (kill switch), or
/// any name that resolves to a contained model version (its alias, its upstream model name, its version id).
/// </param>
/// <param name="Alias">True when the name is a deployment or configured alias, not passed through.</param>
/// <param name="ModelId">The registered model version it serves, when a deployment says so.</param>
public readonly record struct Route(string? Upstream, bool Alias, string? ModelId = null);

/// <summary>
/// The gateway's view of the registry: deployments (aliases, kill switch, reverts) and canaries, re-read in the
/// background every <c>refresh</c> (requests never wait on the database), so containment ordered from the CLI or
/// another instance applies within that time; and the writer of
/// incidents and containment actions (each in the hash-chained audit log). Registry calls are serialised here.
/// Without a registry, configured aliases still apply and nothing is recorded.
/// <para>
/// Containment follows what is served, not the name a client asks for: a disabled alias contains its model version
/// and upstream model name, and a revert contains the version reverted away from (until it is deployed again), so
/// every name that resolves to a contained version (the alias, another alias, the upstream model name, the version
/// id) is refused and hidden from <c>/v1/models</c>.
/// </para>
/// <para>
/// What it serves from is checked against the audit log when it is re-read: every row of <c>deployments</c>,
/// <c>canaries</c> and <c>tripwire_indexes</c> must be what its audit entry recorded, and every entry of those tables
/// must still have its row. A reload that finds one edited, inserted or deleted outside drydock keeps the last good
/// state and sets <see cref="ServingProblem"/>, as does a whole walk of the audit log that finds a problem
/// (<see cref="Walked"/>): while it is set the gateway answers no model request (503 <c>registry_state_broken</c>) and
/// <c>/readyz</c> answers 503 naming it.
/// </para>
/// </summary>
public sealed class GatewayOperations : IDisposable
{
    private readonly ProvenanceRegistry? _registry;
    private readonly IReadOnlyDictionary<string, string> _aliases;
    private readonly ApprovalPolicy _policy;
    private readonly Timer? _timer;
    private readonly Lock _lock = new();
    private volatile Contained _contained;
    private CanaryAnalyzer _canaries = new([]);
    private string _canaryList = "";
    private volatile string? _rowsProblem;
    private volatile string? _walkProblem;
    private ILogger? _log;
    private readonly TripwireIndexes? _tripwires;
    private readonly HeldHead _held = new();
    private readonly AdminChain _chain;

    /// <summary>
    /// Creates the view; <paramref name="registry"/> may be null. With <paramref name="tripwireStateFolder"/> (the
    /// project's state folder), the regurgitation tripwire index of every model version a deployment serves is loaded
    /// from there as the registry records it, and re-read when a deployment or its index changes.
    /// </summary>
    public GatewayOperations(ProvenanceRegistry? registry, IReadOnlyDictionary<string, string> aliases, ApprovalPolicy policy, TimeSpan refresh, string? tripwireStateFolder = null)
    {
        _registry = registry;
        _chain = new AdminChain(_held);
        _aliases = aliases;
        _policy = policy;
        _tripwires = tripwireStateFolder is null ? null : new TripwireIndexes(tripwireStateFolder);
        _contained = Contained.From([], aliases);
        Refresh();
        if (registry is not null) _timer = new Timer(_ => Refresh(), null, refresh, refresh);
    }

    /// <summary>When the last background refresh failed (the registry is unreachable), its message; null when it is fine.</summary>
    public string? RefreshError { get; private set; }

    /// <summary>
    /// Why the registry's state cannot be served from (a row it serves from does not match its audit entry, or the last
    /// whole walk of the audit log found a problem), or null. While set, no model request is answered.
    /// </summary>
    public string? ServingProblem => _rowsProblem ?? _walkProblem;

    /// <summary>True when a registry is attached.</summary>
    public bool HasRegistry => _registry is not null;

    /// <summary>The canaries watched for now.</summary>
    public CanaryAnalyzer Canaries => _canaries;

    /// <summary>
    /// The regurgitation tripwire index of the model version <paramref name="modelId"/>, or null and why (no registered
    /// version behind the name, no index loaded, or one missing, damaged or for another version).
    /// </summary>
    public (Guards.RegurgitationIndex? Index, string Problem) Tripwire(string? modelId)
    {
        if (modelId is null) return (null, "the name is not a deployment of a registered model version, so no training records are known for it");
        if (_tripwires is null) return (null, "the gateway was started without the tripwire (no tier had regurgitation on)");
        return _tripwires.For(modelId);
    }

    /// <summary>Resolves a requested model name; <see cref="Route.Upstream"/> is null when what it serves is contained.</summary>
    public Route Resolve(string model) => _contained.Resolve(model);

    /// <summary>
    /// Aliases clients may ask for (enabled deployments and configured aliases that serve nothing contained), and every
    /// name to hide and refuse: disabled aliases, contained version ids and upstream model names, aliases that resolve to them.
    /// </summary>
    public (IReadOnlyList<string> Served, IReadOnlySet<string> Disabled) Names() => (_contained.Served, _contained.Hidden);

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

    /// <summary>Serves a disabled alias again; a model version no longer approved is refused (<see cref="GateException"/>).</summary>
    public DeploymentState Enable(string alias, string? reason, string actor)
    {
        var state = Registry(r => r.Enable(alias, reason, actor, _policy));
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

    /// <summary>
    /// Re-reads deployments and canaries now, then checks the rows it read from against their audit entries: a row
    /// edited, inserted or deleted outside drydock keeps the last good state in force and sets
    /// <see cref="ServingProblem"/> until the rows match again. On a database error the last state stays in force.
    /// </summary>
    public void Refresh()
    {
        if (_registry is null) return;
        lock (_lock)
        {
            try
            {
                var deployments = _registry.Deployments();
                var hashes = _registry.Canaries().Select(c => c.Sha256).ToList();
                // Checked after reading: a row changed in between is found by this check, or the next.
                var problem = ServedRowsProblem(_registry.Database) ?? LogBehind(_registry.Database);
                RefreshError = null;
                SetRowsProblem(problem);
                if (problem is not null) return;
                // The rows served from now on are recorded at or below the log's head: an older copy put back later,
                // witness and all, no longer holds that head and is refused at the next re-read.
                var (seq, hash) = AuditWitness.Head(_registry.Database);
                _held.Raise(seq, hash);
                _tripwires?.Refresh(_registry, deployments.Where(d => d.ModelId is not null).Select(d => d.ModelId!));
                _contained = Contained.From(deployments, _aliases);
                // The list's content, not its count: a row edited in place is a different list.
                var list = string.Join(',', hashes);
                if (list != _canaryList) (_canaries, _canaryList) = (new CanaryAnalyzer(hashes), list);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or RegistryException or InvalidOperationException)
            {
                RefreshError = e.Message;
            }
        }
    }

    /// <summary>The tables the gateway serves from, each checked against the audit log when re-read.</summary>
    internal static readonly string[] ServedTables = ["deployments", "canaries", "tripwire_indexes"];

    /// <summary>
    /// What a whole walk of the audit log found (null: it held): a problem refuses every model request until a walk
    /// holds again. Also passed to the admin API's chain (<see cref="AdminChain.Walked"/>).
    /// </summary>
    internal void Walked(string? problem)
    {
        _chain.Walked(problem);
        var before = ServingProblem;
        _walkProblem = problem is null ? null : $"the audit log does not verify: {problem}";
        Report(before);
    }

    /// <summary>Logs every change of <see cref="ServingProblem"/> from now on, and the current one.</summary>
    internal void LogTo(ILogger log)
    {
        _log = log;
        if (ServingProblem is { } problem) ServingLog.Refused(log, problem);
    }

    // Whether the log still reaches as far as this process knows it did: the head it verified (one query) and the audit
    // witness (its files and one query each), so entries cut from the end, or an older copy put back, are never served
    // from — found at this re-read, not at the next whole walk.
    private string? LogBehind(RegistryDatabase db)
    {
        if (_held.Problem(db) is { } gone) return gone;
        try
        {
            return AuditWitness.FolderProblem(db) is null ? AuditWitness.Check(db) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Provenance.KeyRingException)
        {
            return $"the audit witness in {AuditWitness.Folder} cannot be read ({e.Message})";
        }
    }

    /// <summary>
    /// A whole walk of the log (<see cref="ChainWalker"/>, on its own connection), held also against the longest head
    /// this process verified, which a walk that holds raises.
    /// </summary>
    internal ((long Seq, string Hash) Head, string? Problem) WalkWhole(RegistryDatabase db)
    {
        if (_held.Problem(db) is { } gone) return (default, gone);
        var (head, problem) = AdminChain.WalkWhole(db);
        if (problem is null) _held.Raise(head.Seq, head.Hash);
        return (head, problem);
    }

    private static string? ServedRowsProblem(RegistryDatabase db)
    {
        foreach (var table in ServedTables)
        {
            if (AuditLog.RowsProblem(db, table) is { } problem) return problem;
        }

        return null;
    }

    private void SetRowsProblem(string? problem)
    {
        var before = ServingProblem;
        _rowsProblem = problem;
        Report(before);
    }

    private void Report(string? before)
    {
        var now = ServingProblem;
        if (_log is null || now == before) return;
        if (now is not null) ServingLog.Refused(_log, now);
        else ServingLog.Served(_log);
    }

    /// <summary>Records an admin API access decision (who, what, the role used, allowed or refused, why) in the registry's audit log.</summary>
    /// <remarks>
    /// Nothing is written while the last chain check or whole walk failed (<see cref="RegistryException"/>): an entry appended to a broken log would move the audit witness past it,
    /// and putting back the copy from before the edit would then read as a rollback.
    /// </remarks>
    internal void RecordAccess(string actor, string what, string? role, bool allowed, string reason) =>
        Registry<object?>(r =>
        {
            if ((_chain.LastProblem ?? _walkProblem) is { } broken) throw new RegistryException($"refused: nothing was written on an audit log that does not verify: {broken}");
            r.RecordAccessDecision(actor, what, role, allowed, reason, null);
            return null;
        });

    /// <summary>Why the registry's audit log or actor records cannot be relied on for an admin API decision (<see cref="AdminChain"/>), or null; null without a registry.</summary>
    /// <remarks>
    /// A problem found here (by a decision's own walk of the entries since its head, or its actor-record check) refuses
    /// model requests at once, as a background walk's does (<see cref="Walked"/>); a whole walk here that holds again
    /// serves them again, as the background walk's next turn would.
    /// </remarks>
    internal string? ChainProblem()
    {
        if (_registry is null) return null;
        var (problem, whole) = Registry(r => (_chain.Problem(r), _chain.LastCheckWasWhole));
        if (problem is not null || (whole && _walkProblem is not null)) Walked(problem);
        return problem;
    }

    /// <summary>The admin API's view of the audit chain (its whole walk runs in <see cref="ChainWalker"/>).</summary>
    internal AdminChain Chain => _chain;

    /// <summary>Runs <paramref name="action"/> on the registry, serialised with every other registry call (throws without one).</summary>
    internal T WithRegistry<T>(Func<ProvenanceRegistry, T> action) => Registry(action);

    /// <summary>The approval policy deployments are checked against.</summary>
    internal ApprovalPolicy Policy => _policy;

    /// <summary>The state folder tripwire indexes are read from, or null when no tier requires the tripwire.</summary>
    internal string? TripwireFolder => _tripwires?.StateFolder;

    private T Registry<T>(Func<ProvenanceRegistry, T> action)
    {
        if (_registry is null) throw new RegistryException("the gateway runs without a registry");
        lock (_lock) return action(_registry);
    }
}

/// <summary>
/// One consistent snapshot of deployments and what is contained, swapped whole on each refresh so a request never sees
/// half of a change.
/// </summary>
internal sealed class Contained
{
    private readonly IReadOnlyDictionary<string, DeploymentState> _deployments;
    private readonly IReadOnlyDictionary<string, string> _aliases;
    // Contained names and versions by their spelling key (see Key): another spelling of a contained name is refused too.
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly HashSet<string> _versions = new(StringComparer.Ordinal);

    private Contained(IReadOnlyDictionary<string, DeploymentState> deployments, IReadOnlyDictionary<string, string> aliases)
    {
        _deployments = deployments;
        _aliases = aliases;
    }

    /// <summary>Enabled deployments and configured aliases that serve nothing contained.</summary>
    public IReadOnlyList<string> Served { get; private set; } = [];

    /// <summary>Every name refused: disabled aliases, contained upstream names and version ids, aliases that reach them.</summary>
    public IReadOnlySet<string> Hidden { get; private set; } = new HashSet<string>();

    public static Contained From(IReadOnlyList<DeploymentState> deployments, IReadOnlyDictionary<string, string> aliases)
    {
        var view = new Contained(deployments.ToDictionary(d => d.Alias, StringComparer.Ordinal), aliases);
        var hidden = new HashSet<string>(StringComparer.Ordinal);
        void Name(string name) { view._names.Add(Key(name)); hidden.Add(name); }
        void Version(string version) { view._versions.Add(Key(version)); hidden.Add(version); }
        foreach (var d in deployments)
        {
            if (!d.Enabled)
            {
                // The kill switch: the alias, what it serves upstream, and its version.
                Name(d.Alias);
                Name(view.UpstreamOf(d));
                if (d.ModelId is not null) Version(d.ModelId);
            }

            foreach (var (version, upstream) in RevertedAway(d.History))
            {
                Version(version);
                if (upstream is not null) Name(upstream);
            }
        }

        foreach (var name in aliases.Keys.Concat(view._deployments.Keys))
        {
            if (view.Resolve(name).Upstream is null) hidden.Add(name);
        }

        view.Hidden = hidden;
        view.Served = [.. aliases.Keys.Concat(deployments.Where(d => d.Enabled && d.ModelId is not null).Select(d => d.Alias)).Distinct(StringComparer.Ordinal).Where(n => !hidden.Contains(n))];
        return view;
    }

    public Route Resolve(string model)
    {
        string upstream;
        string? version = null;
        var alias = true;
        if (_deployments.TryGetValue(model, out var d))
        {
            if (!d.Enabled) return new Route(null, true, d.ModelId);
            upstream = UpstreamOf(d);
            version = d.ModelId;
        }
        else if (_aliases.TryGetValue(model, out var target))
        {
            upstream = target;
        }
        else
        {
            upstream = model;
            alias = false;
        }

        var contained = IsContained(model) || IsContained(upstream) || (version is not null && _versions.Contains(Key(version)));
        return new Route(contained ? null : upstream, alias, version);
    }

    // A name is contained under any spelling a model server may read as the same model: another case, spaces, control
    // and invisible characters, compatibility forms (fullwidth), "./m" or "m/", and a tag ("m:latest", "m:q4" when "m"
    // is contained).
    private bool IsContained(string name)
    {
        var key = Key(name);
        if (_names.Contains(key) || _versions.Contains(key)) return true;
        var tag = key.LastIndexOf(':');
        return tag > 0 && (_names.Contains(key[..tag]) || _versions.Contains(key[..tag]));
    }

    internal static string Key(string name)
    {
        var folded = new System.Text.StringBuilder(name.Length);
        foreach (var c in name.Normalize(System.Text.NormalizationForm.FormKC))
        {
            if (char.IsControl(c) || char.IsWhiteSpace(c) || System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format) continue;
            folded.Append(char.ToLowerInvariant(c));
        }

        var key = folded.ToString();
        while (key.StartsWith("./", StringComparison.Ordinal)) key = key[2..];
        return key.TrimEnd('/');
    }

    // A deployment without an upstream name of its own (the kill switch thrown on a configured alias or a pass-through
    // name, then enabled) keeps serving what drydock.yaml maps the alias to.
    private string UpstreamOf(DeploymentState d) => d.UpstreamModel ?? _aliases.GetValueOrDefault(d.Alias) ?? d.Alias;

    // The versions an alias was reverted away from and not deployed again since, with their upstream names.
    private static Dictionary<string, string?> RevertedAway(IReadOnlyList<DeploymentEvent> history)
    {
        var away = new Dictionary<string, string?>(StringComparer.Ordinal);
        (string? Model, string? Upstream) serving = (null, null);
        foreach (var e in history)
        {
            if (e.Action == "revert" && serving.Model is not null && serving.Model != e.ModelId) away[serving.Model] = serving.Upstream;
            if (e.Action == "deploy" && e.ModelId is not null) away.Remove(e.ModelId);
            if (e.Action is "deploy" or "revert") serving = (e.ModelId, e.UpstreamModel);
        }

        return away;
    }
}
