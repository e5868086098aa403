using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Drydock.Gateway.Guards;

namespace Drydock.Gateway.Tests;

/// <summary>
/// Low findings of an outside attack on the running gateway: a private key whose BEGIN line holds an invisible character
/// sent that BEGIN line before <c>[PRIVATE_KEY_RSA]</c>; and stream chunks whose text was all held back were dropped
/// with their other fields (usage, a provider's fields, a changed system fingerprint). Through the running gateway,
/// <c>internal</c> (redact) and <c>public</c> (block).
/// </summary>
public sealed class StreamHeldChunkTests : IAsyncLifetime
{
    private ScriptedGateway _gateway = null!;

    public async ValueTask InitializeAsync() => _gateway = await ScriptedGateway.StartAsync();

    public async ValueTask DisposeAsync() => await _gateway.DisposeAsync();

    public static TheoryData<string, bool, string> BeginLines()
    {
        var data = new TheoryData<string, bool, string>();
        foreach (var tier in new[] { "internal", "public" })
        {
            foreach (var streamed in new[] { false, true })
            {
                data.Add(tier, streamed, "-----BEG\u200BIN RSA PRIVATE KEY-----");
                data.Add(tier, streamed, "-----BEGIN RSA PRI\u00ADVATE KEY-----");
                data.Add(tier, streamed, "--\u2060---BEGIN RSA PRIVATE KEY-----");
                data.Add(tier, streamed, "-----BEGIN\u200B RSA PRIVATE KEY-----");
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BeginLines))]
    public async Task AKeyWhoseBeginLineHoldsAnInvisibleCharacter_NeverSendsThatLine(string tier, bool streamed, string begin)
    {
        var lines = Convert.ToBase64String(RandomNumberGenerator.GetBytes(12 * 48)).Chunk(64).Select(c => new string(c)).ToList();
        var text = $"Key:\n{begin}\n{string.Join('\n', lines)}\n-----END RSA PRIVATE KEY-----\nDone.";
        var (status, body, seen) = await _gateway.SendAsync(tier, streamed ? ScriptedGateway.Streamed(text, 7) : ScriptedGateway.Whole(text), streamed);
        var label = $"{tier} {(streamed ? "streamed" : "whole")} {status}: {body}";
        var around = seen.Replace("[PRIVATE_KEY_RSA]", "", StringComparison.Ordinal);
        Assert.False(around.Contains("RSA", StringComparison.Ordinal) || around.Contains("BEG", StringComparison.Ordinal) || around.Contains("---", StringComparison.Ordinal), $"{label}: the BEGIN line reached the client");
        foreach (var line in lines) Assert.False(seen.Contains(line[..24], StringComparison.Ordinal), $"{label}: a line of the key reached the client");
        if (tier == "internal") Assert.True(seen == "Key:\n[PRIVATE_KEY_RSA]\nDone.", label);
        else Assert.True(seen.Contains(GuardedAnswer.BlockedNotice, StringComparison.Ordinal), label);
    }

    // A chunk of the stream with one piece of text and fields of its own: its usage so far, a provider's field.
    private static string Chunk(int n, string text) => new JsonObject
    {
        ["id"] = "c1", ["object"] = "chat.completion.chunk", ["created"] = 1733000000, ["model"] = "tiny", ["system_fingerprint"] = $"fp_{n % 3}",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["content"] = text }, ["finish_reason"] = null }),
        ["usage"] = new JsonObject { ["prompt_tokens"] = 3, ["completion_tokens"] = n, ["total_tokens"] = 3 + n },
        ["x_meta"] = $"step {n}",
    }.ToJsonString();

    [Theory]
    [InlineData("internal")]
    [InlineData("public")]
    public async Task ChunksWhoseTextIsAllHeld_StillForwardTheirOtherFields(string tier)
    {
        // A long run of letters and digits (no value a rule finds) is held whole while it arrives, 10 characters a chunk.
        const string run = "Build0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzSTOP";
        var text = "Your build id is " + run + " as noted.";
        var pieces = text.Chunk(10).Select(c => new string(c)).ToList();
        var chunks = pieces.Select((p, i) => Chunk(i + 1, p)).Append("""{"id":"c1","object":"chat.completion.chunk","created":1733000000,"model":"tiny","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""");
        var (status, body, _) = await _gateway.SendAsync(tier, Scripted.Stream([.. chunks]), streamed: true);
        var content = string.Concat(body.Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
            .Select(l => (string?)JsonNode.Parse(l[6..])!["choices"]?[0]?["delta"]?["content"] ?? ""));
        Assert.True(status == 200 && content == text, $"{status} {body}");
        for (var n = 1; n <= pieces.Count; n++)
        {
            Assert.True(body.Contains($"\"completion_tokens\":{n},", StringComparison.Ordinal), $"the usage of chunk {n} was lost: {body}");
            Assert.True(body.Contains($"\"x_meta\":\"step {n}\"", StringComparison.Ordinal), $"the provider field of chunk {n} was lost: {body}");
        }
    }
}
