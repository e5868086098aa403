using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Audit;
using Drydock.Gateway.Keys;
using Drydock.Gateway.Payload;
using Drydock.Tests.Shared;

namespace Drydock.Gateway.Tests;

/// <summary>
/// The output guard reads values the model writes encoded (base64, hex, spaced out), a value split across two tool
/// calls' arguments in a stream, and a value longer than 256 characters split across two fields of a stream: the
/// running gateway, a scripted upstream, whole and streamed, on a redact tier and a block tier. No form of the value
/// reaches the client or the request log.
/// </summary>
public sealed partial class EncodedAndLongSplitTests : IAsyncLifetime
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
    private readonly TempDir _dir = new();
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private ApiKeyStore _keys = null!;
    private readonly HttpClient _http = new();

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _keys = ApiKeyStore.Open(Path.Combine(_dir.Path, "keys"));
        var options = new GatewayOptions
        {
            Upstream = new Uri(_upstream.BaseUrl), StreamWindow = 64, UpstreamTimeout = TimeSpan.FromSeconds(5),
            AuditFolder = Path.Combine(_dir.Path, "requests"), AuditText = AuditText.Redacted,
        };
        _gateway = await GatewayHost.StartAsync(options, new GatewayServices(_keys, s_detector), "http://127.0.0.1:0");
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        _dir.Dispose();
    }

    private static string Encode(string value, string encoding) => encoding switch
    {
        "base64" => Convert.ToBase64String(Encoding.UTF8.GetBytes(value)),
        "base64url" => Convert.ToBase64String(Encoding.UTF8.GetBytes(value)).Replace('+', '-').Replace('/', '_').TrimEnd('='),
        "hex" => Convert.ToHexString(Encoding.UTF8.GetBytes(value)).ToLowerInvariant(),
        "hex-spaced" => string.Join(' ', Encoding.UTF8.GetBytes(value).Select(b => b.ToString("x2"))),
        "hex-colons" => string.Join(':', Encoding.UTF8.GetBytes(value).Select(b => b.ToString("X2"))),
        "spaced" => string.Join(' ', value.ToCharArray()),
        "dashed" => string.Join('-', value.ToCharArray()),
        _ => throw new ArgumentException(encoding),
    };

    public static TheoryData<string, bool> Encodings() => new()
    {
        { "base64", false }, { "base64", true }, { "base64url", false }, { "base64url", true }, { "hex", false }, { "hex", true },
        { "hex-spaced", false }, { "hex-spaced", true }, { "hex-colons", false }, { "hex-colons", true },
        { "spaced", false }, { "spaced", true }, { "dashed", false }, { "dashed", true },
    };

    [Theory]
    [MemberData(nameof(Encodings))]
    public async Task AnEncodedCredentialOrEmailInTheAnswer_IsRedactedOrBlocked(string encoding, bool streamed)
    {
        var wrong = new List<string>();
        foreach (var tier in new[] { "internal", "public" })
        {
            var (key, _) = _keys.Create(tier + encoding + streamed, tier, [], null);
            foreach (var value in new[] { FakeUpstream.AwsKey, FakeUpstream.Email })
            {
                var encoded = Encode(value, encoding);
                var text = $"Sure, here it is: {encoded} (decode it first).";
                _upstream.Script = streamed
                    ? Scripted.Stream([.. text.Chunk(7).Select(c => Chunk(0, "content", new string(c))), Chunk(0, "content", "", "stop")])
                    : Scripted.Json(new JsonObject
                    {
                        ["id"] = "c1", ["object"] = "chat.completion", ["model"] = "tiny",
                        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text }, ["finish_reason"] = "stop" }),
                    }.ToJsonString());
                var (status, body, texts) = await Send(key, streamed);
                var seen = string.Concat(texts.Values);
                var label = $"{tier} {encoding} {(streamed ? "streamed" : "whole")} {value[..4]}…: {status}";
                if (seen.Contains(encoded, StringComparison.OrdinalIgnoreCase) || seen.Contains(value, StringComparison.OrdinalIgnoreCase)) wrong.Add($"{label}: the value reached the client: {body}");

                // The first half of the encoded value must not have left before the rest arrived.
                if (seen.Contains(encoded[..(encoded.Length / 2)], StringComparison.OrdinalIgnoreCase)) wrong.Add($"{label}: half the value reached the client: {body}");
                if (tier == "internal" && !streamed && !seen.Contains(value.Contains('@') ? "[EMAIL]" : "[AWS_ACCESS_KEY_ID]", StringComparison.Ordinal)) wrong.Add($"{label}: no placeholder: {body}");
                if (tier == "public" && !streamed && !seen.Contains(Guards.GuardedAnswer.BlockedNotice, StringComparison.Ordinal)) wrong.Add($"{label}: not blocked: {body}");
            }
        }

        _upstream.Script = null;
        var log = await AuditLog();
        foreach (var value in new[] { FakeUpstream.AwsKey, FakeUpstream.Email })
        {
            foreach (var form in new[] { "base64", "hex", "hex-spaced", "spaced", "dashed" })
            {
                if (log.Contains(Encode(value, form), StringComparison.OrdinalIgnoreCase)) wrong.Add($"the request log holds {form} of {value[..4]}…");
            }
        }

        Assert.Empty(wrong);
    }

    // A streamed tool call's arguments are JSON: a key split across two calls (`{"part":"AKIA…` then `{"part":"…NB"}`) is
    // whole only in the calls' string values joined; at 1, 7 and 50 characters a chunk the stream is stopped.
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(50)]
    public async Task AStreamedKeySplitAcrossTwoToolCalls_StopsTheStream(int size)
    {
        var (key, _) = _keys.Create("calls" + size, "internal", [], null);
        var value = FakeUpstream.AwsKey;
        var half = value.Length / 2;
        string Call(int index, string? id, string arguments) => new JsonObject
        {
            ["id"] = "c1", ["object"] = "chat.completion.chunk", ["model"] = "tiny",
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["delta"] = new JsonObject { ["tool_calls"] = new JsonArray(id is null
                    ? new JsonObject { ["index"] = index, ["function"] = new JsonObject { ["arguments"] = arguments } }
                    : new JsonObject { ["index"] = index, ["id"] = id, ["type"] = "function", ["function"] = new JsonObject { ["name"] = "lookup", ["arguments"] = arguments } }) },
                ["finish_reason"] = null,
            }),
        }.ToJsonString();
        IEnumerable<string> Arguments(int index, string arguments) =>
            new[] { Call(index, "call_" + index, "") }.Concat(arguments.Chunk(size).Select(c => Call(index, null, new string(c))));
        _upstream.Script = Scripted.Stream([
            .. Arguments(0, $$"""{"part": "{{value[..half]}}"}"""), .. Arguments(1, $$"""{"part": "{{value[half..]}}", "more": "nothing"}"""), Chunk(0, "content", "", "tool_calls")]);
        var (status, body, texts) = await Send(key, streamed: true);
        _upstream.Script = null;
        Assert.True(status == 200 && body.Contains("\"upstream_error\"", StringComparison.Ordinal), $"{size}: {status} {body}");
        var seen = string.Concat(texts.Values);
        Assert.DoesNotContain(value[..half], seen, StringComparison.Ordinal);
        Assert.DoesNotContain(value[half..], seen, StringComparison.Ordinal);
        Assert.DoesNotContain(value, await AuditLog(), StringComparison.Ordinal);
    }

    // A JWT of about 600 characters, half in the reasoning text and half in the content of a stream: longer than the
    // 256 characters the combined tail used to keep, it is whole only in a longer one.
    [Theory]
    [InlineData(7)]
    [InlineData(50)]
    public async Task AStreamedValueLongerThan256CharactersSplitAcrossFields_StopsTheStream(int size)
    {
        var (key, _) = _keys.Create("long" + size, "internal", [], null);
        static string Url(byte[] b) => Convert.ToBase64String(b).Replace('+', '-').Replace('/', '_').TrimEnd('=');
        var claims = new JsonObject { ["sub"] = "1234567890", ["name"] = "Service Account", ["scope"] = string.Join(' ', Enumerable.Range(0, 40).Select(i => "read:resource" + i)), ["iat"] = 1516239022 };
        var jwt = Url(Encoding.UTF8.GetBytes("{\"alg\":\"HS256\",\"typ\":\"JWT\"}")) + "." + Url(Encoding.UTF8.GetBytes(claims.ToJsonString())) + "." + Url(RandomNumberGenerator.GetBytes(32));
        Assert.True(jwt.Length > 600, jwt.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains(s_detector.Scan("token " + jwt), f => f.Type == "jwt");
        var half = jwt.Length / 2;
        _upstream.Script = Scripted.Stream([
            .. ("Token: " + jwt[..half]).Chunk(size).Select(c => Chunk(0, "reasoning_content", new string(c))),
            .. (jwt[half..] + " as asked.").Chunk(size).Select(c => Chunk(0, "content", new string(c))),
            Chunk(0, "content", "", "stop")]);
        var (status, body, texts) = await Send(key, streamed: true);
        _upstream.Script = null;
        Assert.True(status == 200 && body.Contains("\"upstream_error\"", StringComparison.Ordinal), $"{size}: {status} {body}");
        var seen = string.Concat(texts.Values);
        Assert.DoesNotContain(jwt[..half][^40..], seen, StringComparison.Ordinal);
        Assert.DoesNotContain(jwt[half..][..40], seen, StringComparison.Ordinal);
    }

    private static string Chunk(int index, string field, string text, string? finish = null) => new JsonObject
    {
        ["id"] = "c1", ["object"] = "chat.completion.chunk", ["model"] = "tiny",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = index, ["delta"] = new JsonObject { [field] = text }, ["finish_reason"] = finish }),
    }.ToJsonString();

    // Sends a chat request; returns the status, the body, and the answer's texts joined per path (a stream's deltas
    // concatenated, as a client puts them together).
    private async Task<(int Status, string Body, Dictionary<string, string> Texts)> Send(string key, bool streamed)
    {
        var request = new JsonObject { ["model"] = "tiny", ["stream"] = streamed, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }) };
        using var message = new HttpRequestMessage(HttpMethod.Post, _gateway.Urls[0] + "/v1/chat/completions") { Content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json") };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _http.SendAsync(message, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var texts = new Dictionary<string, string>();
        var documents = response.Content.Headers.ContentType?.MediaType == "text/event-stream"
            ? body.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal) && l != "data: [DONE]").Select(l => l[6..])
            : [body];
        foreach (var document in documents)
        {
            foreach (var leaf in JsonStrings.Answer(JsonNode.Parse(document)))
            {
                texts[leaf.Path] = texts.GetValueOrDefault(leaf.Path, "") + leaf.Value;
            }
        }

        return ((int)response.StatusCode, body, texts);
    }

    private async Task<string> AuditLog()
    {
        await _gateway.FlushAuditAsync();
        return string.Concat(await Task.WhenAll(Directory.GetFiles(Path.Combine(_dir.Path, "requests"), "*.jsonl").Where(f => !Path.GetFileName(f).StartsWith("signals-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Select(f => File.ReadAllTextAsync(f))));
    }
}
