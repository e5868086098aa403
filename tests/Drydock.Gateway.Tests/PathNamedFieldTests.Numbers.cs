namespace Drydock.Gateway.Tests;

/// <summary>
/// A card number under a structural numeric name (a tool call's <c>index</c>, <c>created</c>, a usage count) was not
/// read: those names were skipped whatever they held. A structural number must now be plausible for its field (an
/// index a small whole number, <c>created</c> a Unix time, a count below 2^31) or it is read as its JSON text, and a
/// finding there refuses the answer: whole (502 output_blocked) and streamed (an error event), on both tiers.
/// </summary>
public sealed partial class PathNamedFieldTests
{
    private const string Call = """{"index":0,"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{}"}}""";

    public static TheoryData<string, string> StructuralNames() => new()
    {
        { "internal", """{"id":"c1","object":"chat.completion","created":1733000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[""" + Call.Replace("\"index\":0", "\"index\":" + Card, StringComparison.Ordinal) + """]},"finish_reason":"tool_calls"}]}""" },
        { "public", """{"id":"c1","object":"chat.completion","created":""" + Card + ""","model":"m",""" + Choices + "}" },
        { "internal", """{"id":"c1","object":"chat.completion","created":1733000000,"model":"m",""" + Choices + ""","usage":{"prompt_tokens":3,"completion_tokens":""" + Card + ""","total_tokens":9}}""" },
        { "public", """{"id":"c1","object":"chat.completion","created":1733000000,"model":"m",""" + Choices + ""","usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"completion_tokens_details":{"reasoning_tokens":""" + Card + "}}}" },
    };

    [Theory]
    [MemberData(nameof(StructuralNames))]
    public async Task ACardNumberUnderAStructuralNumericName_RefusesTheWholeAnswer(string tier, string json)
    {
        var (key, _) = _keys.Create("structural" + tier + json.GetHashCode(StringComparison.Ordinal), tier, [], null);
        _upstream.Script = Scripted.Json(json);
        var (status, body) = await Send(key, streamed: false);
        _upstream.Script = null;
        Assert.True(status == 502, $"{status} {body}");
        Assert.Contains("output_blocked", body, StringComparison.Ordinal);
        Assert.DoesNotContain("4539148803", body, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> StreamedStructuralNames() => new()
    {
        { "internal", """{"id":"c1","object":"chat.completion.chunk","created":1733000000,"model":"tiny","choices":[{"index":0,"delta":{"tool_calls":[""" + Call.Replace("\"index\":0", "\"index\":" + Card, StringComparison.Ordinal) + """]},"finish_reason":null}]}""" },
        { "public", """{"id":"c1","object":"chat.completion.chunk","created":""" + Card + ""","model":"tiny","choices":[{"index":0,"delta":{"content":" there"},"finish_reason":null}]}""" },
        { "internal", """{"id":"c1","object":"chat.completion.chunk","created":1733000000,"model":"tiny","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":""" + Card + "}}" },
    };

    [Theory]
    [MemberData(nameof(StreamedStructuralNames))]
    public async Task ACardNumberUnderAStructuralNumericName_EndsAStream(string tier, string chunk)
    {
        var (key, _) = _keys.Create("structural-streamed" + tier + chunk.GetHashCode(StringComparison.Ordinal), tier, [], null);
        _upstream.Script = Scripted.Stream([
            """{"id":"c1","object":"chat.completion.chunk","created":1733000000,"model":"tiny","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}""",
            chunk,
            """{"id":"c1","object":"chat.completion.chunk","created":1733000000,"model":"tiny","choices":[{"index":0,"delta":{"content":"."},"finish_reason":"stop"}]}"""]);
        var (status, body) = await Send(key, streamed: true);
        _upstream.Script = null;
        Assert.Equal(200, status);
        Assert.Contains("\"upstream_error\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("4539148803", body, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
    }
}
