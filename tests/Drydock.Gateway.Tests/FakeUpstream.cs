using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Drydock.Gateway.Tests;

/// <summary>
/// A scripted OpenAI-compatible model server: the last user message says what to do. "LEAK" answers with an email
/// and an AWS key; "SPLIT:n" streams that answer in two chunks split at character n; "MALFORMED" answers with text
/// that is not JSON; "SLOW" waits 5 s; "SAY:text" answers with the text after it; "TOOL" answers with a tool call
/// whose arguments hold the email and the key (streamed split at "SPLIT:n" of the arguments); "PARTS" answers the leak
/// as content parts (an array of text parts, as some servers do). Anything else is echoed.
/// With "logprobs": true every answer carries its tokens' log probabilities; a stream with
/// stream_options.include_usage ends with a usage chunk that has no choices. "DRIP:n" streams n chunks of "tick ",
/// 100 ms apart; "STALL" sends the start of its answer (the first chunk of a stream, or half a JSON body) and then
/// nothing for a minute. It counts the requests it sees, keeps the last one, and answers with the model it was asked for.
/// While <see cref="Script"/> is set, every
/// completion request (chat or not) is answered with it instead: its status, content type and body, written part by
/// part with a flush after each (a stream's chunks as the test wrote them, invalid UTF-8 included).
/// </summary>
public sealed class FakeUpstream : IAsyncDisposable
{
    public const string Email = "maria.gonzalez@fastmail.com";
    public const string AwsKey = "AKIAQ3EGRL5TFZ6XW7NB";
    public static readonly string Leak = $"Contact {Email} and use key {AwsKey} for the bucket.";
    public static readonly string ToolArguments = $$"""{"to":"{{Email}}","subject":"access","body":"use key {{AwsKey}} for the bucket"}""";

    private readonly WebApplication _app;
    private int _requests;
    private JsonNode? _last;

    private FakeUpstream(WebApplication app) => _app = app;

    public int Requests => _requests;

    /// <summary>The last request as the upstream received it.</summary>
    public JsonNode? LastRequest => Volatile.Read(ref _last);

    /// <summary>The answer to every completion request while set (a scripted upstream).</summary>
    public Scripted? Script { get; set; }

    /// <summary>The model list it answers with while set.</summary>
    public string? Models { get; set; }

    public string BaseUrl => _app.Urls.First() + "/v1";

    public static async Task<FakeUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var upstream = new FakeUpstream(app);
        app.MapGet("/v1/models", (RequestDelegate)(context => context.Response.WriteAsync(upstream.Models ?? """{"object":"list","data":[{"id":"tiny","object":"model"},{"id":"large","object":"model"}]}""")));
        app.MapPost("/v1/chat/completions", (RequestDelegate)upstream.Chat);
        app.MapPost("/v1/completions", (RequestDelegate)(context => upstream.Script is { } script ? upstream.AnswerScripted(context, script) : context.Response.WriteAsync("{}")));
        await app.StartAsync();
        return upstream;
    }

    private async Task AnswerScripted(HttpContext context, Scripted script)
    {
        Interlocked.Increment(ref _requests);
        context.Response.StatusCode = script.Status;
        context.Response.ContentType = script.ContentType;
        if (script.Encoding is not null) context.Response.Headers.ContentEncoding = script.Encoding;
        if (script.Location is not null) context.Response.Headers.Location = script.Location;
        foreach (var part in script.Parts)
        {
            await context.Response.Body.WriteAsync(part);
            await context.Response.Body.FlushAsync();
        }
    }

    private async Task Chat(HttpContext context)
    {
        if (Script is { } script)
        {
            await AnswerScripted(context, script);
            return;
        }

        Interlocked.Increment(ref _requests);
        var request = (await JsonNode.ParseAsync(context.Request.Body))!;
        Volatile.Write(ref _last, request.DeepClone());
        var last = request["messages"]!.AsArray().Last()!["content"]!.ToString();
        var stream = request["stream"]?.GetValue<bool>() == true;
        var model = request["model"]!.ToString();
        if (last.Contains("MALFORMED", StringComparison.Ordinal)) { await context.Response.WriteAsync("<html>oops</html>"); return; }
        if (last.Contains("SLOW", StringComparison.Ordinal)) await Task.Delay(5000, context.RequestAborted);
        if (last.Contains("TOOL", StringComparison.Ordinal)) { await Tool(context, model, stream, last); return; }
        if (last.Contains("DRIP:", StringComparison.Ordinal) || last.Contains("STALL", StringComparison.Ordinal)) { await Drip(context, model, stream, last); return; }
        if (last.Contains("PARTS", StringComparison.Ordinal)) { await Parts(context, model, stream); return; }
        var say = last.IndexOf("SAY:", StringComparison.Ordinal);
        var answer = say >= 0 ? last[(say + 4)..] : last.Contains("LEAK", StringComparison.Ordinal) || last.Contains("SPLIT:", StringComparison.Ordinal) ? Leak : "echo: " + last;
        var logprobs = request["logprobs"]?.GetValue<bool>() == true;
        object? Tokens(string text) => logprobs ? new { content = text.Split(' ').Select(t => new { token = t, logprob = -0.1, bytes = (int[]?)null, top_logprobs = Array.Empty<object>() }).ToArray() } : null;
        if (!stream)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(new
            {
                id = "chatcmpl-1", @object = "chat.completion", created = 1_700_000_000, model,
                choices = new[] { new { index = 0, message = new { role = "assistant", content = answer }, logprobs = Tokens(answer), finish_reason = "stop" } },
                usage = new { prompt_tokens = 5, completion_tokens = 9, total_tokens = 14 },
            }));
            return;
        }

        var split = last.Contains("SPLIT:", StringComparison.Ordinal) ? int.Parse(last[(last.IndexOf("SPLIT:", StringComparison.Ordinal) + 6)..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) : answer.Length / 2;
        context.Response.ContentType = "text/event-stream";
        async Task Chunk(object delta, string? finish, string text = "")
        {
            var json = JsonSerializer.Serialize(new { id = "chatcmpl-1", @object = "chat.completion.chunk", created = 1_700_000_000, model, choices = new[] { new { index = 0, delta, logprobs = Tokens(text), finish_reason = finish } } });
            await context.Response.WriteAsync($"data: {json}\n\n");
            await context.Response.Body.FlushAsync();
        }

        await Chunk(new { role = "assistant", content = "" }, null);
        await Chunk(new { content = answer[..split] }, null, answer[..split]);
        await Chunk(new { content = answer[split..] }, null, answer[split..]);
        await Chunk(new { }, "stop");
        if (request["stream_options"]?["include_usage"]?.GetValue<bool>() == true)
        {
            var usage = JsonSerializer.Serialize(new { id = "chatcmpl-1", @object = "chat.completion.chunk", created = 1_700_000_000, model, choices = Array.Empty<object>(), usage = new { prompt_tokens = 5, completion_tokens = 9, total_tokens = 14 } });
            await context.Response.WriteAsync($"data: {usage}\n\n");
        }

        await context.Response.WriteAsync("data: [DONE]\n\n");
    }

    private static async Task Drip(HttpContext context, string model, bool stream, string last)
    {
        var stall = last.Contains("STALL", StringComparison.Ordinal);
        var count = stall ? 1 : int.Parse(last[(last.IndexOf("DRIP:", StringComparison.Ordinal) + 5)..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        if (!stream)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"id":"chatcmpl-1","object":"chat.completion","model":""" + JsonSerializer.Serialize(model) + ",");
            await context.Response.Body.FlushAsync();
            await Task.Delay(60_000, context.RequestAborted);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        for (var i = 0; i < count; i++)
        {
            var json = JsonSerializer.Serialize(new { id = "chatcmpl-1", @object = "chat.completion.chunk", created = 1_700_000_000, model, choices = new[] { new { index = 0, delta = new { content = "tick " }, finish_reason = (string?)null } } });
            await context.Response.WriteAsync($"data: {json}\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(stall ? 60_000 : 100, context.RequestAborted);
        }

        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
    }

    private static async Task Parts(HttpContext context, string model, bool stream)
    {
        var content = new[] { new { type = "text", text = "Here you go. " }, new { type = "text", text = Leak } };
        if (!stream)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(new
            {
                id = "chatcmpl-1", @object = "chat.completion", created = 1_700_000_000, model,
                choices = new[] { new { index = 0, finish_reason = "stop", message = new { role = "assistant", content } } },
            }));
            return;
        }

        context.Response.ContentType = "text/event-stream";
        var json = JsonSerializer.Serialize(new { id = "chatcmpl-1", @object = "chat.completion.chunk", created = 1_700_000_000, model, choices = new[] { new { index = 0, delta = new { content }, finish_reason = (string?)null } } });
        await context.Response.WriteAsync($"data: {json}\n\ndata: [DONE]\n\n");
    }

    private static async Task Tool(HttpContext context, string model, bool stream, string last)
    {
        if (!stream)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(new
            {
                id = "chatcmpl-1", @object = "chat.completion", created = 1_700_000_000, model,
                choices = new[]
                {
                    new
                    {
                        index = 0, finish_reason = "tool_calls",
                        message = new { role = "assistant", content = (string?)null, tool_calls = new[] { new { id = "call_1", type = "function", function = new { name = "send_email", arguments = ToolArguments } } } },
                    },
                },
            }));
            return;
        }

        var split = last.Contains("SPLIT:", StringComparison.Ordinal) ? int.Parse(last[(last.IndexOf("SPLIT:", StringComparison.Ordinal) + 6)..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) : ToolArguments.Length / 2;
        context.Response.ContentType = "text/event-stream";
        async Task Chunk(object delta, string? finish)
        {
            var json = JsonSerializer.Serialize(new { id = "chatcmpl-1", @object = "chat.completion.chunk", created = 1_700_000_000, model, choices = new[] { new { index = 0, delta, finish_reason = finish } } });
            await context.Response.WriteAsync($"data: {json}\n\n");
            await context.Response.Body.FlushAsync();
        }

        await Chunk(new { role = "assistant", tool_calls = new[] { new { index = 0, id = "call_1", type = "function", function = new { name = "send_email", arguments = "" } } } }, null);
        await Chunk(new { tool_calls = new[] { new { index = 0, function = new { arguments = ToolArguments[..split] } } } }, null);
        await Chunk(new { tool_calls = new[] { new { index = 0, function = new { arguments = ToolArguments[split..] } } } }, null);
        await Chunk(new { }, "tool_calls");
        await context.Response.WriteAsync("data: [DONE]\n\n");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>A scripted answer: status, content type, and the body in parts (one flush after each).</summary>
public sealed record Scripted(int Status, string ContentType, IReadOnlyList<byte[]> Parts)
{
    /// <summary>A Content-Encoding header to send (the body is not encoded), or null.</summary>
    public string? Encoding { get; init; }

    /// <summary>A Location header to send (a redirect), or null.</summary>
    public string? Location { get; init; }

    /// <summary>A whole JSON body.</summary>
    public static Scripted Json(string body, int status = 200) => new(status, "application/json", [System.Text.Encoding.UTF8.GetBytes(body)]);

    /// <summary>A stream of server-sent events, one per chunk, then [DONE].</summary>
    public static Scripted Stream(IEnumerable<string> chunks) =>
        new(200, "text/event-stream", [.. chunks.Select(c => System.Text.Encoding.UTF8.GetBytes($"data: {c}\n\n")), "data: [DONE]\n\n"u8.ToArray()]);
}
