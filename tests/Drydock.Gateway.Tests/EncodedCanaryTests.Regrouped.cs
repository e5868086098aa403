using System.Text.Json.Nodes;

namespace Drydock.Gateway.Tests;

/// <summary>
/// A registered canary regrouped (two groups of six, six pairs, four triples, one character a line, zero-width
/// characters between groups) passed the tripwire with no incident: only three contiguous groups of four were read.
/// The running gateway, whole and streamed: the answer is blocked, an incident is opened, no part of the code leaves.
/// </summary>
public sealed partial class EncodedCanaryTests
{
    private string Regroup(string form)
    {
        var code = _canary.Replace("-", "", StringComparison.Ordinal);
        return form switch
        {
            "sixes" => code[..6] + " " + code[6..],
            "pairs" => string.Join(' ', code.Chunk(2).Select(c => new string(c))),
            "triples" => string.Join('-', code.Chunk(3).Select(c => new string(c))),
            "lines" => string.Join('\n', code.ToCharArray()),
            "zero-width" => string.Join('\u200B', code.Chunk(4).Select(c => new string(c))),
            _ => throw new ArgumentException(form),
        };
    }

    public static TheoryData<string, bool> Regroupings() => new()
    {
        { "sixes", false }, { "sixes", true }, { "pairs", false }, { "pairs", true }, { "triples", false }, { "triples", true },
        { "lines", false }, { "lines", true }, { "zero-width", false }, { "zero-width", true },
    };

    [Theory]
    [MemberData(nameof(Regroupings))]
    public async Task ARegroupedCanary_BlocksTheAnswer_AndOpensAnIncident(string form, bool streamed)
    {
        var (key, _) = _keys.Create("regrouped" + form + streamed, "internal", [], null);
        var regrouped = Regroup(form);
        var text = "Sure, the ticket code you asked for is " + regrouped + " and nothing else.";
        _upstream.Script = streamed
            ? Scripted.Stream([.. text.Chunk(5).Select(c => Chunk(new string(c), null)), Chunk("", "stop")])
            : Scripted.Json(new JsonObject
            {
                ["id"] = "c1", ["object"] = "chat.completion", ["model"] = "tiny",
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text }, ["finish_reason"] = "stop" }),
            }.ToJsonString());
        var before = _registry.Incidents().Count;
        var (status, body) = await Send(key, streamed);
        _upstream.Script = null;
        Assert.True(status == 200, $"{status} {body}");
        Assert.Contains("content_filter", body, StringComparison.Ordinal);
        var sent = string.Concat(body.Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
            .Select(l => JsonNode.Parse(l[6..])?["choices"]?[0]?["delta"]?["content"]?.GetValue<string>() ?? JsonNode.Parse(l[6..])?["choices"]?[0]?["message"]?["content"]?.GetValue<string>()));
        Assert.DoesNotContain(JsonEncodedText(regrouped[..4]), body, StringComparison.Ordinal);
        Assert.DoesNotContain(regrouped[..4], sent, StringComparison.Ordinal);
        var incidents = _registry.Incidents();
        Assert.True(incidents.Count == before + 1, $"{form} {(streamed ? "streamed" : "whole")}: {incidents.Count - before} incidents opened");
        Assert.Equal("canary-leak", incidents[^1][0].Kind);
    }

    // Ordinary text with code-like words around a registered canary's tripwire: relayed, no incident.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OrdinaryText_PassesTheRegroupedTripwire(bool streamed)
    {
        var (key, _) = _keys.Create("ordinary" + streamed, "internal", [], null);
        const string text = "Order AB-CD-EF-GH-JK-LM ships on 2026/12/07; the batch is QRS TUV WXY Z23 and the cat naps.";
        _upstream.Script = streamed
            ? Scripted.Stream([.. text.Chunk(5).Select(c => Chunk(new string(c), null)), Chunk("", "stop")])
            : Scripted.Json(new JsonObject
            {
                ["id"] = "c1", ["object"] = "chat.completion", ["model"] = "tiny",
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text }, ["finish_reason"] = "stop" }),
            }.ToJsonString());
        var before = _registry.Incidents().Count;
        var (status, body) = await Send(key, streamed);
        _upstream.Script = null;
        Assert.Equal(200, status);
        Assert.DoesNotContain("content_filter", body, StringComparison.Ordinal);
        Assert.Equal(before, _registry.Incidents().Count);
    }

    private static string JsonEncodedText(string text) => System.Text.Json.JsonSerializer.Serialize(text)[1..^1];
}
