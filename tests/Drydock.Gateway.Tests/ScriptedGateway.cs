using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Detection.Analyzers;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Audit;
using Drydock.Gateway.Keys;
using Drydock.Gateway.Operations;
using Drydock.Gateway.Payload;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;

namespace Drydock.Gateway.Tests;

/// <summary>
/// A running gateway in front of a scripted upstream, with keys of the built-in tiers, for tests that send one answer
/// (whole or streamed) through it and read what a client puts together and what the request log holds.
/// </summary>
public sealed class ScriptedGateway : IAsyncDisposable
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
    private readonly TempDir _dir = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMinutes(2) };
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private ApiKeyStore _keys = null!;
    private ProvenanceRegistry? _registry;
    private int _keyCount;

    private ScriptedGateway()
    {
    }

    /// <summary>
    /// Starts the upstream and the gateway (hold-back window of 64 characters, redacted request log); with
    /// <paramref name="canary"/>, that code is a registered canary (the tripwire blocks an answer holding it).
    /// </summary>
    public static async Task<ScriptedGateway> StartAsync(string? canary = null)
    {
        var started = new ScriptedGateway();
        started._upstream = await FakeUpstream.StartAsync();
        started._keys = ApiKeyStore.Open(Path.Combine(started._dir.Path, "keys"));
        var options = new GatewayOptions
        {
            Upstream = new Uri(started._upstream.BaseUrl), StreamWindow = 64, UpstreamTimeout = TimeSpan.FromSeconds(30),
            AuditFolder = Path.Combine(started._dir.Path, "requests"), AuditText = AuditText.Redacted,
        };
        var services = new GatewayServices(started._keys, s_detector);
        if (canary is not null)
        {
            var location = Path.Combine(started._dir.Path, "registry.db");
            started._registry = ProvenanceRegistry.Open(location);
            started._registry.RegisterCanary("tickets", CanaryAnalyzer.Hash(canary), null, "alice");
            services = services with { Operations = new GatewayOperations(ProvenanceRegistry.Open(location), options.Aliases, new ApprovalPolicy([], "confidential"), TimeSpan.FromSeconds(30)) };
        }

        started._gateway = await GatewayHost.StartAsync(options, services, "http://127.0.0.1:0");
        return started;
    }

    /// <summary>A whole chat answer with one choice.</summary>
    public static Scripted Whole(string text, string finish = "stop") => Scripted.Json(new JsonObject
    {
        ["id"] = "c1", ["object"] = "chat.completion", ["model"] = "tiny",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text }, ["finish_reason"] = finish }),
    }.ToJsonString());

    /// <summary>A streamed chat answer: the text in chunks of the given sizes (the last size repeats), then the finish reason.</summary>
    public static Scripted Streamed(string text, int size, string finish = "stop") =>
        Scripted.Stream([.. text.Chunk(size).Select(c => Chunk(new string(c), null)), Chunk("", finish)]);

    /// <summary>A streamed chat answer from the given deltas, then the finish reason.</summary>
    public static Scripted Streamed(IEnumerable<string> deltas, string finish = "stop") =>
        Scripted.Stream([.. deltas.Select(d => Chunk(d, null)), Chunk("", finish)]);

    private static string Chunk(string text, string? finish) => new JsonObject
    {
        ["id"] = "c1", ["object"] = "chat.completion.chunk", ["model"] = "tiny",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["content"] = text }, ["finish_reason"] = finish }),
    }.ToJsonString();

    /// <summary>
    /// Sends a chat request on a new key of <paramref name="tier"/> with <paramref name="script"/> as the upstream's
    /// answer; returns the status, the body and the answer's texts joined (a stream's deltas concatenated; structural
    /// values and names left out). A test looking for a leak checks the body too.
    /// </summary>
    public async Task<(int Status, string Body, string Text)> SendAsync(string tier, Scripted script, bool streamed)
    {
        var (key, _) = _keys.Create($"{tier}-{Interlocked.Increment(ref _keyCount)}", tier, [], null);
        _upstream.Script = script;
        try
        {
            var request = new JsonObject { ["model"] = "tiny", ["stream"] = streamed, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }) };
            using var message = new HttpRequestMessage(HttpMethod.Post, _gateway.Urls[0] + "/v1/chat/completions") { Content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json") };
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await _http.SendAsync(message, TestContext.Current.CancellationToken);
            var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            var text = new StringBuilder();
            var documents = response.Content.Headers.ContentType?.MediaType == "text/event-stream"
                ? body.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal) && l != "data: [DONE]").Select(l => l[6..])
                : [body];
            foreach (var document in documents)
            {
                foreach (var leaf in JsonStrings.Answer(JsonNode.Parse(document)).Where(l => l.Kind == LeafKind.Text)) text.Append(leaf.Value);
            }

            return ((int)response.StatusCode, body, text.ToString());
        }
        finally
        {
            _upstream.Script = null;
        }
    }

    /// <summary>Sends <paramref name="request"/> as written (any shape) to the chat endpoint on a new key of <paramref name="tier"/>, with <paramref name="script"/> as the upstream's answer.</summary>
    public async Task<(int Status, string Body)> SendRequestAsync(string tier, string request, Scripted script)
    {
        var (key, _) = _keys.Create($"{tier}-{Interlocked.Increment(ref _keyCount)}", tier, [], null);
        _upstream.Script = script;
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, _gateway.Urls[0] + "/v1/chat/completions") { Content = new StringContent(request, Encoding.UTF8, "application/json") };
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await _http.SendAsync(message, TestContext.Current.CancellationToken);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }
        finally
        {
            _upstream.Script = null;
        }
    }

    /// <summary>How many incidents the registry holds (0 without a canary registered).</summary>
    public int IncidentCount() => _registry?.Incidents().Count ?? 0;

    /// <summary>The request log as written so far (signals excluded).</summary>
    public async Task<string> AuditLogAsync()
    {
        await _gateway.FlushAuditAsync();
        return string.Concat(await Task.WhenAll(Directory.GetFiles(Path.Combine(_dir.Path, "requests"), "*.jsonl")
            .Where(f => !Path.GetFileName(f).StartsWith("signals-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Select(f => File.ReadAllTextAsync(f))));
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        _registry?.Dispose();
        _dir.Dispose();
    }
}
