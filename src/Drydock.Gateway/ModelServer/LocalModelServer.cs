using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Evaluation.Targets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Drydock.Gateway.ModelServer;

/// <summary>
/// An ONNX model from the reference trainer served as an OpenAI-compatible endpoint: <c>/v1/models</c>,
/// <c>/v1/completions</c> (with <c>echo</c> and <c>logprobs</c>, as vLLM serves them: one token per byte,
/// <c>text_offset</c> in characters) and <c>/v1/chat/completions</c> (streamed as one chunk when asked), so the
/// gateway and external tools can use it. Bad requests get 400 with an OpenAI-style error naming the field.
/// </summary>
public sealed class LocalModelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly OnnxTarget _model;
    private readonly string _name;

    /// <summary>
    /// Builds the server for <paramref name="model"/>, known as <paramref name="name"/>, on <paramref name="listen"/>;
    /// every answer states <paramref name="digest"/> (the SHA-256 of the model's files, as the registry computes it)
    /// in the <c>x-drydock-model-digest</c> header, and <c>/v1/models</c> names it, so evidence recorded from this
    /// endpoint is bound to the artifact.
    /// </summary>
    public LocalModelServer(OnnxTarget model, string name, string listen, string digest)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(digest);
        _model = model;
        _name = name;
        var builder = WebApplication.CreateSlimBuilder(GatewayHost.HostOptions());
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(listen);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 1 << 20);
        _app = builder.Build();
        _app.Use((context, next) =>
        {
            context.Response.Headers[ModelTarget.DigestHeader] = digest;
            return next(context);
        });
        _app.MapGet("/healthz", (RequestDelegate)(context => context.Response.WriteAsync("ok")));
        _app.MapGet("/v1/models", (RequestDelegate)(context => Json(context, 200, new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray(new JsonObject { ["id"] = _name, ["object"] = "model", ["owned_by"] = "drydock", ["digest"] = "sha256:" + digest }),
        })));
        _app.MapPost("/v1/completions", (RequestDelegate)Completions);
        _app.MapPost("/v1/chat/completions", (RequestDelegate)Chat);
    }

    /// <summary>The addresses it listens on (after start).</summary>
    public IReadOnlyList<string> Urls => [.. _app.Urls];

    /// <summary>Starts listening.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => _app.StartAsync(cancellationToken);

    /// <summary>Runs until stopped.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private async Task Completions(HttpContext context)
    {
        if (await Body(context) is not { } body) return;
        if (body["prompt"] is not JsonValue p || !p.TryGetValue<string>(out var prompt))
        {
            await Error(context, "prompt", "must be a string");
            return;
        }

        if (!Settings(body, out var maxTokens, out var temperature, out var field))
        {
            await Error(context, field, "is out of range");
            return;
        }

        var echo = body["echo"] is JsonValue e && e.TryGetValue<bool>(out var ev) && ev;
        var logprobs = body["logprobs"] is JsonValue l && l.TryGetValue<int>(out _);
        var text = maxTokens == 0 ? "" : await Task.Run(() => _model.Generate(prompt, maxTokens, temperature, context.RequestAborted), context.RequestAborted);
        var choice = new JsonObject { ["index"] = 0, ["text"] = echo ? prompt + text : text, ["finish_reason"] = "stop" };
        if (logprobs)
        {
            // Every byte is scored after the prompt's; without echo only the answer's are returned.
            var scored = _model.Score(prompt + text).Where(s => echo || s.Offset >= prompt.Length).ToList();
            choice["logprobs"] = new JsonObject
            {
                ["tokens"] = new JsonArray([.. scored.Select(s => (JsonNode)JsonValue.Create(s.Token < 128 ? ((char)s.Token).ToString() : $"bytes:\\x{s.Token:x2}")!)]),
                ["token_logprobs"] = new JsonArray([.. scored.Select(s => (JsonNode)JsonValue.Create(Math.Round(s.Logprob, 6))!)]),
                ["text_offset"] = new JsonArray([.. scored.Select(s => (JsonNode)JsonValue.Create(s.Offset)!)]),
            };
        }

        await Json(context, 200, new JsonObject
        {
            ["id"] = "cmpl-" + Guid.NewGuid().ToString("N")[..24], ["object"] = "text_completion", ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["model"] = _name,
            ["choices"] = new JsonArray(choice),
            ["usage"] = Usage(prompt, text),
        });
    }

    private async Task Chat(HttpContext context)
    {
        if (await Body(context) is not { } body) return;
        if (body["messages"] is not JsonArray messages || messages.Count == 0)
        {
            await Error(context, "messages", "must be a non-empty array");
            return;
        }

        var conversation = new List<ChatMessage>();
        foreach (var m in messages)
        {
            if (m?["content"] is not JsonValue c || !c.TryGetValue<string>(out var content) || m["role"] is not JsonValue r || !r.TryGetValue<string>(out var role))
            {
                await Error(context, "messages", "each message needs a role and a string content");
                return;
            }

            conversation.Add(new ChatMessage(role, content));
        }

        if (!Settings(body, out var maxTokens, out var temperature, out var field))
        {
            await Error(context, field, "is out of range");
            return;
        }

        var prompt = OnnxTarget.Render(conversation);
        var text = await Task.Run(() => _model.Generate(prompt, maxTokens, temperature, context.RequestAborted), context.RequestAborted);
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N")[..24];
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (body["stream"] is JsonValue s && s.TryGetValue<bool>(out var stream) && stream)
        {
            context.Response.ContentType = "text/event-stream";
            foreach (var chunk in new[]
            {
                new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["role"] = "assistant", ["content"] = text }, ["finish_reason"] = null },
                new JsonObject { ["index"] = 0, ["delta"] = new JsonObject(), ["finish_reason"] = "stop" },
            })
            {
                var data = new JsonObject { ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = created, ["model"] = _name, ["choices"] = new JsonArray(chunk) };
                await context.Response.WriteAsync("data: " + data.ToJsonString() + "\n\n", context.RequestAborted);
            }

            await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
            return;
        }

        await Json(context, 200, new JsonObject
        {
            ["id"] = id, ["object"] = "chat.completion", ["created"] = created, ["model"] = _name,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text }, ["finish_reason"] = "stop" }),
            ["usage"] = Usage(prompt, text),
        });
    }

    private static JsonObject Usage(string prompt, string text)
    {
        int p = Encoding.UTF8.GetByteCount(prompt), c = Encoding.UTF8.GetByteCount(text);
        return new JsonObject { ["prompt_tokens"] = p, ["completion_tokens"] = c, ["total_tokens"] = p + c };
    }

    // max_completion_tokens or max_tokens 0..4096 (default 64), temperature 0..2 (default 1, as OpenAI's).
    private static bool Settings(JsonObject body, out int maxTokens, out double temperature, out string field)
    {
        maxTokens = 64;
        temperature = 1;
        field = body.ContainsKey("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        if (body[field] is JsonValue m && (!m.TryGetValue(out maxTokens) || maxTokens is < 0 or > 4096)) return false;
        field = "temperature";
        return body["temperature"] is not JsonValue t || (t.TryGetValue(out temperature) && temperature is >= 0 and <= 2);
    }

    // Strict UTF-8 and JSON, as the gateway reads a request: a body that is not UTF-8 text is refused with the code
    // invalid_encoding, never parsed with its bad bytes replaced.
    private static async Task<JsonObject?> Body(HttpContext context)
    {
        var (body, code, message) = await Payload.RequestBody.ReadObjectAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
        if (body is not null) return body;
        if (code == Payload.RequestBody.InvalidEncoding)
        {
            await Json(context, 400, new JsonObject { ["error"] = new JsonObject { ["message"] = $"body {message}", ["type"] = "invalid_request_error", ["param"] = "body", ["code"] = code } }).ConfigureAwait(false);
        }
        else
        {
            await Error(context, "body", "must be a JSON object").ConfigureAwait(false);
        }

        return null;
    }

    private static Task Error(HttpContext context, string field, string message) =>
        Json(context, 400, new JsonObject { ["error"] = new JsonObject { ["message"] = $"{field} {message}", ["type"] = "invalid_request_error", ["param"] = field } });

    private static Task Json(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }
}
