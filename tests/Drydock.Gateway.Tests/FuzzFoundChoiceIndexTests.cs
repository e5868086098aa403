using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Detection;
using Drydock.Detection.Analyzers;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Guards;
using Drydock.Gateway.Keys;
using Drydock.Gateway.Payload;
using Drydock.Tests.Shared;

namespace Drydock.Gateway.Tests;

/// <summary>
/// Found by the gateway-answer fuzz target (bench/fuzz/corpus/gateway-answer/leak-choice-index-object-*.json): a choice
/// whose <c>index</c> is an object holding text. The choice was blocked for its content and replaced by the blocked
/// notice, which copied the <c>index</c> as it was, so the answer still held an e-mail address (fail-open). A choice's
/// index that is not a whole number is now a shape the guard cannot read: the answer (or the stream) is refused.
/// </summary>
public sealed class FuzzFoundChoiceIndexTests : IAsyncLifetime
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
    private static readonly TextGuard s_guard = new(s_detector);
    private static readonly Tier s_tier = new("t", ["*"], 4096, true, GuardMode.Block, GuardMode.Redact, 600, 200_000);

    private readonly TempDir _dir = new();
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private ApiKeyStore _keys = null!;
    private readonly HttpClient _http = new();

    // The three fuzz inputs as found (DEL written as a JSON escape; the parsed answers are the same).
    public static TheoryData<string> Found() => new()
    {
        """{"id": "c1", "\bjeEt": "chat.completion", "ced": 1, "model": "m", "choices": [{"index":{"rnle": "ae@acme-mail.cox, key ssant", "content": "maih\u007fjane@acme-wail.cox,IAIOSFODNN7Email.IEXAMPLE"}, "logprobs": {"ent": []}, "finish_reason": "stop"}], "usage": {"total_touens": 9}}""",
        """{"id": "c1", "\bjeEt": "chat.completion",	"ced": 1, "model": "m", "choices": [{"index": {"rnle": "ae@acme-mail.cox, key ssant", "content": "maih\u007fjane@acme-wail.cox,I@IOSFODNN7Email.IEXAMPLE"}, "logprobs": {"ent": []}, "iinish_reason": "stop"}], "usage": {"total_tokens": 9}}""",
        """{"id": "c1", "\bjeEt": "chat.completion", "ced": 1, "model": "m", "choices": [{"index": {"rnle": "ae@t", "content": "mail+jane@acme-mail.com, key AKIAIOSFODNN7Email.IEXAMPLE"}, "logprobs": {"ent": []}, "finish_reason": "stop"}], "usage": {"total_tokens": 9}}""",
    };

    [Theory]
    [MemberData(nameof(Found))]
    public void AnAnswerWithAChoiceIndexThatIsNotANumber_IsRefused(string json)
    {
        var body = JsonNode.Parse(json)!;
        var refused = WholeAnswerGuard.Guard(s_guard, body, chat: true, new GuardedAnswer(s_tier, new CanaryAnalyzer([])));
        Assert.NotNull(refused);
        Assert.Contains("index", refused, StringComparison.Ordinal);
    }

    public static TheoryData<string> Indexes() => new() { "\"0\"", "-1", "1.5", "[0]", "{\"content\":\"jane@acme-mail.com\"}" };

    [Theory]
    [MemberData(nameof(Indexes))]
    public async Task TheRunningGateway_RefusesAnAnswerWhoseChoiceIndexIsNotAWholeNumber(string index)
    {
        var (key, _) = _keys.Create("index" + index.GetHashCode(StringComparison.Ordinal), "internal", [], null);
        _upstream.Script = Scripted.Json("""{"id":"c1","object":"chat.completion","model":"tiny","choices":[{"index":""" + index
            + ""","message":{"role":"assistant","content":"mail jane@acme-mail.com"},"finish_reason":"stop"}]}""");
        var (status, body) = await Send(key, streamed: false);
        _upstream.Script = null;
        Assert.Equal(502, status);
        Assert.DoesNotContain("acme-mail", body, StringComparison.Ordinal);
        Assert.Contains("index", body, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Found))]
    public async Task TheRunningGateway_LeavesNoAddressFromTheFuzzInputs(string json)
    {
        var (key, _) = _keys.Create("found" + json.GetHashCode(StringComparison.Ordinal), "internal", [], null);
        _upstream.Script = Scripted.Json(json);
        var (status, body) = await Send(key, streamed: false);
        _upstream.Script = null;
        Assert.Equal(502, status);
        Assert.DoesNotContain("@", body, StringComparison.Ordinal);
        Assert.DoesNotContain("IOSFODNN7", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheRunningGateway_EndsAStreamWhoseChoiceIndexIsAnObject()
    {
        var (key, _) = _keys.Create("streamed-index", "internal", [], null);
        _upstream.Script = Scripted.Stream([
            """{"id":"c1","object":"chat.completion.chunk","model":"tiny","choices":[{"index":0,"delta":{"content":"Hello "},"finish_reason":null}]}""",
            """{"id":"c1","object":"chat.completion.chunk","model":"tiny","choices":[{"index":{"rnle":"jane@acme-mail.com"},"delta":{"content":"there"},"finish_reason":"stop"}]}"""]);
        var (status, body) = await Send(key, streamed: true);
        _upstream.Script = null;
        Assert.Equal(200, status);
        Assert.Contains("\"upstream_error\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("acme-mail", body, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
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
