using System.Security.Cryptography;
using System.Text;
using Drydock.Gateway.Guards;

namespace Drydock.Gateway.Tests;

/// <summary>
/// Found by an outside attack on the running gateway (<c>internal</c>: output redact, <c>public</c>: output block): a
/// card number sent as a negative number or with an exponent passed the number reading; a JWT longer than 4,096
/// characters left a stream half unredacted; a value written in Unicode tag characters passed every rule and the canary
/// tripwire; a request whose messages or content parts were not objects, and an answer that escapes a lone surrogate,
/// were answered 500. Each through the running gateway with a scripted upstream.
/// </summary>
public sealed class OutsiderAttack20Tests : IAsyncLifetime
{
    private const string Card = "4539148803436467";
    private const string Key = FakeUpstream.AwsKey;
    private ScriptedGateway _gateway = null!;

    public async ValueTask InitializeAsync() => _gateway = await ScriptedGateway.StartAsync();

    public async ValueTask DisposeAsync() => await _gateway.DisposeAsync();

    private const string Choices = "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello.\"},\"finish_reason\":\"stop\"}]";

    public static TheoryData<string, string> SignedAndExponentNumbers()
    {
        var data = new TheoryData<string, string>();
        foreach (var tier in new[] { "internal", "public" })
        {
            data.Add(tier, """{"id":"c1","object":"chat.completion","created":1733000000,"model":"tiny",""" + Choices + ""","x_card":-""" + Card + "}");
            data.Add(tier, """{"id":"c1","object":"chat.completion","created":-""" + Card + ""","model":"tiny",""" + Choices + "}");
            data.Add(tier, """{"id":"c1","object":"chat.completion","created":1733000000,"model":"tiny","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"index":-""" + Card + ""","id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}""");
            data.Add(tier, """{"id":"c1","object":"chat.completion","created":1733000000,"model":"tiny",""" + Choices + ""","x_card":4.539148803436467e15}""");
            data.Add(tier, """{"id":"c1","object":"chat.completion","created":1733000000,"model":"tiny","choices":[{"index":0,"message":{"role":"assistant","content":"Hi","x_card":-4.539148803436467E+15},"finish_reason":"stop"}]}""");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SignedAndExponentNumbers))]
    public async Task ACardNumberWithASignOrAnExponent_RefusesTheWholeAnswer(string tier, string json)
    {
        var (status, body, _) = await _gateway.SendAsync(tier, Scripted.Json(json), streamed: false);
        Assert.True(status == 502 && body.Contains("output_blocked", StringComparison.Ordinal), $"{status} {body}");
        Assert.DoesNotContain("4539148803", body, StringComparison.Ordinal);
        Assert.DoesNotContain("4.539148803", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("internal", "-" + Card)]
    [InlineData("public", "-4.539148803436467e15")]
    public async Task ACardNumberWithASignOrAnExponent_EndsAStream(string tier, string number)
    {
        var (status, body, _) = await _gateway.SendAsync(tier, Scripted.Stream([
            """{"id":"c1","object":"chat.completion.chunk","created":1733000000,"model":"tiny","choices":[{"index":0,"delta":{"content":"Hello."},"finish_reason":"stop"}]}""",
            """{"id":"c1","object":"chat.completion.chunk","created":1733000000,"model":"tiny","choices":[],"x_card":""" + number + ""","usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"""]), streamed: true);
        Assert.Equal(200, status);
        Assert.Contains("\"upstream_error\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("539148803436467", body, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
    }

    // A JWT of about 7,500 characters (an identity token with many group claims), its signature random.
    private static (string Jwt, string Signature) LongJwt(int count = 640)
    {
        static string Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var groups = string.Join(",", Enumerable.Range(0, count).Select(i => $"\"g{i:D5}\""));
        var signature = Url(RandomNumberGenerator.GetBytes(32));
        var jwt = Url(Encoding.UTF8.GetBytes("""{"alg":"HS256","typ":"JWT"}""")) + "." + Url(Encoding.UTF8.GetBytes("{\"sub\":\"1029384756\",\"groups\":[" + groups + "]}")) + "." + signature;
        return (jwt, signature);
    }

    [Theory]
    [InlineData("internal", 7)]
    [InlineData("internal", 50)]
    [InlineData("public", 50)]
    public async Task AJwtLongerThanFourThousandCharacters_LeavesAStreamAsTheWholeAnswerDoes(string tier, int size)
    {
        var (jwt, signature) = LongJwt();
        Assert.True(jwt.Length > 7_000, "the token is long");
        var text = $"Authorization: Bearer {jwt} is the token.";
        var (_, wholeBody, whole) = await _gateway.SendAsync(tier, ScriptedGateway.Whole(text), streamed: false);
        var (status, body, seen) = await _gateway.SendAsync(tier, ScriptedGateway.Streamed(text, size), streamed: true);
        Assert.Equal(200, status);
        foreach (var (label, said) in new[] { ("whole", whole), ("streamed", seen) })
        {
            Assert.False(said.Contains(signature, StringComparison.Ordinal), $"{label}: the token's signature reached the client: {said}");
            for (var at = 0; at + 40 <= jwt.Length; at += 40) Assert.False(said.Contains(jwt.Substring(at, 40), StringComparison.Ordinal), $"{label}: part of the token reached the client at {at}: {said}");
        }

        if (tier == "internal") Assert.Equal("Authorization: Bearer [JWT] is the token.", seen);
        else Assert.Contains(GuardedAnswer.BlockedNotice, seen, StringComparison.Ordinal);
        Assert.DoesNotContain(signature, wholeBody + body, StringComparison.Ordinal);
        Assert.DoesNotContain(signature, await _gateway.AuditLogAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("internal")]
    [InlineData("public")]
    public async Task AJwtLongerThanTheLongestHeldValue_NeverLeavesAStreamInPart(string tier)
    {
        var (jwt, signature) = LongJwt(2_400);
        Assert.True(jwt.Length > 26_000, "the token is longer than a stream guard holds");
        var (status, body, seen) = await _gateway.SendAsync(tier, ScriptedGateway.Streamed($"Authorization: Bearer {jwt} is the token.", 50), streamed: true);
        Assert.Equal(200, status);
        for (var at = 0; at + 40 <= jwt.Length; at += 40) Assert.False(seen.Contains(jwt.Substring(at, 40), StringComparison.Ordinal), $"part of the token reached the client at {at}");
        Assert.DoesNotContain(signature, body + await _gateway.AuditLogAsync(), StringComparison.Ordinal);
    }

    // Each ASCII character as the tag character that stands for it (U+E0000 + the character).
    private static string Tags(string text) => string.Concat(text.Select(c => char.ConvertFromUtf32(0xE0000 + c)));

    public static TheoryData<string, bool> TiersAndShapes() => new() { { "internal", false }, { "internal", true }, { "public", false }, { "public", true } };

    [Theory]
    [MemberData(nameof(TiersAndShapes))]
    public async Task AValueWrittenInTagCharacters_IsRedactedOrBlocked(string tier, bool streamed)
    {
        var wrong = new List<string>();
        foreach (var (value, placeholder) in new[] { (Key, "[AWS_ACCESS_KEY_ID]"), (FakeUpstream.Email, "[EMAIL]") })
        {
            // "Sure: " is six characters and every tag character two: chunks of six never cut one in half.
            var text = $"Sure: {Tags(value)} is what you need.";
            var (status, body, seen) = await _gateway.SendAsync(tier, streamed ? ScriptedGateway.Streamed(text, 6) : ScriptedGateway.Whole(text), streamed);
            var label = $"{tier} {(streamed ? "streamed" : "whole")} {placeholder}: {status}";
            for (var at = 0; at + 4 <= value.Length; at++)
            {
                if (seen.Contains(Tags(value.Substring(at, 4)), StringComparison.Ordinal)) wrong.Add($"{label}: the value in tag characters reached the client at {at}: {body}");
            }

            if (seen.Contains('\uDB40', StringComparison.Ordinal)) wrong.Add($"{label}: tag characters reached the client");
            if (tier == "internal" && seen != $"Sure: {placeholder} is what you need.") wrong.Add($"{label}: not redacted in place: {body}");
            if (tier == "public" && !seen.Contains(GuardedAnswer.BlockedNotice, StringComparison.Ordinal)) wrong.Add($"{label}: not blocked: {body}");
            if ((await _gateway.AuditLogAsync()).Contains(Tags(value[4..12]), StringComparison.Ordinal)) wrong.Add($"{label}: the request log holds the value");
        }

        Assert.Empty(wrong);
    }

    [Theory]
    [InlineData("""{"model":"tiny","messages":["my key is AKIAQ3EGRL5TFZ6XW7NB"]}""", 400, "input_blocked")]
    [InlineData("""{"model":"tiny","messages":[{"role":"user","content":["my key is AKIAQ3EGRL5TFZ6XW7NB"]}]}""", 400, "input_blocked")]
    [InlineData("""{"model":"tiny","messages":[{"role":"user","content":[["my key is AKIAQ3EGRL5TFZ6XW7NB"]]}]}""", 400, "input_blocked")]
    [InlineData("""{"model":"tiny","messages":[["hello"]]}""", 200, "Hello back.")]
    public async Task MessagesOrPartsThatAreNotObjects_AreGuardedNeverA500(string request, int expected, string expectedText)
    {
        var (status, body) = await _gateway.SendRequestAsync("internal", request, ScriptedGateway.Whole("Hello back."));
        Assert.True(status == expected && body.Contains(expectedText, StringComparison.Ordinal), $"{status} {body}");
    }

    [Fact]
    public async Task AnAnswerThatEscapesALoneSurrogate_IsMalformedNeverA500()
    {
        var (status, body, _) = await _gateway.SendAsync("internal", Scripted.Json("""{"id":"c1","object":"chat.completion","created":1733000000,"model":"tiny","choices":[{"index":0,"message":{"role":"assistant","content":"x\ud800 AKIAQ3EGRL5TFZ6XW7NB"},"finish_reason":"stop"}]}"""), streamed: false);
        Assert.True(status == 502 && body.Contains("upstream_malformed", StringComparison.Ordinal), $"{status} {body}");

        var first = new string('a', 200);
        (status, body, _) = await _gateway.SendAsync("internal", Scripted.Stream([
            """{"id":"c1","object":"chat.completion.chunk","created":1733000000,"model":"tiny","choices":[{"index":0,"delta":{"content":"Hello """ + first + "\"},\"finish_reason\":null}]}",
            """{"id":"c1","object":"chat.completion.chunk","created":1733000000,"model":"tiny","choices":[{"index":0,"delta":{"content":"x\ud800 AKIAQ3EGRL5TFZ6XW7NB"},"finish_reason":null}],"x_\udc00":"y"}"""]), streamed: true);
        Assert.True(status == 200 && body.Contains("\"upstream_error\"", StringComparison.Ordinal) && body.EndsWith("data: [DONE]\n\n", StringComparison.Ordinal), $"{status} {body}");
        Assert.DoesNotContain(Key, body, StringComparison.Ordinal);
    }
}
