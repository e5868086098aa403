using System.Text.Json.Nodes;

namespace Drydock.Gateway.Tests;

/// <summary>
/// Other spellings of a credential passed the output guard: groups of four, markdown emphasis inside the key, comma,
/// semicolon or bar separated, groups of mixed length, one character a line, percent-encoded. The running gateway, whole and streamed, on a redact tier and a
/// block tier: no spelling of the key reaches the client or the request log.
/// </summary>
public sealed partial class EncodedAndLongSplitTests
{
    private static string Spell(string value, string spelling) => spelling switch
    {
        "groups" => string.Join(' ', value.Chunk(4).Select(c => new string(c))),
        "markdown" => value[..4] + "**" + value[4..8] + "**" + value[8..],
        "commas" => string.Join(',', value.ToCharArray()),
        "semicolons" => string.Join(';', value.ToCharArray()),
        "bars" => string.Join('|', value.ToCharArray()),
        "mixed-groups" => value[..4] + " " + value[4..10] + " " + value[10..],
        "lines" => string.Join('\n', value.ToCharArray()),
        "percent" => string.Concat(value.Select(c => "%" + ((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture))),
        _ => throw new ArgumentException(spelling),
    };

    public static TheoryData<string, bool> Spellings() => new()
    {
        { "groups", false }, { "groups", true }, { "markdown", false }, { "markdown", true }, { "commas", false }, { "commas", true },
        { "lines", false }, { "lines", true }, { "percent", false }, { "percent", true },
        { "semicolons", false }, { "semicolons", true }, { "bars", false }, { "bars", true }, { "mixed-groups", false }, { "mixed-groups", true },
    };

    [Theory]
    [MemberData(nameof(Spellings))]
    public async Task ASpelledOutCredentialInTheAnswer_IsRedactedOrBlocked(string spelling, bool streamed)
    {
        var wrong = new List<string>();
        var value = FakeUpstream.AwsKey;
        var spelled = Spell(value, spelling);
        foreach (var tier in new[] { "internal", "public" })
        {
            var (key, _) = _keys.Create("spelled" + tier + spelling + streamed, tier, [], null);
            var text = $"Sure, the key is {spelled} (keep it safe).";
            _upstream.Script = streamed
                ? Scripted.Stream([.. text.Chunk(7).Select(c => Chunk(0, "content", new string(c))), Chunk(0, "content", "", "stop")])
                : Scripted.Json(new JsonObject
                {
                    ["id"] = "c1", ["object"] = "chat.completion", ["model"] = "tiny",
                    ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text }, ["finish_reason"] = "stop" }),
                }.ToJsonString());
            var (status, body, texts) = await Send(key, streamed);
            var seen = string.Concat(texts.Values);
            var label = $"{tier} {spelling} {(streamed ? "streamed" : "whole")}: {status}";
            if (seen.Contains(spelled, StringComparison.Ordinal) || seen.Contains(spelled[..(spelled.Length / 2 + 2)], StringComparison.Ordinal)) wrong.Add($"{label}: the key reached the client: {body}");
            if (tier == "public" && !streamed && !seen.Contains(Guards.GuardedAnswer.BlockedNotice, StringComparison.Ordinal)) wrong.Add($"{label}: not blocked: {body}");
        }

        _upstream.Script = null;
        var log = await AuditLog();
        if (log.Contains(System.Text.Json.JsonSerializer.Serialize(spelled)[1..^1], StringComparison.Ordinal)) wrong.Add($"the request log holds the {spelling} key");
        Assert.Empty(wrong);
    }
}
