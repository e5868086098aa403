using System.Text.Json.Nodes;
using Drydock.Detection.Engine;
using Drydock.Gateway.Audit;
using Drydock.Gateway.Guards;
using Drydock.Gateway.Keys;
using Drydock.Gateway.Monitoring;
using Drydock.Gateway.Operations;
using Drydock.Gateway.State;
using Drydock.Gateway.Upstream;
using Drydock.Provenance.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Drydock.Gateway;

/// <summary>What a gateway is built from besides its options: keys, the detector, shared state, the registry view, a logger.</summary>
public sealed record GatewayServices(ApiKeyStore Keys, Detector Detector)
{
    /// <summary>Counters, throttles and revocations (in process unless Redis).</summary>
    public IGatewayState State { get; init; } = new LocalGatewayState();

    /// <summary>Deployments, canaries and incidents (no registry unless given).</summary>
    public GatewayOperations? Operations { get; init; }

    /// <summary>Structured logs for alerts and failures (never prompt or answer text); null for none.</summary>
    public ILoggerProvider? Logs { get; init; }

    /// <summary>The semantic injection stage, required when a tier sets <c>semantic-injection</c>; null for none.</summary>
    public Detection.Analyzers.IInjectionJudge? InjectionJudge { get; init; }

    /// <summary>
    /// Opens a connection of its own to the registry, for the gateway's writer of the hourly signal summaries
    /// (<c>monitor.publish-seconds</c>); null: the gateway writes none.
    /// </summary>
    public Func<ProvenanceRegistry>? OpenRegistry { get; init; }

    /// <summary>
    /// The clock bearer tokens are checked against, and the request log's and the signal log's lines, buckets and
    /// retention follow (the system's unless given).
    /// </summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// The gateway: an OpenAI-compatible API (<c>/v1/models</c>, <c>/v1/chat/completions</c>, <c>/v1/completions</c>,
/// streaming too) in front of one upstream. Every request is authenticated (401 before the upstream is touched),
/// checked against its key's tier (403) and the model's deployment (503 when disabled), rate limited per key
/// (requests and tokens per minute; 429 with Retry-After), input-guarded, watched for extraction abuse, forwarded,
/// and its answer output-guarded (redacted or blocked; streams through a hold-back window; a registered canary blocks
/// it and opens an incident). A guard that fails closes the request. Request metadata (text only as the policy says)
/// goes to the request log. Administrators contain incidents through <c>/admin</c> with an admin key.
/// </summary>
/// <remarks>
/// This file is the wiring. The stages live beside it: <c>GatewayHost.Pipeline.cs</c> (the fixed order:
/// authenticate → limit → guard input → forward → guard output → audit), <c>GatewayHost.Authentication.cs</c>,
/// <c>GatewayHost.Limits.cs</c>, <c>GatewayHost.Incidents.cs</c>, <c>GatewayHost.Replies.cs</c> (error bodies);
/// <c>Payload/</c> (OpenAI request and answer shapes), <c>Guards/</c> (whole and streamed answer guards),
/// <c>Upstream/</c> (the model server client).
/// </remarks>
public sealed partial class GatewayHost : IAsyncDisposable
{
    private readonly GatewayOptions _options;
    private readonly ApiKeyStore _keys;
    private readonly Detector _detector;
    private readonly TextGuard _guard;
    private readonly IGatewayState _state;
    private readonly GatewayOperations _operations;
    private readonly ExtractionMonitor _monitor;
    private readonly RequestAuditLog? _audit;
    private readonly SignalRecorder? _signals;
    private readonly SignalPublisher? _publisher;
    private readonly AlertRelay? _alerts;
    private readonly ChainWalker? _walker;
    private readonly ILogger _log;
    private readonly UpstreamClient _upstream;
    private readonly Identity.BearerTokens? _tokens;
    private readonly WebApplication _app;
    private int _inFlight;

    // No file watching: the default host watches the working folder for appsettings.json changes, and the request log
    // written below it then woke the watcher (an inotify read and a stat) on every flush.
    internal static WebApplicationOptions HostOptions() => new() { Args = ["--hostBuilder:reloadConfigOnChange=false"] };

    private GatewayHost(GatewayOptions options, GatewayServices services, string listen)
    {
        _options = options;
        _keys = services.Keys;
        _detector = services.Detector;
        // A tier that asks for the semantic stage without one would guard less than its settings say: refused at start.
        if (services.InjectionJudge is null && options.Tiers.Values.FirstOrDefault(t => t.SemanticInjection) is { } semanticTier)
        {
            throw new GatewayConfigException($"tier '{semanticTier.Name}' sets semantic-injection, but no semantic injection stage was loaded");
        }

        _guard = new TextGuard(services.Detector, services.InjectionJudge);
        _state = services.State;
        _operations = services.Operations ?? new GatewayOperations(null, options.Aliases, new ApprovalPolicy([], "highly-sensitive"), TimeSpan.FromSeconds(2));
        RefusedKeys = new RefusedKeyLog(_operations, services.Time);
        _monitor = new ExtractionMonitor(options.AbuseThreshold);
        _audit = options.AuditFolder is null ? null : new RequestAuditLog(options.AuditFolder, options.AuditRetentionDays, options.AuditText, services.Keys.DeriveKey("request-log text"), services.Time);
        _signals = options.AuditFolder is null || !options.Monitor.Signals ? null : new SignalRecorder(options.AuditFolder, options.AuditRetentionDays, options.Monitor, options.AbuseThreshold, services.Keys.DeriveKey("signal templates"), services.Time);
        _upstream = new UpstreamClient(options.Upstream, options.UpstreamTimeout);
        _tokens = options.Identity is null ? null : new Identity.BearerTokens(options.Identity, services.Keys.DeriveKey("token subject"), services.Time);
        var builder = WebApplication.CreateSlimBuilder(HostOptions());
        builder.Logging.ClearProviders();
        if (services.Logs is not null) builder.Logging.AddProvider(services.Logs);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.WebHost.UseUrls(listen);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBytes);
        _app = builder.Build();
        _log = _app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Drydock.Gateway");
        _operations.LogTo(_log);
        if (_signals is not null && services.OpenRegistry is not null && options.Monitor.PublishSeconds > 0)
        {
            _publisher = new SignalPublisher(_signals, options.AuditFolder!, options.Monitor, services.OpenRegistry, _log, services.Time);
        }

        // The monitor's alerts (drydock monitor --watch writes them beside the request log) go into this log too.
        _alerts = options.AuditFolder is null ? null : new AlertRelay(options.AuditFolder, options.MonitorStateFolder, _log, services.Time);

        _app.MapGet("/healthz", (RequestDelegate)(context => context.Response.WriteAsync("ok")));
        _app.MapGet("/readyz", (RequestDelegate)Ready);
        _app.MapGet("/metrics", (RequestDelegate)(context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4";
            return context.Response.WriteAsync(Metrics.Prometheus());
        }));
        _app.MapGet("/v1/models", (RequestDelegate)Models);
        _app.MapPost("/v1/chat/completions", (RequestDelegate)(context => Complete(context, chat: true)));
        _app.MapPost("/v1/completions", (RequestDelegate)(context => Complete(context, chat: false)));
        AdminApi.Map(_app, this);
        if (services.OpenRegistry is not null && _operations.HasRegistry)
        {
            _walker = new ChainWalker(_operations.Walked, services.OpenRegistry, options.ChainWalkEvery, _log, services.Time, _operations.WalkWhole);
        }
    }

    /// <summary>The addresses it listens on (after start).</summary>
    public IReadOnlyList<string> Urls => [.. _app.Urls];

    /// <summary>Its metrics.</summary>
    public GatewayMetrics Metrics { get; } = new();

    internal GatewayOperations Operations => _operations;

    /// <summary>The bounded audit entries of API keys refused at <c>/admin</c>.</summary>
    internal RefusedKeyLog RefusedKeys { get; }

    internal IGatewayState State => _state;

    internal ApiKeyStore Keys => _keys;

    internal ILogger Log => _log;

    /// <summary>Waits until requests in flight are done and every request line is in the request log.</summary>
    internal async Task FlushAuditAsync()
    {
        while (Volatile.Read(ref _inFlight) > 0) await Task.Delay(2).ConfigureAwait(false);
        if (_audit is not null) await _audit.FlushAsync().ConfigureAwait(false);
        _signals?.Flush();
    }

    internal SignalRecorder? Signals => _signals;

    internal GatewayOptions Options => _options;

    /// <summary>Builds and starts a gateway on <paramref name="listen"/> (port 0 picks a free one).</summary>
    public static async Task<GatewayHost> StartAsync(GatewayOptions options, GatewayServices services, string listen, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(services);
        var host = new GatewayHost(options, services, listen);
        await host._app.StartAsync(cancellationToken).ConfigureAwait(false);
        return host;
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> fires.</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _upstream.Dispose();
        _tokens?.Dispose();
        _audit?.Dispose();
        _publisher?.Dispose();
        _alerts?.Dispose();
        _walker?.Dispose();
        _signals?.Dispose();
        RefusedKeys.Flush();
        _operations.Dispose();
        await _state.DisposeAsync().ConfigureAwait(false);
        Metrics.Dispose();
    }

    // Ready when the shared state and the registry answer, the registry's state matches its audit log, the key file is
    // in force, the upstream lists its models and the last walk of the registry's audit log held.
    private async Task Ready(HttpContext context)
    {
        var problem = _operations.ServingProblem;
        var checks = new JsonObject { ["state"] = await _state.PingAsync().ConfigureAwait(false), ["registry"] = _operations.RefreshError is null, ["auditedState"] = problem is null, ["keys"] = _keys.Problem is null };
        checks["upstream"] = await _upstream.ListsModelsAsync(context.RequestAborted).ConfigureAwait(false);
        var broken = _walker is null ? null : _operations.Chain.LastWalkProblem;
        if (_walker is not null) checks["auditLog"] = broken is null;
        var ready = checks.All(c => c.Value!.GetValue<bool>());
        var body = new JsonObject { ["ready"] = ready, ["checks"] = checks };
        // Unauthenticated: what is wrong, never where (entry numbers, row ids); the detail is in the gateway's log (events
        // 47 and 55) and in the refusals that authenticated callers get.
        if (broken is not null) body["auditLog"] = "the last walk of the whole audit log found a problem; admin and model requests are refused until it is put back (the gateway's log names it; run 'drydock audit verify')";
        if (problem is not null) body["problem"] = "the registry's state does not match its audit log; model requests are refused (the gateway's log names the problem; run 'drydock audit verify')";
        await Json(context, ready ? 200 : 503, body).ConfigureAwait(false);
    }

    // While the registry's state does not match its audit log, no model request is answered (as the kill switch refuses).
    private async Task<int?> RefuseOnBrokenStateAsync(HttpContext context)
    {
        if (_operations.ServingProblem is null) return null;
        Metrics.Blocked("registry");
        return await Error(context, 503, "registry_state_broken", BrokenStateMessage).ConfigureAwait(false);
    }

    // What a model caller is told: that, never where (entry numbers, row ids, witness files), as /readyz. The problem
    // itself is in the gateway's log (event 55) and in the 503 audit_log_broken an authenticated admin caller gets.
    private const string BrokenStateMessage =
        "the gateway answers no model request while the registry's state does not match its audit log (the gateway's log names the problem; an administrator runs 'drydock audit verify')";

    // The models a key may use: the upstream's list plus served aliases, less what is disabled or outside the key's tier.
    private async Task Models(HttpContext context)
    {
        var caller = await IdentifyAsync(context).ConfigureAwait(false);
        var key = caller.Token is { Tier: not null } token ? SubjectKey(token) : caller.Key;
        if (caller.Token is { Tier: null }) { await Error(context, 403, "no_tier", "the token's claims map to no tier of this gateway").ConfigureAwait(false); return; }
        if (caller.Refusal is not null) { await Error(context, 401, "invalid_token", "missing, malformed, expired or untrusted bearer token").ConfigureAwait(false); return; }
        if (key is null || key.Tier == GatewayOptions.AdminTier) { await Error(context, 401, "invalid_api_key", "missing, wrong, revoked or expired API key").ConfigureAwait(false); return; }
        if (await RefuseOnBrokenStateAsync(context).ConfigureAwait(false) is not null) return;
        var tier = _options.Tiers.GetValueOrDefault(key.Tier);
        using var response = await _upstream.ForwardAsync(context, HttpMethod.Get, "models", null).ConfigureAwait(false);
        if (response is null) return;
        JsonNode? body;
        try
        {
            body = await UpstreamClient.ReadJsonAsync(context, await Limits.UpstreamBody.WatchAsync(response, _options.UpstreamIdleTimeout, null, context.RequestAborted).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (Limits.UpstreamIdleException e)
        {
            await Error(context, 504, "upstream_timeout", e.Message).ConfigureAwait(false);
            return;
        }

        if (body is null) return;

        // A list it cannot filter is not passed on: it could name what is contained.
        if (body["data"] is not JsonArray data)
        {
            await Error(context, 502, "upstream_malformed", "the model server's model list has no data array").ConfigureAwait(false);
            return;
        }

        var (served, disabled) = _operations.Names();
        foreach (var alias in served) if (!data.Any(m => (string?)m?["id"] == alias)) data.Add((JsonNode)new JsonObject { ["id"] = alias, ["object"] = "model", ["owned_by"] = "drydock" });
        foreach (var model in data.ToList())
        {
            var id = model?["id"] is JsonValue v && v.TryGetValue<string>(out var named) ? named : null;
            if (id is null || tier is null || disabled.Contains(id) || !tier.Allows(id) || (key.Models.Count > 0 && !key.Models.Contains(id))) data.Remove(model);
        }

        // The list is the upstream's text too: guarded as an answer is (a model id, a field name or an owner that holds
        // a credential or a canary refuses it).
        var guarded = new GuardedAnswer(tier ?? GatewayOptions.DefaultTiers[0] with { Output = GuardMode.Block }, _operations.Canaries);
        if (WholeAnswerGuard.Guard(_guard, body, chat: false, guarded) is { } refused)
        {
            GatewayLog.RequestFailed(_log, "model list refused");
            await Error(context, 502, guarded.Blocked ? "output_blocked" : "upstream_malformed", refused.Replace("an answer", "a model list", StringComparison.Ordinal)).ConfigureAwait(false);
            return;
        }

        await Json(context, 200, body).ConfigureAwait(false);
    }
}
