using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Detection;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Keys;
using Drydock.Tests.Shared;

namespace Drydock.Gateway.Tests;

/// <summary>
/// A top-level field whose name reads like a path into the choices (<c>"choices[0]"</c>) was skipped by the guards as if
/// it were inside the choices list, and went out raw: whole answers, error bodies and stream chunks. The running
/// gateway, with a scripted upstream, on an <c>internal</c> key (output redact) and a <c>public</c> key (output block).
/// </summary>
public sealed partial class PathNamedFieldTests : IAsyncLifetime
{
    private const string Key = "AKIAGNSUV3QBWQSDXU6S";
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);

    private readonly TempDir _dir = new();
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private ApiKeyStore _keys = null!;
    private readonly HttpClient _http = new();

    private const string Choices = "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}]";

    public static TheoryData<string, int, string> Whole() => new()
    {
        { "internal", 200, """{"id":"c1","object":"chat.completion","created":1,"model":"m",""" + Choices + ""","choices[0]":"key """ + Key + "\"}" },
        { "public", 200, """{"id":"c1","object":"chat.completion","created":1,"model":"m",""" + Choices + ""","choices[0]":"key """ + Key + "\"}" },
        { "internal", 200, """{"id":"c1","object":"chat.completion","created":1,"model":"m",""" + Choices + ""","choices[x]":{"note":"key """ + Key + "\"}}" },
        { "public", 200, """{"id":"c1","object":"chat.completion","created":1,"model":"m",""" + Choices + ""","choices[x]":{"note":"key """ + Key + "\"}}" },
        { "internal", 400, """{"error":{"message":"x"},"choices[e]":"key """ + Key + "\"}" },
        { "public", 400, """{"error":{"message":"x"},"choices[e]":"key """ + Key + "\"}" },
        { "internal", 200, """{"id":"c1","object":"chat.completion","created":1,"model":"m",""" + Choices + ""","choices.x":["key """ + Key + "\"]}" },
    };

    [Theory]
    [MemberData(nameof(Whole))]
    public async Task AFieldNamedLikeAPathIntoTheChoices_IsGuardedInAWholeAnswer(string tier, int upstreamStatus, string json)
    {
        var (key, _) = _keys.Create("whole" + tier + json.GetHashCode(StringComparison.Ordinal), tier, [], null);
        _upstream.Script = Scripted.Json(json, upstreamStatus);
        var (_, body) = await Send(key, streamed: false);
        _upstream.Script = null;
        Assert.DoesNotContain(Key, body, StringComparison.Ordinal);
        Assert.DoesNotContain("GNSUV3QBWQ", body, StringComparison.Ordinal);
        // Guarded, not dropped: the answer still comes (redacted or with the blocked notice in that field).
        Assert.Matches(@"""choices[\[.]", body);
    }

    [Theory]
    [InlineData("internal")]
    [InlineData("public")]
    public async Task AFieldNamedLikeAPathIntoTheChoices_IsGuardedInAStreamChunk(string tier)
    {
        var (key, _) = _keys.Create("streamed" + tier, tier, [], null);
        _upstream.Script = Scripted.Stream([
            """{"id":"c1","object":"chat.completion.chunk","model":"tiny","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}""",
            """{"id":"c1","object":"chat.completion.chunk","model":"tiny","choices":[],"choices[0]":"key """ + Key + "\"}",
            """{"id":"c1","object":"chat.completion.chunk","model":"tiny","choices":[{"index":0,"delta":{"content":" there"},"finish_reason":"stop"}],"choices[1]":{"delta":{"content":"key """ + Key + "\"}}}"]);
        var (status, body) = await Send(key, streamed: true);
        _upstream.Script = null;
        Assert.Equal(200, status);
        Assert.DoesNotContain(Key, body, StringComparison.Ordinal);
        Assert.DoesNotContain("GNSUV3QBWQ", body, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
    }

    private const string Card = "4539148803436467";

    public static TheoryData<string, string> CardNumbers() => new()
    {
        { "internal", """{"id":"c1","object":"chat.completion","created":1,"model":"m",""" + Choices + ""","x_card":""" + Card + "}" },
        { "public", """{"id":"c1","object":"chat.completion","created":1,"model":"m",""" + Choices + ""","x_card":""" + Card + "}" },
        { "internal", """{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi","card_number":""" + Card + """},"finish_reason":"stop"}]}""" },
        { "public", """{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi","card_number":""" + Card + """},"finish_reason":"stop"}]}""" },
        { "internal", """{"id":"c1","object":"chat.completion","created":1,"model":"m",""" + Choices + ""","cards":[1,""" + Card + "]}" },
    };

    /// <summary>A card number sent as a JSON number, not a string, was never read. It cannot be redacted in place: the answer is refused.</summary>
    [Theory]
    [MemberData(nameof(CardNumbers))]
    public async Task ACardNumberSentAsAJsonNumber_RefusesTheWholeAnswer(string tier, string json)
    {
        var (key, _) = _keys.Create("card" + tier + json.GetHashCode(StringComparison.Ordinal), tier, [], null);
        _upstream.Script = Scripted.Json(json);
        var (status, body) = await Send(key, streamed: false);
        _upstream.Script = null;
        Assert.Equal(502, status);
        Assert.Contains("output_blocked", body, StringComparison.Ordinal);
        Assert.DoesNotContain("4539148803", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACardNumberSentAsAJsonNumber_EndsAStream()
    {
        var (key, _) = _keys.Create("card-streamed", "internal", [], null);
        _upstream.Script = Scripted.Stream([
            """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"tiny","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}""",
            """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"tiny","choices":[{"index":0,"delta":{"content":" there","card_number":""" + Card + """},"finish_reason":"stop"}]}"""]);
        var (status, body) = await Send(key, streamed: true);
        _upstream.Script = null;
        Assert.Equal(200, status);
        Assert.Contains("\"error\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("4539148803", body, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
    }

    /// <summary>Structural numbers (index, created, usage counts) are not text: an ordinary answer with them goes out.</summary>
    [Fact]
    public async Task StructuralNumbers_StillGoOut()
    {
        var (key, _) = _keys.Create("numbers-ok", "internal", [], null);
        _upstream.Script = Scripted.Json("""{"id":"c1","object":"chat.completion","created":1733000000,"model":"m",""" + Choices
            + ""","usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15},"x_score":0.5}""");
        var (status, body) = await Send(key, streamed: false);
        _upstream.Script = null;
        Assert.Equal(200, status);
        Assert.Contains("1733000000", body, StringComparison.Ordinal);
        Assert.Contains("\"total_tokens\":15", body, StringComparison.Ordinal);
    }

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _keys = ApiKeyStore.Open(Path.Combine(_dir.Path, "keys"));
        var options = new GatewayOptions { Upstream = new Uri(_upstream.BaseUrl), StreamWindow = 64, UpstreamTimeout = TimeSpan.FromSeconds(5) };
        _gateway = await GatewayHost.StartAsync(options, new GatewayServices(_keys, s_detector), "http://127.0.0.1:0");
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        _dir.Dispose();
    }

    private async Task<(int Status, string Body)> Send(string key, bool streamed)
    {
        var request = new JsonObject { ["model"] = "tiny", ["stream"] = streamed, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }) };
        using var message = new HttpRequestMessage(HttpMethod.Post, _gateway.Urls[0] + "/v1/chat/completions") { Content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json") };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _http.SendAsync(message, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
