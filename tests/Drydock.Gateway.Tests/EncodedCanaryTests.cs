using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Detection.Analyzers;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Keys;
using Drydock.Gateway.Operations;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;

namespace Drydock.Gateway.Tests;

/// <summary>
/// A registered canary the model writes encoded (base64, base64 wrapped across MIME lines of 76 characters, base64
/// right after a URL's path, hex, hex pairs with spaces, spaced out) passed the tripwire: canaries were looked for only
/// in the text as written. The running gateway with a registry and a scripted upstream, whole and streamed: the answer
/// is blocked, a canary-leak incident is opened for each, and no form of the code reaches the client.
/// </summary>
public sealed partial class EncodedCanaryTests : IAsyncLifetime
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
    private static readonly ApprovalPolicy s_policy = new(["security-reviewer"], "confidential");
    private readonly TempDir _dir = new();
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private ApiKeyStore _keys = null!;
    private ProvenanceRegistry _registry = null!;
    private readonly HttpClient _http = new();
    private string _canary = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _keys = ApiKeyStore.Open(Path.Combine(_dir.Path, "keys"));
        var location = Path.Combine(_dir.Path, "registry.db");
        _registry = ProvenanceRegistry.Open(location);
        _canary = CanaryAnalyzer.NewValue();
        _registry.RegisterCanary("tickets v3", CanaryAnalyzer.Hash(_canary), null, "alice");
        var options = new GatewayOptions { Upstream = new Uri(_upstream.BaseUrl), StreamWindow = 32, UpstreamTimeout = TimeSpan.FromSeconds(5) };
        var operations = new GatewayOperations(ProvenanceRegistry.Open(location), options.Aliases, s_policy, TimeSpan.FromMilliseconds(200));
        _gateway = await GatewayHost.StartAsync(options, new GatewayServices(_keys, s_detector) { Operations = operations }, "http://127.0.0.1:0");
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        _registry.Dispose();
        _dir.Dispose();
    }

    // The note the canary sits in: its code runs from byte 50 to 63, across the end of MIME's first line of base64 (57 bytes).
    private string Note => $"Ticket 44712: reset of the billing profile. Code: {_canary}. Escalated to tier two on Monday.";

    private string Encode(string encoding)
    {
        var bytes = Encoding.UTF8.GetBytes(encoding is "base64-mime" or "base64-path" ? Note : _canary);
        return encoding switch
        {
            "base64" => "Here it is: " + Convert.ToBase64String(bytes),
            "base64-mime" => "Attachment:\r\n" + Convert.ToBase64String(bytes, Base64FormattingOptions.InsertLineBreaks) + "\r\nEnd.",
            "base64-path" => "Download https://files.example.com/dl/" + Convert.ToBase64String(bytes).TrimEnd('=') + " today",
            "hex" => "Here it is: " + Convert.ToHexString(bytes).ToLowerInvariant(),
            "hex-spaced" => "Here it is: " + string.Join(' ', bytes.Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture))),
            "spaced" => "Here it is: " + string.Join(' ', _canary.Replace("-", "", StringComparison.Ordinal).ToCharArray()),
            _ => throw new ArgumentException(encoding),
        };
    }

    public static TheoryData<string, bool> Encodings() => new()
    {
        { "base64", false }, { "base64", true }, { "base64-mime", false }, { "base64-mime", true }, { "base64-path", false }, { "base64-path", true },
        { "hex", false }, { "hex", true }, { "hex-spaced", false }, { "hex-spaced", true }, { "spaced", false }, { "spaced", true },
    };

    [Theory]
    [MemberData(nameof(Encodings))]
    public async Task AnEncodedCanary_BlocksTheAnswer_AndOpensAnIncident(string encoding, bool streamed)
    {
        var (key, _) = _keys.Create(encoding + streamed, "internal", [], null);
        var text = Encode(encoding);
        Assert.True(encoding == "spaced" || !text.Contains(_canary, StringComparison.Ordinal));
        _upstream.Script = streamed
            ? Scripted.Stream([.. text.Chunk(9).Select(c => Chunk(new string(c), null)), Chunk("", "stop")])
            : Scripted.Json(new JsonObject
            {
                ["id"] = "c1", ["object"] = "chat.completion", ["model"] = "tiny",
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text }, ["finish_reason"] = "stop" }),
            }.ToJsonString());
        var before = _registry.Incidents().Count;
        var (status, body) = await Send(key, streamed);
        _upstream.Script = null;
        Assert.True(status == 200, $"{status} {body}");
        Assert.Contains("content_filter", body, StringComparison.Ordinal);
        var encoded = text[(text.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        Assert.DoesNotContain(encoded.Length > 40 ? encoded[..40] : encoded, body, StringComparison.Ordinal);
        var incidents = _registry.Incidents();
        Assert.True(incidents.Count == before + 1, $"{encoding} {(streamed ? "streamed" : "whole")}: {incidents.Count - before} incidents opened");
        Assert.Equal("canary-leak", incidents[^1][0].Kind);
    }

    private static string Chunk(string text, string? finish) => new JsonObject
    {
        ["id"] = "c1", ["object"] = "chat.completion.chunk", ["model"] = "tiny",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["content"] = text }, ["finish_reason"] = finish }),
    }.ToJsonString();

    private async Task<(int Status, string Body)> Send(string key, bool streamed)
    {
        var request = new JsonObject { ["model"] = "tiny", ["stream"] = streamed, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }) };
        using var message = new HttpRequestMessage(HttpMethod.Post, _gateway.Urls[0] + "/v1/chat/completions") { Content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json") };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _http.SendAsync(message, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
