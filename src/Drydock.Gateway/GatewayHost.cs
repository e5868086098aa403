using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Detection;
using Drydock.Detection.Engine;
using Drydock.Gateway.Audit;
using Drydock.Gateway.Guards;
using Drydock.Gateway.Keys;
using Drydock.Gateway.Monitoring;
using Drydock.Gateway.Operations;
using Drydock.Gateway.State;
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
public sealed class GatewayHost : IAsyncDisposable
{
    private const string Blocked = "[response blocked by policy]";
    private readonly GatewayOptions _options;
    private readonly ApiKeyStore _keys;
    private readonly Detector _detector;
    private readonly TextGuard _guard;
    private readonly IGatewayState _state;
    private readonly GatewayOperations _operations;
    private readonly ExtractionMonitor _monitor;
    private readonly RequestAuditLog? _audit;
    private readonly ILogger _log;
    private readonly HttpClient _upstream;
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
        _guard = new TextGuard(services.Detector);
        _state = services.State;
        _operations = services.Operations ?? new GatewayOperations(null, options.Aliases, new ApprovalPolicy([], "highly-sensitive"), TimeSpan.FromSeconds(2));
        _monitor = new ExtractionMonitor(options.AbuseThreshold);
        _audit = options.AuditFolder is null ? null : new RequestAuditLog(options.AuditFolder, options.AuditRetentionDays, options.AuditText, services.Keys.DeriveKey("request-log text"));
        _upstream = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = options.UpstreamTimeout };
        var builder = WebApplication.CreateSlimBuilder(HostOptions());
        builder.Logging.ClearProviders();
        if (services.Logs is not null) builder.Logging.AddProvider(services.Logs);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.WebHost.UseUrls(listen);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBytes);
        _app = builder.Build();
        _log = _app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Drydock.Gateway");
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
    }

    /// <summary>The addresses it listens on (after start).</summary>
    public IReadOnlyList<string> Urls => [.. _app.Urls];

    /// <summary>Its metrics.</summary>
    public GatewayMetrics Metrics { get; } = new();

    internal GatewayOperations Operations => _operations;

    internal IGatewayState State => _state;

    internal ApiKeyStore Keys => _keys;

    internal ILogger Log => _log;

    /// <summary>Waits until requests in flight are done and every request line is in the request log.</summary>
    internal async Task FlushAuditAsync()
    {
        while (Volatile.Read(ref _inFlight) > 0) await Task.Delay(2).ConfigureAwait(false);
        if (_audit is not null) await _audit.FlushAsync().ConfigureAwait(false);
    }

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
        _audit?.Dispose();
        _operations.Dispose();
        await _state.DisposeAsync().ConfigureAwait(false);
        Metrics.Dispose();
    }

    // Ready when the shared state and the registry answer, the key file is in force and the upstream lists its models.
    private async Task Ready(HttpContext context)
    {
        var checks = new JsonObject { ["state"] = await _state.PingAsync().ConfigureAwait(false), ["registry"] = _operations.RefreshError is null, ["keys"] = _keys.Problem is null };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            using var response = await _upstream.GetAsync(new Uri(_options.Upstream.ToString().TrimEnd('/') + "/models"), timeout.Token).ConfigureAwait(false);
            checks["upstream"] = response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            checks["upstream"] = false;
        }

        var ready = checks.All(c => c.Value!.GetValue<bool>());
        await Json(context, ready ? 200 : 503, new JsonObject { ["ready"] = ready, ["checks"] = checks }).ConfigureAwait(false);
    }

    private async Task Models(HttpContext context)
    {
        var key = Authenticate(context);
        if (key is null || key.Tier == GatewayOptions.AdminTier) { await Error(context, 401, "invalid_api_key", "missing, wrong, revoked or expired API key").ConfigureAwait(false); return; }
        var tier = _options.Tiers.GetValueOrDefault(key.Tier);
        using var response = await Send(context, HttpMethod.Get, "models", null).ConfigureAwait(false);
        if (response is null) return;
        var body = await ReadJson(context, response).ConfigureAwait(false);
        if (body is null) return;
        if (body["data"] is JsonArray data)
        {
            var (served, disabled) = _operations.Names();
            foreach (var alias in served) if (!data.Any(m => (string?)m?["id"] == alias)) data.Add((JsonNode)new JsonObject { ["id"] = alias, ["object"] = "model", ["owned_by"] = "drydock" });
            foreach (var model in data.ToList())
            {
                var id = (string?)model?["id"] ?? "";
                if (tier is null || disabled.Contains(id) || !tier.Allows(id) || (key.Models.Count > 0 && !key.Models.Contains(id))) data.Remove(model);
            }
        }

        await Json(context, 200, body).ConfigureAwait(false);
    }

    private async Task Complete(HttpContext context, bool chat)
    {
        var clock = Stopwatch.StartNew();
        var endpoint = chat ? "chat" : "completions";
        using var activity = GatewayMetrics.Activities.StartActivity("gateway " + endpoint);
        var audit = new JsonObject { ["endpoint"] = endpoint };
        var status = 0;
        Interlocked.Increment(ref _inFlight);
        try
        {
            status = await Handle(context, chat, audit).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Fail closed: whatever broke, the client gets a clean error and nothing unchecked.
            GatewayLog.RequestFailed(_log, e.GetType().Name);
            audit["error"] = e.GetType().Name;
            status = await Error(context, 500, "gateway_error", "the gateway could not handle this request").ConfigureAwait(false);
        }
        finally
        {
            status = status == 0 ? context.Response.StatusCode : status;
            audit["status"] = status;
            audit["ms"] = Math.Round(clock.Elapsed.TotalMilliseconds, 1);
            activity?.SetTag("http.response.status_code", status);
            activity?.SetTag("drydock.key", (string?)audit["key"]);
            Metrics.Request(endpoint, status, clock.Elapsed.TotalSeconds);
            if (_audit is not null) await _audit.WriteAsync(audit).ConfigureAwait(false);
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task<int> Handle(HttpContext context, bool chat, JsonObject audit)
    {
        var key = Authenticate(context);
        if (key is null)
        {
            Metrics.Blocked("auth");
            return await Error(context, 401, "invalid_api_key", "missing, wrong, revoked or expired API key").ConfigureAwait(false);
        }

        audit["key"] = key.Id;
        audit["tier"] = key.Tier;
        if (key.Tier == GatewayOptions.AdminTier) return await Error(context, 403, "admin_key", "administrator keys reach only /admin").ConfigureAwait(false);
        if (!_options.Tiers.TryGetValue(key.Tier, out var tier)) return await Error(context, 403, "unknown_tier", $"the key's tier '{key.Tier}' is not configured").ConfigureAwait(false);

        JsonObject request;
        try
        {
            request = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) when (e.StatusCode == 413)
        {
            return await Error(context, 413, "request_too_large", $"the request is larger than {_options.MaxRequestBytes} bytes").ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            return await Error(context, 400, "invalid_json", $"the request is not a JSON object: {e.Message}").ConfigureAwait(false);
        }

        var model = (string?)(request["model"] as JsonValue) ?? "";
        audit["model"] = model;
        if (!tier.Allows(model) || (key.Models.Count > 0 && !key.Models.Contains(model))) return await Error(context, 403, "model_not_allowed", $"model '{model}' is not allowed for this key").ConfigureAwait(false);
        var route = _operations.Resolve(model);
        if (route.Upstream is null)
        {
            Metrics.Blocked("disabled");
            return await Error(context, 503, "model_disabled", $"model '{model}' is disabled by an administrator").ConfigureAwait(false);
        }

        if (route.Alias) audit["upstreamModel"] = route.Upstream;
        var stream = request["stream"] is JsonValue s && s.TryGetValue<bool>(out var st) && st;
        if (stream && !tier.Streaming) return await Error(context, 403, "streaming_not_allowed", "streaming is not allowed for this key's tier").ConfigureAwait(false);
        var maxTokensField = request.ContainsKey("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        var asked = request[maxTokensField] is JsonValue mt && mt.TryGetValue<int>(out var m) ? m : tier.MaxTokens;
        if (asked > tier.MaxTokens) return await Error(context, 403, "max_tokens_exceeded", $"{maxTokensField} {asked} is above the tier's {tier.MaxTokens}").ConfigureAwait(false);
        request[maxTokensField] = asked;

        var admission = await _state.AdmitAsync(key.Id, tier.RequestsPerMinute, tier.TokensPerMinute).ConfigureAwait(false);
        if (admission.Throttled) audit["throttled"] = true;
        if (!admission.Allowed)
        {
            if (admission.Refusal == "revoked")
            {
                Metrics.Blocked("auth");
                return await Error(context, 401, "invalid_api_key", "missing, wrong, revoked or expired API key").ConfigureAwait(false);
            }

            Metrics.Blocked("rate");
            context.Response.Headers.RetryAfter = admission.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var limit = admission.Refusal == "tokens" ? $"{tier.TokensPerMinute} tokens" : $"{tier.RequestsPerMinute} requests";
            return await Error(context, 429, "rate_limited", $"over {limit} per minute{(admission.Throttled ? " (this key is throttled to a tenth for unusual use)" : "")}").ConfigureAwait(false);
        }

        var prompt = string.Join("\n", PromptTexts(request, chat).ToArray());
        var input = _guard.Input(prompt, tier.Input);
        audit["inputFindings"] = Types(input.Findings);
        Metrics.Findings(input.Findings.Select(f => f.Category));
        if (_audit?.Keep(prompt, Redact) is { } keptPrompt) audit["prompt"] = keptPrompt;
        if (input.Blocked)
        {
            Metrics.Blocked("input");
            return await Error(context, 400, "input_blocked", $"the request was blocked by policy ({string.Join(", ", input.Findings.Select(f => f.Category + "/" + f.Type).Distinct().ToArray())})").ConfigureAwait(false);
        }

        await Watch(key, tier, model, prompt, admission.Throttled, audit).ConfigureAwait(false);
        request["model"] = route.Upstream;
        using var response = await Send(context, HttpMethod.Post, chat ? "chat/completions" : "completions", request).ConfigureAwait(false);
        if (response is null) return 0;
        var guarded = new Guarded(tier, _operations.Canaries);
        if (!stream || response.Content.Headers.ContentType?.MediaType != "text/event-stream")
        {
            var body = await ReadJson(context, response).ConfigureAwait(false);
            if (body is null) return 0;
            GuardChoices(body, chat, guarded);
            var tokens = body["usage"]?["total_tokens"] is JsonValue u && u.TryGetValue<long>(out var t) ? t : (prompt.Length + guarded.Text.Length) / 4;
            await Finish(key, model, guarded, tokens, audit).ConfigureAwait(false);
            await Json(context, (int)response.StatusCode, body).ConfigureAwait(false);
            return (int)response.StatusCode;
        }

        var usage = await Stream(context, response, chat, guarded, audit).ConfigureAwait(false);
        await Finish(key, model, guarded, usage ?? ((prompt.Length + guarded.Text.Length) / 4), audit).ConfigureAwait(false);
        return 200;
    }

    // What the output guard saw of one answer: its findings, whether a canary tripped, the text sent (for the log).
    private sealed class Guarded(Tier tier, Detection.Analyzers.CanaryAnalyzer canaries)
    {
        public Tier Tier { get; } = tier;

        public Detection.Analyzers.CanaryAnalyzer Canaries { get; } = canaries;

        public List<Finding> Findings { get; } = [];

        public bool Canary { get; set; }

        public bool Blocked { get; set; }

        public StringBuilder Text { get; } = new();
    }

    // Feeds the extraction monitor; at the threshold, throttles the key, alerts and opens an incident. A key already
    // throttled (by this or another instance sharing the state) is not alerted on again.
    private async Task Watch(ApiKey key, Tier tier, string model, string prompt, bool throttled, JsonObject audit)
    {
        var score = _monitor.Observe(key.Id, prompt, tier.RequestsPerMinute);
        if (score.Score > 0) audit["abuse"] = score.Score;
        if (score.Score < _monitor.Threshold || throttled) return;
        await _state.ThrottleAsync(key.Id, _options.ThrottleFor).ConfigureAwait(false);
        Metrics.AbuseAlert();
        var incident = Record(() => _operations.OpenIncident("extraction-abuse", "high", $"key:{key.Id}", $"abuse score {score.Score:0.00} ({score.Signals}) on model {model}; key throttled for {_options.ThrottleFor.TotalMinutes:0} min"));
        audit["alert"] = "extraction-abuse";
        GatewayLog.Abuse(_log, key.Id, score.Score, score.Signals, incident);
    }

    // After an answer: tokens counted, canary trips alerted with an incident, findings and text to the log line.
    private async Task Finish(ApiKey key, string model, Guarded guarded, long tokens, JsonObject audit)
    {
        await _state.AddTokensAsync(key.Id, tokens).ConfigureAwait(false);
        Metrics.Tokens(tokens);
        audit["tokens"] = tokens;
        audit["outputFindings"] = Types(guarded.Findings);
        Metrics.Findings(guarded.Findings.Select(f => f.Category));
        if (guarded.Blocked) Metrics.Blocked(guarded.Canary ? "canary" : "output");
        if (_audit?.Keep(guarded.Text.ToString(), Redact) is { } kept) audit["answer"] = kept;
        if (!guarded.Canary) return;
        Metrics.CanaryTrip();
        audit["alert"] = "canary";
        var rules = string.Join(",", guarded.Findings.Where(f => f.Category == Categories.Canary).Select(f => f.Excerpt).ToArray());
        var incident = Record(() => _operations.OpenIncident("canary-leak", "critical", $"model:{model}", $"a registered canary ({rules}) appeared in an answer to key {key.Id}; the answer was blocked"));
        audit["incident"] = incident;
        GatewayLog.CanaryTripped(_log, model, key.Id, incident);
    }

    // Registry writes from the request path: a failure is logged, never turned into a passed answer.
    private string? Record(Func<string?> write)
    {
        try
        {
            return write();
        }
        catch (Exception e) when (e is System.Data.Common.DbException or RegistryException or InvalidOperationException)
        {
            GatewayLog.RecordFailed(_log, e.Message);
            return null;
        }
    }

    private string Redact(string text) => TextGuard.Redact(text, _detector.Scan(text));

    private static string Types(IEnumerable<Finding> findings) => string.Join(",", findings.Select(f => f.Type).Distinct().ToArray());

    // Guards every text of every choice of a complete answer in place; a choice with a blocked text is replaced whole.
    private void GuardChoices(JsonNode body, bool chat, Guarded guarded)
    {
        if (body["choices"] is not JsonArray choices) return;
        foreach (var choice in choices.OfType<JsonObject>())
        {
            var blocked = false;
            var changed = false;
            foreach (var (_, holder, field) in AnswerTexts(choice, chat).ToList())
            {
                if (holder[field] is not JsonValue v || !v.TryGetValue<string>(out var text)) continue;
                var result = _guard.Output(text, guarded.Tier.Output, guarded.Canaries);
                guarded.Findings.AddRange(result.Findings);
                guarded.Canary |= result.Canary;
                blocked |= result.Blocked;
                changed |= result.Blocked || result.Text != text;
                holder[field] = result.Blocked ? Blocked : result.Text;
                guarded.Text.Append(result.Blocked ? Blocked : result.Text);
            }

            // Log probabilities list the answer's tokens one by one: kept, they would restate what was removed.
            if (changed && choice["logprobs"] is not null) choice["logprobs"] = null;
            if (!blocked) continue;
            guarded.Blocked = true;
            var message = chat ? choice["message"] as JsonObject : choice;
            if (message is null) continue;
            foreach (var field in new[] { "refusal", "tool_calls", "function_call" }) message.Remove(field);
            message[chat ? "content" : "text"] = Blocked;
            choice["finish_reason"] = "content_filter";
        }
    }

    // The texts a model writes in one choice (its message, or a stream's delta): the content, a refusal, and the
    // arguments of tool and function calls, each with a slot name (a stream keeps one hold-back guard per slot).
    private static IEnumerable<(string Slot, JsonObject Holder, string Field)> AnswerTexts(JsonObject choice, bool chat)
    {
        if (!chat)
        {
            yield return ("text", choice, "text");
            yield break;
        }

        if ((choice["message"] ?? choice["delta"]) is not JsonObject message) yield break;
        yield return ("content", message, "content");
        if (message["content"] is JsonArray parts)
        {
            // Content given as parts (some servers answer so): each part's text.
            for (var p = 0; p < parts.Count; p++)
            {
                if (parts[p] is JsonObject part) yield return ($"part:{p}", part, "text");
            }
        }

        yield return ("refusal", message, "refusal");
        if (message["tool_calls"] is JsonArray calls)
        {
            var position = 0;
            foreach (var call in calls)
            {
                var index = call?["index"] is JsonValue iv && iv.TryGetValue<int>(out var i) ? i : position;
                position++;
                if (call?["function"] is JsonObject function) yield return ($"tool:{index}", function, "arguments");
            }
        }

        if (message["function_call"] is JsonObject legacy) yield return ("function_call", legacy, "arguments");
    }

    // Adds text to one slot of a stream delta (or a completions choice), creating what the slot needs.
    private static void Place(JsonObject holder, string slot, string text)
    {
        JsonObject target;
        var field = "arguments";
        if (slot.StartsWith("tool:", StringComparison.Ordinal))
        {
            var index = int.Parse(slot[5..], System.Globalization.CultureInfo.InvariantCulture);
            var calls = holder["tool_calls"] as JsonArray ?? [];
            holder["tool_calls"] = calls;
            var call = calls.OfType<JsonObject>().FirstOrDefault(c => c["index"] is JsonValue v && v.TryGetValue<int>(out var i) && i == index);
            if (call is null) calls.Add((JsonNode)(call = new JsonObject { ["index"] = index }));
            target = call["function"] as JsonObject ?? [];
            call["function"] = target;
        }
        else if (slot == "function_call")
        {
            target = holder["function_call"] as JsonObject ?? [];
            holder["function_call"] = target;
        }
        else
        {
            target = holder;
            field = slot;
        }

        target[field] = (target[field] is JsonValue v2 && v2.TryGetValue<string>(out var before) ? before : "") + text;
    }

    // Streams the answer through hold-back guards (one per choice and text: content, refusal, each tool call's
    // arguments); returns the upstream's usage.total_tokens when it sent one.
    private async Task<long?> Stream(HttpContext context, HttpResponseMessage response, bool chat, Guarded guarded, JsonObject audit)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        var guards = new Dictionary<(int Choice, string Slot), StreamGuard>();
        var blocked = new HashSet<int>();
        JsonObject? template = null;
        await using var upstream = await response.Content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
        using var reader = new StreamReader(upstream, Encoding.UTF8);
        var failed = false;
        long? usage = null;

        // Once per choice: the blocked notice replaces everything the choice would still have said.
        async Task SendBlocked(int index)
        {
            if (blocked.Add(index) && template is not null) await Send(context, Chunk(template, index, chat, "content", Blocked, "content_filter")).ConfigureAwait(false);
        }

        while (await reader.ReadLineAsync(context.RequestAborted).ConfigureAwait(false) is { } line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;
            var data = line[5..].Trim();
            if (data == "[DONE]") break;
            JsonObject chunk;
            try
            {
                chunk = JsonNode.Parse(data) as JsonObject ?? throw new JsonException("not an object");
            }
            catch (JsonException)
            {
                failed = true; // fail closed: nothing unchecked goes out
                break;
            }

            template ??= chunk.DeepClone().AsObject();
            if (chunk["usage"]?["total_tokens"] is JsonValue u && u.TryGetValue<long>(out var total)) usage = total;
            if (chunk["choices"] is not JsonArray { Count: > 0 })
            {
                // No text (the usage chunk that stream_options.include_usage asks for): it goes out as it came.
                await Send(context, chunk).ConfigureAwait(false);
                continue;
            }

            foreach (var choice in ((JsonArray)chunk["choices"]!).OfType<JsonObject>())
            {
                var index = choice["index"] is JsonValue iv && iv.TryGetValue<int>(out var i) ? i : 0;
                if (blocked.Contains(index)) continue;

                // A streamed chunk's log probabilities name the tokens of text the guard may still hold or redact.
                if ((guarded.Tier.Output != GuardMode.Off || guarded.Canaries.Count > 0) && choice["logprobs"] is not null) choice["logprobs"] = null;
                var finished = choice["finish_reason"] is JsonValue f && f.GetValueKind() == JsonValueKind.String;
                var held = 0;
                var present = 0;
                var slots = AnswerTexts(choice, chat).ToList();
                if (slots.Any(t => t.Slot.StartsWith("part:", StringComparison.Ordinal)))
                {
                    // Streamed content in parts cannot be held back part by part: fail closed, as for a malformed chunk.
                    failed = true;
                    break;
                }

                foreach (var (slot, holder, field) in slots)
                {
                    if (holder[field] is not JsonValue v || !v.TryGetValue<string>(out var delta)) continue;
                    if (!guards.TryGetValue((index, slot), out var guard)) guards[(index, slot)] = guard = new StreamGuard(_guard, guarded.Tier.Output, _options.StreamWindow, guarded.Canaries);
                    var ready = guard.Push(delta);
                    holder[field] = ready;
                    AppendSent(guarded, ready);
                    present++;
                    if (delta.Length > 0 && ready.Length == 0) held++;
                }

                if (finished)
                {
                    // The end of this choice: what its guards still hold goes out with it.
                    foreach (var (key, guard) in guards.Where(g => g.Key.Choice == index).ToList())
                    {
                        var rest = guard.Flush();
                        if (rest.Length == 0) continue;
                        var holder = chat ? choice["delta"] as JsonObject ?? [] : choice;
                        if (chat) choice["delta"] = holder;
                        Place(holder, key.Slot, rest);
                        AppendSent(guarded, rest);
                    }
                }

                if (guards.Any(g => g.Key.Choice == index && g.Value.Blocked))
                {
                    await SendBlocked(index).ConfigureAwait(false);
                    continue;
                }

                // A chunk whose every text is still held back is not sent (tool calls go out for their ids and names).
                var onlyHeld = !finished && present > 0 && held == present && (chat ? (choice["delta"] as JsonObject)?.ContainsKey("tool_calls") != true : true);
                if (!onlyHeld) await Send(context, SingleChoice(chunk, choice)).ConfigureAwait(false);
            }

            if (failed) break;
        }

        foreach (var ((index, slot), guard) in guards)
        {
            if (blocked.Contains(index)) continue;
            var rest = guard.Flush();
            if (guard.Blocked)
            {
                await SendBlocked(index).ConfigureAwait(false);
                continue;
            }

            if (rest.Length > 0 && template is not null) await Send(context, Chunk(template, index, chat, slot, rest, null)).ConfigureAwait(false);
            AppendSent(guarded, rest);
        }

        foreach (var guard in guards.Values)
        {
            guarded.Findings.AddRange(guard.Findings);
            guarded.Blocked |= guard.Blocked;
            guarded.Canary |= guard.Canary;
        }

        if (failed)
        {
            audit["error"] = "malformed upstream chunk";
            await context.Response.WriteAsync("data: {\"error\":{\"message\":\"the upstream sent a malformed chunk; the stream was stopped\",\"type\":\"upstream_error\"}}\n\n", context.RequestAborted).ConfigureAwait(false);
        }

        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted).ConfigureAwait(false);
        return usage;
    }

    private static void AppendSent(Guarded guarded, string text)
    {
        if (guarded.Text.Length < 65536) guarded.Text.Append(text);
    }

    // The chunk as it goes out: with several choices in one upstream chunk, each is sent on its own (one may be blocked).
    private static JsonObject SingleChoice(JsonObject chunk, JsonObject choice)
    {
        if (chunk["choices"] is JsonArray { Count: 1 }) return chunk;
        var single = new JsonObject();
        foreach (var (name, value) in chunk)
        {
            if (name != "choices") single[name] = value?.DeepClone();
        }

        single["choices"] = new JsonArray(choice.DeepClone());
        return single;
    }

    private static JsonObject Chunk(JsonObject template, int index, bool chat, string slot, string text, string? finish)
    {
        var chunk = template.DeepClone().AsObject();
        chunk.Remove("usage");
        var choice = new JsonObject { ["index"] = index, ["finish_reason"] = finish };
        var holder = chat ? new JsonObject() : choice;
        if (chat) choice["delta"] = holder;
        Place(holder, slot, text);
        chunk["choices"] = new JsonArray(choice);
        return chunk;
    }

    private static async Task Send(HttpContext context, JsonNode chunk)
    {
        await context.Response.WriteAsync("data: " + chunk.ToJsonString() + "\n\n", context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static IEnumerable<string> PromptTexts(JsonObject request, bool chat)
    {
        if (!chat)
        {
            if (request["prompt"] is JsonValue p && p.TryGetValue<string>(out var text)) yield return text;
            if (request["prompt"] is JsonArray prompts) foreach (var item in prompts) if (item is JsonValue v && v.TryGetValue<string>(out var t)) yield return t;
            yield break;
        }

        foreach (var message in request["messages"] as JsonArray ?? [])
        {
            var content = message?["content"];
            if (content is JsonValue v && v.TryGetValue<string>(out var text)) yield return text;
            if (content is JsonArray parts) foreach (var part in parts) if (part?["text"] is JsonValue pv && pv.TryGetValue<string>(out var pt)) yield return pt;
        }
    }

    internal ApiKey? Authenticate(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return _keys.Authenticate(header.StartsWith("Bearer ", StringComparison.Ordinal) ? header[7..].Trim() : null);
    }

    // Sends to the upstream; on failure answers 502/504 and returns null.
    private async Task<HttpResponseMessage?> Send(HttpContext context, HttpMethod method, string path, JsonNode? body)
    {
        var uri = new Uri(_options.Upstream.ToString().TrimEnd('/') + "/" + path);
        using var message = new HttpRequestMessage(method, uri);
        if (body is not null) message.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        try
        {
            return await _upstream.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            await Error(context, 502, "upstream_unreachable", "the model server could not be reached").ConfigureAwait(false);
        }
        catch (TaskCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            await Error(context, 504, "upstream_timeout", "the model server did not answer in time").ConfigureAwait(false);
        }

        return null;
    }

    private static async Task<JsonNode?> ReadJson(HttpContext context, HttpResponseMessage response)
    {
        try
        {
            var body = await response.Content.ReadAsStringAsync(context.RequestAborted).ConfigureAwait(false);
            return JsonNode.Parse(body) ?? throw new JsonException("empty");
        }
        catch (JsonException)
        {
            await Error(context, 502, "upstream_malformed", $"the model server answered {(int)response.StatusCode} with something that is not JSON").ConfigureAwait(false);
            return null;
        }
    }

    internal static async Task Json(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }

    internal static async Task<int> Error(HttpContext context, int status, string code, string message)
    {
        if (context.Response.HasStarted) return status;
        var body = new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = status >= 500 ? "upstream_error" : "invalid_request_error", ["code"] = code } };
        await Json(context, status, body).ConfigureAwait(false);
        return status;
    }
}
