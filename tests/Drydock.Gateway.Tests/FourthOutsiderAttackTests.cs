using System.Text.Json.Nodes;

namespace Drydock.Gateway.Tests;

/// <summary>
/// Found by a fourth outside attack on the running gateway (<c>internal</c>: output redact, <c>public</c>: output block),
/// each through the running gateway with a scripted upstream: an AWS key split between two fields outside the choices
/// (whole or streamed), between such a field and the content, or written as reasoning after the content; a key written
/// with Cherokee or Lisu capitals that look like Latin ones, with an invisible format character the normaliser did not
/// remove (U+FFF9, U+206A, U+1D173), or with HTML markup inside it (<c>AKIA&lt;span&gt;&lt;/span&gt;Q3EG…</c>) reached the
/// client with its body whole. And, asked for with the last fix to the joins: a tool call's arguments that name a key
/// twice, or escape the key, never reach the client raw.
/// </summary>
public sealed class FourthOutsiderAttackTests : IAsyncLifetime
{
    private const string Key = FakeUpstream.AwsKey;
    private const string Body = "Q3EGRL5TFZ6XW7NB";
    private ScriptedGateway _gateway = null!;

    public async ValueTask InitializeAsync() => _gateway = await ScriptedGateway.StartAsync();

    public async ValueTask DisposeAsync() => await _gateway.DisposeAsync();

    private static string Answer(JsonObject message, JsonObject? top = null)
    {
        var answer = new JsonObject
        {
            ["id"] = "c1", ["object"] = "chat.completion", ["created"] = 1733000000, ["model"] = "tiny",
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = "stop" }),
        };
        foreach (var (name, value) in top ?? []) answer[name] = value?.DeepClone();
        return answer.ToJsonString();
    }

    private static JsonObject Message(string? content, string? field = null, string? value = null)
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = content };
        if (field is not null) message[field] = value;
        return message;
    }

    public static TheoryData<string, string> SplitAcrossFields()
    {
        var data = new TheoryData<string, string>();
        foreach (var tier in new[] { "internal", "public" })
        {
            data.Add(tier, Answer(Message("Hello."), new JsonObject { ["x_a"] = "AKIAQ3EG", ["x_b"] = "RL5TFZ6XW7NB" }));
            data.Add(tier, Answer(Message("Hello."), new JsonObject { ["x_b"] = "RL5TFZ6XW7NB", ["x_a"] = "AKIAQ3EG" }));
            data.Add(tier, Answer(Message("AKIAQ3EG"), new JsonObject { ["x_note"] = "RL5TFZ6XW7NB" }));
            data.Add(tier, Answer(Message("RL5TFZ6XW7NB"), new JsonObject { ["x_note"] = "AKIAQ3EG" }));
            data.Add(tier, Answer(Message("RL5TFZ6XW7NB", "reasoning_content", "AKIAQ3EG")));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SplitAcrossFields))]
    public async Task AKeySplitAcrossTwoFields_OneOutsideTheChoicesOrInReverseOrder_NeverLeavesWhole(string tier, string json)
    {
        var (status, body, _) = await _gateway.SendAsync(tier, Scripted.Json(json), streamed: false);
        Assert.True(status is 200 or 502, $"{status} {body}");
        Assert.False(body.Contains("AKIAQ3EG", StringComparison.Ordinal) && body.Contains("RL5TFZ6XW7NB", StringComparison.Ordinal), body);
        Assert.DoesNotContain(Body, await _gateway.AuditLogAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("internal")]
    [InlineData("public")]
    public async Task AKeySplitAcrossTwoFieldsOutsideTheChoices_StopsTheStreamBeforeTheSecondHalf(string tier)
    {
        static string Chunk(string content, string field, string value, string? finish = null) => new JsonObject
        {
            ["id"] = "c1", ["object"] = "chat.completion.chunk", ["created"] = 1733000000, ["model"] = "tiny",
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["content"] = content }, ["finish_reason"] = finish }),
            [field] = value,
        }.ToJsonString();
        var (status, body, _) = await _gateway.SendAsync(tier, Scripted.Stream([Chunk("Hello", "x_a", "AKIAQ3EG"), Chunk(" there", "x_b", "RL5TFZ6XW7NB"), Chunk(".", "x_c", "ok", "stop")]), streamed: true);
        Assert.Equal(200, status);
        Assert.DoesNotContain("RL5TFZ6XW7NB", body, StringComparison.Ordinal);
        Assert.Contains("\"upstream_error\"", body, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, bool> Disguised()
    {
        var data = new TheoryData<string, string, bool>();
        string[] written =
        [
            "\u13AAKIA" + Body,                              // Cherokee A
            "\uA4EE\uA4D7\uA4F2\uA4EE" + Body,              // Lisu A K I A
            "AKIA\uFFF9" + Body,                             // interlinear annotation anchor
            "AKIA\u206A" + Body,                             // inhibit symmetric swapping (deprecated format character)
            "AKIA\U0001D173" + Body,                         // musical symbol begin beam
            "AKIA<span></span>" + Body,                      // HTML tags inside the value
            "AKIA<!-- x -->" + Body,                         // an HTML comment inside the value
            "AKIA<b>Q3EG</b>RL5TFZ6XW7NB",                   // emphasis in HTML
            "[AKIAQ3EG](x)RL5TFZ6XW7NB",                     // a markdown link inside the value
            "AKIA\u2010Q3EG\u2011RL5T\u2012FZ6X\u2013W7NB",  // grouped with four different dashes
            string.Concat(Key.Select(c => char.IsAsciiLetter(c) ? char.ConvertFromUtf32(0x1F1E6 + (c - 'A')) : c.ToString())), // regional indicator letters
        ];
        foreach (var tier in new[] { "internal", "public" })
        {
            foreach (var w in written)
            {
                data.Add(tier, w, false);
                data.Add(tier, w, true);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Disguised))]
    public async Task AKeyWithLookAlikeCapitalsFormatCharactersOrMarkupInside_IsGuarded(string tier, string written, bool streamed)
    {
        var text = $"here: {written} done";
        var script = streamed ? ScriptedGateway.Streamed(ByCodePoints(text, 5)) : ScriptedGateway.Whole(text);
        var (status, body, client) = await _gateway.SendAsync(tier, script, streamed);
        Assert.Equal(200, status);
        Assert.DoesNotContain(Body, client, StringComparison.Ordinal);
        Assert.DoesNotContain(Body, body, StringComparison.Ordinal);
        Assert.Contains(tier == "internal" ? "[AWS_ACCESS_KEY_ID]" : "[response blocked by policy]", client, StringComparison.Ordinal);
    }

    // The text in pieces of n code points (a surrogate pair is never cut in two).
    private static IEnumerable<string> ByCodePoints(string text, int n)
    {
        var piece = new System.Text.StringBuilder();
        var count = 0;
        for (var i = 0; i < text.Length; i++)
        {
            piece.Append(text[i]);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length) piece.Append(text[++i]);
            if (++count < n) continue;
            yield return piece.ToString();
            piece.Clear();
            count = 0;
        }

        if (piece.Length > 0) yield return piece.ToString();
    }

    public static TheoryData<string, string> OddArguments()
    {
        var escaped = string.Concat(Key.Select(c => $"\\u{(int)c:x4}"));
        var data = new TheoryData<string, string>();
        foreach (var tier in new[] { "internal", "public" })
        {
            foreach (var arguments in new[] { "{\"a\":\"" + Key + "\",\"a\":1}", "{\"a\":1,\"a\":\"" + Key + "\"}", "{\"a\":\"" + escaped + "\"}", "{\"a\":\"" + escaped + "\",\"a\":2}", "{\"\\ud800\":\"" + escaped + "\"}", "{\"" + escaped + "\":1}" })
            {
                data.Add(tier, arguments);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OddArguments))]
    public async Task ToolCallArgumentsWithADuplicateKeyOrAnEscapedKey_NeverReachTheClientRaw(string tier, string arguments)
    {
        var message = new JsonObject
        {
            ["role"] = "assistant", ["content"] = null,
            ["tool_calls"] = new JsonArray(new JsonObject { ["id"] = "call_1", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "f", ["arguments"] = arguments } }),
        };
        var (status, body, client) = await _gateway.SendAsync(tier, Scripted.Json(Answer(message)), streamed: false);
        Assert.True(status is 200 or 502, $"{status} {body}");
        var seen = Drydock.Detection.Engine.TextForms.ForMatching(System.Text.RegularExpressions.Regex.Unescape(body));
        Assert.DoesNotContain(Body, seen, StringComparison.Ordinal);
        Assert.DoesNotContain(Body, client, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("internal", false)]
    [InlineData("internal", true)]
    [InlineData("public", false)]
    [InlineData("public", true)]
    public async Task AnEmailWrittenWithHtmlNamesForItsPunctuation_IsGuarded(string tier, bool streamed)
    {
        const string Text = "write to maria.gonzalez&commat;fastmail&period;com today";
        var script = streamed ? ScriptedGateway.Streamed(Text, 5) : ScriptedGateway.Whole(Text);
        var (status, body, client) = await _gateway.SendAsync(tier, script, streamed);
        Assert.Equal(200, status);
        Assert.DoesNotContain("gonzalez&commat;fastmail", body + client, StringComparison.Ordinal);
        Assert.Contains(tier == "internal" ? "[EMAIL]" : "[response blocked by policy]", client, StringComparison.Ordinal);
    }
}
