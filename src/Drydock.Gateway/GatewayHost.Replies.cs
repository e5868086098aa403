using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Drydock.Gateway;

// Replies to the client: JSON bodies, OpenAI-style error bodies, server-sent events.
public sealed partial class GatewayHost
{
    internal static async Task Json(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }

    // An OpenAI-style error body; once the answer has started nothing more can be said, and the status is only returned.
    internal static async Task<int> Error(HttpContext context, int status, string code, string message)
    {
        if (context.Response.HasStarted) return status;
        var body = new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = status >= 500 ? "upstream_error" : "invalid_request_error", ["code"] = code } };
        await Json(context, status, body).ConfigureAwait(false);
        return status;
    }

    // One server-sent event to the client, flushed at once.
    internal static async Task SendEventAsync(HttpContext context, JsonNode chunk)
    {
        await context.Response.WriteAsync("data: " + chunk.ToJsonString() + "\n\n", context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
