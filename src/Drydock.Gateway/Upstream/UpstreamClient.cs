using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Drydock.Gateway.Upstream;

/// <summary>
/// The client of the one upstream model server: forwards a request and hands back its answer, or answers the client
/// itself (502 unreachable, 504 timeout, 502 not JSON) and hands back null.
/// </summary>
internal sealed class UpstreamClient(Uri baseUri, TimeSpan timeout) : IDisposable
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>An answer or a chunk with a key given twice is malformed, never read (JsonObject throws on it later).</summary>
    internal static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false };
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false }) { Timeout = timeout };

    /// <summary>Forwards to the upstream's <paramref name="path"/>; on failure answers the client 502/504 and returns null.</summary>
    public async Task<HttpResponseMessage?> ForwardAsync(HttpContext context, HttpMethod method, string path, JsonNode? body)
    {
        using var message = new HttpRequestMessage(method, Address(path));
        if (body is not null) message.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        try
        {
            return await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            await GatewayHost.Error(context, 502, "upstream_unreachable", "the model server could not be reached").ConfigureAwait(false);
        }
        catch (TaskCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            await GatewayHost.Error(context, 504, "upstream_timeout", "the model server did not answer in time").ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>True when the upstream lists its models within two seconds (readiness).</summary>
    public async Task<bool> ListsModelsAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            using var response = await _http.GetAsync(Address("models"), timeout.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// The upstream's answer as JSON, decoded as strict UTF-8 (an invalid byte is never turned into U+FFFD and passed on);
    /// on anything else (a compressed body, a content type that is not JSON, bytes that are not UTF-8, text that is not
    /// JSON) answers the client 502 and returns null.
    /// </summary>
    public static async Task<JsonNode?> ReadJsonAsync(HttpContext context, HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        if (Unreadable(response) is { } why)
        {
            await GatewayHost.Error(context, 502, "upstream_malformed", $"the model server answered {status} with {why}").ConfigureAwait(false);
            return null;
        }

        try
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(context.RequestAborted).ConfigureAwait(false);
            var node = JsonNode.Parse(s_strictUtf8.GetString(bytes), documentOptions: StrictJson) ?? throw new JsonException("empty");
            if (Payload.JsonStrings.IsText(node)) return node;

            // A string or a field name that escapes a lone surrogate ("\ud800") cannot be read as text, nor guarded.
            await GatewayHost.Error(context, 502, "upstream_malformed", $"the model server answered {status} with a string that is not text").ConfigureAwait(false);
            return null;
        }
        catch (DecoderFallbackException)
        {
            await GatewayHost.Error(context, 502, "upstream_malformed", $"the model server answered {status} with bytes that are not UTF-8").ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            await GatewayHost.Error(context, 502, "upstream_malformed", $"the model server answered {status} with something that is not JSON").ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>Why the gateway cannot read this answer's body (an encoding or a content type it does not know), or null.</summary>
    public static string? Unreadable(HttpResponseMessage response)
    {
        if (response.Content.Headers.ContentEncoding.Any(e => !e.Equals("identity", StringComparison.OrdinalIgnoreCase))) return $"a body in an encoding the gateway does not decode ({string.Join(",", response.Content.Headers.ContentEncoding)})";
        var type = response.Content.Headers.ContentType;
        var media = type?.MediaType;
        if (media is not null && media != "application/json" && !media.EndsWith("+json", StringComparison.Ordinal) && media != "text/event-stream") return "a content type the gateway does not read";
        if (type?.CharSet is { } charset && !charset.Trim('"').Equals("utf-8", StringComparison.OrdinalIgnoreCase)) return "a character set other than UTF-8";
        return null;
    }

    public void Dispose() => _http.Dispose();

    private Uri Address(string path) => new(baseUri.ToString().TrimEnd('/') + "/" + path);
}
