using System.Text.Json.Nodes;

namespace Drydock.Gateway.Tests;

/// <summary>
/// A stream of thousands of tool calls, one a chunk, each with a new id and index: every chunk adds a point to the
/// combined tail where one chunk's id joins the last. The tail judged every point's window, each widened to the whole run
/// of text without spaces, again with every chunk (3,000 calls: over a minute of gateway CPU; see ToolCallStreamBench).
/// The stream is relayed whole, and a key split across the ids of two tool calls deep into it (ids of different tool
/// calls are values of different paths, joined in one tail) never reaches the client.
/// </summary>
public sealed class ToolCallStreamTests
{
    private const int Calls = 3_000;

    private static string Call(int index, string id) => new JsonObject
    {
        ["id"] = "c1", ["object"] = "chat.completion.chunk", ["model"] = "tiny",
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0, ["finish_reason"] = null,
            ["delta"] = new JsonObject { ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = index, ["id"] = id, ["type"] = "function", ["function"] = new JsonObject { ["name"] = "f", ["arguments"] = "{\"a\":\"b\"}" } }) },
        }),
    }.ToJsonString();

    private static string Finish() => new JsonObject
    {
        ["id"] = "c1", ["object"] = "chat.completion.chunk", ["model"] = "tiny",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject(), ["finish_reason"] = "tool_calls" }),
    }.ToJsonString();

    [Fact]
    public async Task ThreeThousandToolCallsOneAChunk_AreRelayedWhole()
    {
        await using var gateway = await ScriptedGateway.StartAsync();
        var (status, body, _) = await gateway.SendAsync("internal", Scripted.Stream([.. Enumerable.Range(0, Calls).Select(i => Call(i, $"c-{i}-")), Finish()]), streamed: true);
        Assert.Equal(200, status);
        Assert.Contains("\"c-2999-\"", body, StringComparison.Ordinal);
        Assert.Contains("data: [DONE]", body, StringComparison.Ordinal);
        Assert.DoesNotContain("upstream_error", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-", 3_000)]
    [InlineData("_", 200)]
    public async Task AKeySplitAcrossTwoIdsDeepInAStreamOfToolCalls_NeverReachesTheClient(string separator, int calls)
    {
        var value = FakeUpstream.AwsKey;
        var half = value.Length / 2;
        var ids = Enumerable.Range(0, calls).Select(i => $"c-{i}{separator}").ToArray();
        (ids[calls - 100], ids[calls - 99]) = (value[..half], value[half..] + separator);
        await using var gateway = await ScriptedGateway.StartAsync();
        foreach (var tier in new[] { "internal", "public" })
        {
            var (status, body, _) = await gateway.SendAsync(tier, Scripted.Stream([.. ids.Select((id, i) => Call(i, id)), Finish()]), streamed: true);
            Assert.Equal(200, status);
            Assert.DoesNotContain(value[half..], body, StringComparison.Ordinal);
            Assert.DoesNotContain(value, body, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(value, await gateway.AuditLogAsync(), StringComparison.Ordinal);
    }
}
