using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Detection;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Keys;
using Drydock.Tests.Shared;

namespace Drydock.Gateway.Tests;

/// <summary>
/// A value longer than 256 characters with spaces in it (a token written as hex pairs with spaces, not a PEM block)
/// split across two messages, two fields of a message, two choices or two fields of a stream, the split a few
/// hundred characters after its start: judging only 256 characters either side of the split (and widening over runs
/// without spaces) never saw its start, so no text held it and the join's windows did not either. The running gateway with a
/// scripted upstream: the request is refused, the answer refused, the stream stopped.
/// </summary>
public sealed class LongSpacedSplitTests : IAsyncLifetime
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
    private readonly TempDir _dir = new();
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private ApiKeyStore _keys = null!;
    private readonly HttpClient _http = new();

    // A JWT of about 480 characters written as hex pairs with spaces (about 1,440 characters): the input and output
    // guards decode it (a "hex" run) and find the token; split inside its claims, neither half holds a whole token.
    private static readonly string s_jwt = Jwt();
    private static readonly string s_value = string.Join(' ', Encoding.UTF8.GetBytes(s_jwt).Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    // Where the value is split: at the pair of the 220th character of the claims, more than 512 characters after the
    // token's header ends (the widest a boundary's window reached before widening).
    private static readonly int s_split = 3 * (s_jwt.IndexOf('.', StringComparison.Ordinal) + 1 + 220);

    private static string Jwt()
    {
        static string Url(byte[] b) => Convert.ToBase64String(b).Replace('+', '-').Replace('/', '_').TrimEnd('=');
        var claims = new JsonObject { ["sub"] = "1234567890", ["name"] = "Service Account", ["scope"] = string.Join(' ', Enumerable.Range(0, 20).Select(i => "read:resource" + i)), ["iat"] = 1516239022 };
        return Url(Encoding.UTF8.GetBytes("{\"alg\":\"HS256\",\"typ\":\"JWT\"}")) + "." + Url(Encoding.UTF8.GetBytes(claims.ToJsonString())) + "." + Url(SHA256.HashData(Encoding.UTF8.GetBytes("signature")));
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

    [Fact]
    public void TheValue_IsASecretWholeAndInNeitherHalf()
    {
        Assert.True(s_split > 3 * 36 + 512 + 8, s_split.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(s_jwt.Split('.')[1].Length > 240);
        Assert.Contains(s_detector.Scan("config: " + s_value + " done"), f => f.Category == Categories.Secret);
        Assert.DoesNotContain(s_detector.Scan("config: " + s_value[..s_split]), f => f.Category == Categories.Secret);
        Assert.DoesNotContain(s_detector.Scan(s_value[s_split..] + " done"), f => f.Category == Categories.Secret);
    }

    public static TheoryData<string> RequestShapes() => new() { "messages", "parts" };

    [Theory]
    [MemberData(nameof(RequestShapes))]
    public async Task ARequestWithTheValueSplitAcrossTwoTexts_IsRefused(string shape)
    {
        var (key, _) = _keys.Create("request-" + shape, "internal", [], null);
        var first = "config: " + s_value[..s_split];
        var second = s_value[s_split..] + " done";
        var messages = shape == "messages"
            ? new JsonArray(new JsonObject { ["role"] = "user", ["content"] = first }, new JsonObject { ["role"] = "user", ["content"] = second })
            : new JsonArray(new JsonObject { ["role"] = "user", ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = first }, new JsonObject { ["type"] = "text", ["text"] = second }) });
        var (status, body) = await Send(key, new JsonObject { ["model"] = "tiny", ["messages"] = messages });
        Assert.True(status is 400 or 403, $"{shape}: {status} {body}");
        Assert.Equal(0, _upstream.Requests);
    }

    [Fact]
    public async Task AnAnswerWithTheValueSplitAcrossTwoChoices_IsRefused()
    {
        var (key, _) = _keys.Create("choices", "internal", [], null);
        JsonObject Choice(int index, string text) => new() { ["index"] = index, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text }, ["finish_reason"] = "stop" };
        _upstream.Script = Scripted.Json(new JsonObject
        {
            ["id"] = "c1", ["object"] = "chat.completion", ["model"] = "tiny",
            ["choices"] = new JsonArray(Choice(0, "config: " + s_value[..s_split]), Choice(1, s_value[s_split..] + " done")),
        }.ToJsonString());
        var (status, body) = await Send(key, Chat(streamed: false));
        _upstream.Script = null;
        Assert.Equal(502, status);
        Assert.DoesNotContain(s_value[..60], body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(50)]
    public async Task AStreamWithTheValueSplitAcrossTwoFields_IsStopped(int size)
    {
        var (key, _) = _keys.Create("stream" + size, "internal", [], null);
        _upstream.Script = Scripted.Stream([
            .. ("config: " + s_value[..s_split]).Chunk(size).Select(c => Chunk("reasoning_content", new string(c))),
            .. (s_value[s_split..] + " done").Chunk(size).Select(c => Chunk("content", new string(c))),
            Chunk("content", "", "stop")]);
        var (status, body) = await Send(key, Chat(streamed: true));
        _upstream.Script = null;
        Assert.True(status == 200 && body.Contains("\"upstream_error\"", StringComparison.Ordinal), $"{size}: {status} {body}");
    }

    private static JsonObject Chat(bool streamed) => new() { ["model"] = "tiny", ["stream"] = streamed, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }) };

    private static string Chunk(string field, string text, string? finish = null) => new JsonObject
    {
        ["id"] = "c1", ["object"] = "chat.completion.chunk", ["model"] = "tiny",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { [field] = text }, ["finish_reason"] = finish }),
    }.ToJsonString();

    private async Task<(int Status, string Body)> Send(string key, JsonObject request)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, _gateway.Urls[0] + "/v1/chat/completions") { Content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json") };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _http.SendAsync(message, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
