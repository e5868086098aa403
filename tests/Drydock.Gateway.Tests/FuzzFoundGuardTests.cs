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
using Microsoft.AspNetCore.Http;

namespace Drydock.Gateway.Tests;

/// <summary>
/// Found by the gateway-answer and gateway-stream fuzz targets. An answer holding two overlapping address-like runs
/// (<c>jane@scme-mail.co%%%%72me-m@il.LE</c>): redacting the first joined what was around it into a second address, so a
/// redacted answer still held an e-mail address (fail-open); the redacted text is now judged again until nothing is
/// found. A stream chunk with a field name that reads as a path (<c>[ool_calls</c>), or a later chunk shaped unlike the
/// text's path (a number where the path needs an object), threw FormatException, ArgumentOutOfRangeException or
/// InvalidCastException from the relay (an unhandled exception, no end event); such a stream now ends with the error
/// event and <c>[DONE]</c>. Unit cases with the minimised inputs, then the running gateway with a scripted upstream.
/// </summary>
public sealed class FuzzFoundGuardTests : IAsyncLifetime
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
    private static readonly TextGuard s_guard = new(s_detector);
    private static readonly Tier s_tier = new("t", ["*"], 4096, true, GuardMode.Block, GuardMode.Redact, 600, 200_000);

    private readonly TempDir _dir = new();
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private ApiKeyStore _keys = null!;
    private readonly HttpClient _http = new();

    public static TheoryData<string> OverlappingAddresses() => new()
    {
        "mail jane@scme-mail.co%%%%%%%%%%%%72me-m@il.LE",
        "maildjane@scme-mail.comk%%%%%%%%%%%%%%%72me-m@il.LE",
        "mail jane@acme-mail.uom, key AKGAIOSFOD.N7Eme-m@il.comAKIABOSFODNN7EUAMPLE",
        "mail jane@acme-mail.cfinich_rAKGAIOSFOD.N7Eme-m@il.com, key AKIAane@acme-mail.com,e@acme-mail.com, key  key BOSFODNN7EUAMPLE",
    };

    [Theory]
    [MemberData(nameof(OverlappingAddresses))]
    public void ARedactedAnswer_HoldsNothingASecondPassWouldFind(string text)
    {
        var once = s_guard.Output(text, GuardMode.Redact);
        Assert.NotEmpty(once.Findings);
        if (once.Blocked) return;
        var again = s_guard.Output(once.Text, GuardMode.Block);
        Assert.False(again.Blocked, $"{once.Text}: {string.Join(",", again.Findings.Select(f => f.Type))}");
        Assert.Empty(again.Findings);
    }

    [Theory]
    [MemberData(nameof(OverlappingAddresses))]
    public void AStreamGuard_SendsNothingASecondPassWouldFind(string text)
    {
        foreach (var size in new[] { 1, 5, 64 })
        {
            var stream = new StreamGuard(s_guard, GuardMode.Redact, 16);
            var sent = string.Concat(text.Chunk(size).Select(c => stream.Push(new string(c)))) + stream.Flush();
            var again = s_guard.Output(sent, GuardMode.Block);
            Assert.False(again.Blocked, $"{size}: {sent}: {string.Join(",", again.Findings.Select(f => f.Type))}");
        }
    }

    // The minimised streams: a field name with a bracket, a broken path segment, a choice whose "index" is an object
    // (its text's path then runs through the number the gateway writes), and a later chunk with a number where the
    // earlier chunk's text path needs an object.
    public static TheoryData<string> MalformedStreams() => new()
    {
        Event("""{"id":"t","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{"}}]}}]}""")
            + Event("""{"id":"t","choices":[{"index":0,"delta":{"[ool_calls":[{"function":{"arguments":"}"}}]},"finish_reason":"tool_calls"}]}"""),
        Event("""{"id":"t","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arg[ments":"\"v\"}"}}]},"finish_reason":"tool_calls"}]}"""),
        Event("""{"id":"s1","choices":[{"index":0,"delta":{"co[tent":"jane@a@me-"},"finish_reason":null}]}"""),
        Event("""{"id":"s1","choices":[{"index":{"content":"jane@a@me-"},"finish_reason":null}]}"""),
        Event("""{"id":"s1","choices":[{"index":0,"delta":{"content":"Hello there, friend"},"finish_reason":null}]}""")
            + Event("""{"id":"s1","choices":[{"index":0,"delta":5,"finish_reason":"stop"}]}"""),
    };

    private static string Event(string json) => "data: " + json + "\n\n";

    [Theory]
    [MemberData(nameof(MalformedStreams))]
    public async Task AMalformedStream_EndsWithTheErrorEvent(string stream)
    {
        var context = new DefaultHttpContext();
        var sent = new MemoryStream();
        context.Response.Body = sent;
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent(stream + "data: [DONE]\n\n", Encoding.UTF8, "text/event-stream") };
        await new StreamedAnswerGuard(s_guard, 64).RelayAsync(context, response, chat: true, new GuardedAnswer(s_tier, new CanaryAnalyzer([CanaryAnalyzer.Hash("DRYDOCK-CANARY-test")])), new JsonObject());
        var output = Encoding.UTF8.GetString(sent.ToArray());
        Assert.Contains("\"upstream_error\"", output, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", output, StringComparison.Ordinal);
        foreach (var line in output.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal) && l != "data: [DONE]"))
        {
            Assert.IsType<JsonObject>(JsonNode.Parse(line[6..]));
        }
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheRunningGateway_LeavesNoAddressInAnAnswerWithOverlappingOnes(bool streamed)
    {
        var (key, _) = _keys.Create("overlap" + streamed, "internal", [], null);
        const string text = "mail jane@scme-mail.co%%%%%%%%%%%%72me-m@il.LE";
        _upstream.Script = streamed
            ? Scripted.Stream([.. text.Chunk(5).Select(c => Chunk(new JsonObject { ["content"] = new string(c) }, null)), Chunk(new JsonObject { ["content"] = "" }, "stop")])
            : Scripted.Json(new JsonObject
            {
                ["id"] = "c1", ["object"] = "chat.completion", ["model"] = "tiny",
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text }, ["finish_reason"] = "stop" }),
            }.ToJsonString());
        var (status, body) = await Send(key, streamed);
        _upstream.Script = null;
        Assert.True(status is 200 or 403, $"{status} {body}");
        var content = string.Concat(Documents(body, streamed).SelectMany(d => JsonStrings.Answer(JsonNode.Parse(d))).Where(l => l.Path.EndsWith("content", StringComparison.Ordinal)).Select(l => l.Value));
        Assert.DoesNotContain("@", content, StringComparison.Ordinal);
        Assert.False(s_guard.Output(content, GuardMode.Block).Blocked, content);
    }

    [Fact]
    public async Task TheRunningGateway_EndsAStreamWithABracketInAFieldName()
    {
        var (key, _) = _keys.Create("bracket", "internal", [], null);
        _upstream.Script = Scripted.Stream([
            Chunk(new JsonObject { ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = 0, ["id"] = "c", ["function"] = new JsonObject { ["name"] = "f", ["arguments"] = "{" } }) }, null),
            Chunk(new JsonObject { ["[ool_calls"] = new JsonArray(new JsonObject { ["function"] = new JsonObject { ["arguments"] = "}" } }) }, "tool_calls")]);
        var (status, body) = await Send(key, streamed: true);
        _upstream.Script = null;
        Assert.Equal(200, status);
        Assert.Contains("\"upstream_error\"", body, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
    }

    private static string Chunk(JsonObject delta, string? finish) => new JsonObject
    {
        ["id"] = "c1", ["object"] = "chat.completion.chunk", ["model"] = "tiny",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
    }.ToJsonString();

    private static IEnumerable<string> Documents(string body, bool streamed) => streamed
        ? body.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal) && l != "data: [DONE]").Select(l => l[6..])
        : [body];

    private async Task<(int Status, string Body)> Send(string key, bool streamed)
    {
        var request = new JsonObject { ["model"] = "tiny", ["stream"] = streamed, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }) };
        using var message = new HttpRequestMessage(HttpMethod.Post, _gateway.Urls[0] + "/v1/chat/completions") { Content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json") };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _http.SendAsync(message, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
