using System.Text.Json.Nodes;

namespace Drydock.Gateway.Tests;

/// <summary>
/// A value in groups joined by separator runs split where one text of an answer gives way to another (reasoning, then
/// content; one choice, then the next): the windows judged around that point hold the whole run of groups, as they hold
/// a spaced-out run, however far before the point it starts. A Meta access token (<c>EAA</c> and 400 letters and
/// digits, about 700 characters written in groups of four) split 90 characters before its end (over 600 after its start): a window of 512
/// characters on each side never saw its <c>EAA</c>, so the part after the split went out.
/// </summary>
public sealed partial class OuterSeparatorTests
{
    // EAA and 397 more letters and digits, in groups of four each holding a capital or a digit (a group of lower-case
    // letters alone is a word of the text).
    private static readonly string s_token = Token();

    private static string Token()
    {
        var random = new Random(20);
        const string Any = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        const string Strong = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        var token = new System.Text.StringBuilder("EAAC");
        while (token.Length < 400)
        {
            token.Append(Strong[random.Next(Strong.Length)]);
            for (var k = 0; k < 3; k++) token.Append(Any[random.Next(Any.Length)]);
        }

        return token.ToString();
    }

    private static string Written(string separator) => string.Join(separator, s_token.Chunk(4).Select(g => new string(g)));

    public static TheoryData<string, string, string> SplitAcrossTexts()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var tier in new[] { "internal", "public" })
        {
            foreach (var separator in new[] { " | ", " -- ", "\t", " · ", "\", \"" })
            {
                data.Add(tier, "fields", separator);
                data.Add(tier, "choices", separator);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SplitAcrossTexts))]
    public async Task ALongValueInGroupsSplitFarIntoItsRun_IsGuardedStreamed(string tier, string across, string separator)
    {
        var written = Written(separator);
        var first = "token: " + written[..^90];
        var second = written[^90..] + " ok";
        Assert.Contains(s_detector.Scan(first + second), f => f.Type == "facebook-access-token");
        string[] chunks =
        [
            .. first.Chunk(7).Select(c => Chunk(0, across == "fields" ? "reasoning_content" : "content", new string(c))),
            .. second.Chunk(7).Select(c => Chunk(across == "fields" ? 0 : 1, "content", new string(c))),
            Chunk(0, "content", "", "stop"),
            .. across == "choices" ? [Chunk(1, "content", "", "stop")] : Array.Empty<string>(),
        ];
        var (status, body, client) = await _gateway.SendAsync(tier, Scripted.Stream(chunks), streamed: true);
        Assert.Equal(200, status);
        var rest = Letters(written[^90..])[..24];
        Assert.DoesNotContain(rest, Letters(client), StringComparison.Ordinal);
        Assert.DoesNotContain(rest, Letters(body), StringComparison.Ordinal);
        Assert.DoesNotContain(rest, Letters(await _gateway.AuditLogAsync()), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(SplitAcrossTexts))]
    public async Task ALongValueInGroupsSplitFarIntoItsRun_IsGuardedWhole(string tier, string across, string separator)
    {
        var written = Written(separator);
        var first = "token: " + written[..^90];
        var second = written[^90..] + " ok";
        JsonObject Choice(int index, JsonObject message) => new() { ["index"] = index, ["message"] = message, ["finish_reason"] = "stop" };
        JsonObject Message(string field, string text) => new() { ["role"] = "assistant", [field] = text };
        var choices = across == "fields"
            ? new JsonArray(Choice(0, new JsonObject { ["role"] = "assistant", ["reasoning_content"] = first, ["content"] = second }))
            : new JsonArray(Choice(0, Message("content", first)), Choice(1, Message("content", second)));
        var script = Scripted.Json(new JsonObject { ["id"] = "c1", ["object"] = "chat.completion", ["model"] = "tiny", ["choices"] = choices }.ToJsonString());
        var (_, body, client) = await _gateway.SendAsync(tier, script, streamed: false);
        var rest = Letters(written[^90..])[..24];
        Assert.DoesNotContain(rest, Letters(client), StringComparison.Ordinal);
        Assert.DoesNotContain(rest, Letters(body), StringComparison.Ordinal);
        Assert.DoesNotContain(rest, Letters(await _gateway.AuditLogAsync()), StringComparison.Ordinal);
    }

    private static readonly Drydock.Detection.Engine.Detector s_detector =
        Drydock.Detection.Engine.Detector.Create(Drydock.Detection.Rules.BuiltInRules.All, Drydock.Detection.Rules.BuiltInRules.Analyzers);

    private static string Chunk(int choice, string field, string text, string? finish = null) => new JsonObject
    {
        ["id"] = "c1", ["object"] = "chat.completion.chunk", ["model"] = "tiny",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = choice, ["delta"] = new JsonObject { [field] = text }, ["finish_reason"] = finish }),
    }.ToJsonString();
}
