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
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = timeout };

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

    /// <summary>The upstream's answer as JSON; on anything else answers the client 502 and returns null.</summary>
    public static async Task<JsonNode?> ReadJsonAsync(HttpContext context, HttpResponseMessage response)
    {
        try
        {
            var body = await response.Content.ReadAsStringAsync(context.RequestAborted).ConfigureAwait(false);
            return JsonNode.Parse(body) ?? throw new JsonException("empty");
        }
        catch (JsonException)
        {
            await GatewayHost.Error(context, 502, "upstream_malformed", $"the model server answered {(int)response.StatusCode} with something that is not JSON").ConfigureAwait(false);
            return null;
        }
    }

    public void Dispose() => _http.Dispose();

    private Uri Address(string path) => new(baseUri.ToString().TrimEnd('/') + "/" + path);
}
