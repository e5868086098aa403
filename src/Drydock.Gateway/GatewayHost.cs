using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.RateLimiting;
using Drydock.Detection;
using Drydock.Detection.Engine;
using Drydock.Gateway.Guards;
using Drydock.Gateway.Keys;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Drydock.Gateway;

/// <summary>
/// The gateway: an OpenAI-compatible API (<c>/v1/models</c>, <c>/v1/chat/completions</c>, <c>/v1/completions</c>,
/// streaming too) in front of one upstream. Every request is authenticated (401 before the upstream is touched),
/// checked against its key's tier (403), rate limited per key (429 with Retry-After), input-guarded, forwarded,
/// and its answer output-guarded (redacted or blocked; streams through a hold-back window). A guard that fails
/// closes the request. Request metadata (never text) is appended to the audit file.
/// </summary>
public sealed class GatewayHost : IAsyncDisposable
{
    private const string Blocked = "[response blocked by policy]";
    private readonly GatewayOptions _options;
    private readonly ApiKeyStore _keys;
    private readonly TextGuard _guard;
    private readonly HttpClient _upstream;
    private readonly ConcurrentDictionary<string, RateLimiter> _limits = new();
    private readonly Lock _auditLock = new();
    private StreamWriter? _audit;
    private readonly WebApplication _app;

    private GatewayHost(GatewayOptions options, ApiKeyStore keys, Detector detector, string listen)
    {
        _options = options;
        _keys = keys;
        _guard = new TextGuard(detector);
        _upstream = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = options.UpstreamTimeout };
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(listen);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBytes);
        _app = builder.Build();
        _app.MapGet("/healthz", (RequestDelegate)(context => context.Response.WriteAsync("ok")));
        _app.MapGet("/v1/models", (RequestDelegate)Models);
        _app.MapPost("/v1/chat/completions", (RequestDelegate)(context => Complete(context, chat: true)));
        _app.MapPost("/v1/completions", (RequestDelegate)(context => Complete(context, chat: false)));
    }

    /// <summary>The addresses it listens on (after start).</summary>
    public IReadOnlyList<string> Urls => [.. _app.Urls];

    /// <summary>Builds and starts a gateway on <paramref name="listen"/> (port 0 picks a free one).</summary>
    public static async Task<GatewayHost> StartAsync(GatewayOptions options, ApiKeyStore keys, Detector detector, string listen, CancellationToken cancellationToken = default)
    {
        var host = new GatewayHost(options, keys, detector, listen);
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
        lock (_auditLock) _audit?.Dispose();
    }

    private async Task Models(HttpContext context)
    {
        var key = Authenticate(context);
        if (key is null) { await Error(context, 401, "invalid_api_key", "missing, wrong, revoked or expired API key").ConfigureAwait(false); return; }
        var tier = _options.Tiers.GetValueOrDefault(key.Tier);
        using var response = await Send(context, HttpMethod.Get, "models", null).ConfigureAwait(false);
        if (response is null) return;
        var body = await ReadJson(context, response).ConfigureAwait(false);
        if (body is null) return;
        if (body["data"] is JsonArray data)
        {
            foreach (var model in data.ToList())
            {
                var id = (string?)model?["id"] ?? "";
                if (tier is null || !tier.Allows(id) || (key.Models.Count > 0 && !key.Models.Contains(id))) data.Remove(model);
            }
        }

        await Json(context, 200, body).ConfigureAwait(false);
    }

    private async Task Complete(HttpContext context, bool chat)
    {
        var clock = Stopwatch.StartNew();
        var audit = new Dictionary<string, object?> { ["endpoint"] = chat ? "chat" : "completions" };
        var status = 0;
        try
        {
            status = await Handle(context, chat, audit).ConfigureAwait(false);
        }
        finally
        {
            audit["status"] = status == 0 ? context.Response.StatusCode : status;
            audit["ms"] = Math.Round(clock.Elapsed.TotalMilliseconds, 1);
            Audit(audit);
        }
    }

    private async Task<int> Handle(HttpContext context, bool chat, Dictionary<string, object?> audit)
    {
        var key = Authenticate(context);
        if (key is null) return await Error(context, 401, "invalid_api_key", "missing, wrong, revoked or expired API key").ConfigureAwait(false);
        audit["key"] = key.Id;
        audit["tier"] = key.Tier;
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
        var stream = request["stream"] is JsonValue s && s.TryGetValue<bool>(out var st) && st;
        if (stream && !tier.Streaming) return await Error(context, 403, "streaming_not_allowed", "streaming is not allowed for this key's tier").ConfigureAwait(false);
        var maxTokensField = request.ContainsKey("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        var asked = request[maxTokensField] is JsonValue mt && mt.TryGetValue<int>(out var m) ? m : tier.MaxTokens;
        if (asked > tier.MaxTokens) return await Error(context, 403, "max_tokens_exceeded", $"{maxTokensField} {asked} is above the tier's {tier.MaxTokens}").ConfigureAwait(false);
        request[maxTokensField] = asked;

        var limiter = _limits.GetOrAdd(key.Id, _ => new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions { PermitLimit = tier.RequestsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        using var lease = limiter.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            var retry = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 60;
            context.Response.Headers.RetryAfter = retry.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return await Error(context, 429, "rate_limited", $"over {tier.RequestsPerMinute} requests per minute").ConfigureAwait(false);
        }

        var prompt = string.Join("\n", PromptTexts(request, chat).ToArray());
        var input = _guard.Input(prompt, tier.Input);
        audit["inputFindings"] = string.Join(",", input.Findings.Select(f => f.Type).Distinct().ToArray());
        if (input.Blocked) return await Error(context, 400, "input_blocked", $"the request was blocked by policy ({string.Join(", ", input.Findings.Select(f => f.Category + "/" + f.Type).Distinct().ToArray())})").ConfigureAwait(false);

        using var response = await Send(context, HttpMethod.Post, chat ? "chat/completions" : "completions", request).ConfigureAwait(false);
        if (response is null) return 0;
        if (!stream || response.Content.Headers.ContentType?.MediaType != "text/event-stream")
        {
            var body = await ReadJson(context, response).ConfigureAwait(false);
            if (body is null) return 0;
            var findings = GuardChoices(body, chat, tier);
            audit["outputFindings"] = string.Join(",", findings.Distinct().ToArray());
            await Json(context, (int)response.StatusCode, body).ConfigureAwait(false);
            return (int)response.StatusCode;
        }

        await Stream(context, response, chat, tier, audit).ConfigureAwait(false);
        return 200;
    }

    // Guards every choice of a complete answer in place; returns the finding types.
    private List<string> GuardChoices(JsonNode body, bool chat, Tier tier)
    {
        var types = new List<string>();
        if (body["choices"] is not JsonArray choices) return types;
        foreach (var choice in choices.OfType<JsonObject>())
        {
            var holder = chat ? choice["message"] as JsonObject : choice;
            var field = chat ? "content" : "text";
            if (holder?[field] is not JsonValue v || !v.TryGetValue<string>(out var text)) continue;
            var result = _guard.Output(text, tier.Output);
            types.AddRange(result.Findings.Select(f => f.Type));
            holder[field] = result.Blocked ? Blocked : result.Text;
            if (result.Blocked) choice["finish_reason"] = "content_filter";
        }

        return types;
    }

    private async Task Stream(HttpContext context, HttpResponseMessage response, bool chat, Tier tier, Dictionary<string, object?> audit)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        var guards = new Dictionary<int, StreamGuard>();
        var blocked = new HashSet<int>();
        JsonObject? template = null;
        await using var upstream = await response.Content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
        using var reader = new StreamReader(upstream, Encoding.UTF8);
        var failed = false;
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
            foreach (var choice in (chunk["choices"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var index = choice["index"] is JsonValue iv && iv.TryGetValue<int>(out var i) ? i : 0;
                if (!guards.TryGetValue(index, out var guard)) guards[index] = guard = new StreamGuard(_guard, tier.Output, _options.StreamWindow);
                var holder = chat ? choice["delta"] as JsonObject : choice;
                var field = chat ? "content" : "text";
                var delta = holder?[field] is JsonValue v && v.TryGetValue<string>(out var t) ? t : "";
                var finished = choice["finish_reason"] is JsonValue f && f.GetValueKind() == JsonValueKind.String;
                var ready = guard.Push(delta) + (finished ? guard.Flush() : "");
                if (guard.Blocked)
                {
                    // Once: the blocked notice replaces everything this choice would still have said.
                    if (blocked.Add(index)) await Send(context, Chunk(template, index, chat, Blocked, "content_filter")).ConfigureAwait(false);
                    continue;
                }

                if (holder is not null) holder[field] = ready;
                if (ready.Length > 0 || finished || delta.Length == 0) await Send(context, chunk).ConfigureAwait(false);
            }
        }

        foreach (var (index, guard) in guards)
        {
            var rest = guard.Flush();
            if (rest.Length > 0 && template is not null) await Send(context, Chunk(template, index, chat, rest, null)).ConfigureAwait(false);
        }

        audit["outputFindings"] = string.Join(",", guards.Values.SelectMany(g => g.Findings).Select(f => f.Type).Distinct().ToArray());
        if (failed)
        {
            audit["error"] = "malformed upstream chunk";
            await context.Response.WriteAsync("data: {\"error\":{\"message\":\"the upstream sent a malformed chunk; the stream was stopped\",\"type\":\"upstream_error\"}}\n\n", context.RequestAborted).ConfigureAwait(false);
        }

        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted).ConfigureAwait(false);
    }

    private static JsonObject Chunk(JsonObject template, int index, bool chat, string text, string? finish)
    {
        var chunk = template.DeepClone().AsObject();
        var choice = new JsonObject { ["index"] = index, ["finish_reason"] = finish };
        if (chat) choice["delta"] = new JsonObject { ["content"] = text };
        else choice["text"] = text;
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

    private ApiKey? Authenticate(HttpContext context)
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

    private static async Task Json(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task<int> Error(HttpContext context, int status, string code, string message)
    {
        if (context.Response.HasStarted) return status;
        var body = new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = status >= 500 ? "upstream_error" : "invalid_request_error", ["code"] = code } };
        await Json(context, status, body).ConfigureAwait(false);
        return status;
    }

    private void Audit(Dictionary<string, object?> fields)
    {
        if (_options.AuditPath is null) return;
        var o = new JsonObject { ["at"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var (k, v) in fields) o[k] = v switch { null => null, int i => i, double d => d, _ => v.ToString() };
        lock (_auditLock)
        {
            if (_audit is null)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_options.AuditPath))!);
                _audit = new StreamWriter(new FileStream(_options.AuditPath, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false)) { AutoFlush = true };
            }

            _audit.Write(o.ToJsonString() + "\n");
        }
    }
}
