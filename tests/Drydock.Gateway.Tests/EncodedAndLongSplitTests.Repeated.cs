using System.Text.Json.Nodes;

namespace Drydock.Gateway.Tests;

/// <summary>
/// A stream's strings that are not held back (a provider's own top-level field repeated in every chunk, an error
/// event's message, a tool call's id) were guarded chunk by chunk: a key sent half in one chunk and half in the next
/// passed. Each such path is joined to what it said in earlier chunks: the stream is stopped before the second half
/// leaves, on a redact tier and a block tier.
/// </summary>
public sealed partial class EncodedAndLongSplitTests
{
    public static TheoryData<string> RepeatedPaths() => new() { "x_note", "error.message", "tool_call.id" };

    [Theory]
    [MemberData(nameof(RepeatedPaths))]
    public async Task AStreamedKeySplitAcrossTwoChunksOfAStringThatIsNotHeldBack_StopsTheStream(string path)
    {
        var value = FakeUpstream.AwsKey;
        var half = value.Length / 2;
        JsonObject Piece(string text)
        {
            var chunk = new JsonObject { ["id"] = "c1", ["object"] = "chat.completion.chunk", ["model"] = "tiny" };
            var delta = new JsonObject { ["content"] = "ok " };
            switch (path)
            {
                case "x_note":
                    chunk["x_note"] = text;
                    break;
                case "error.message":
                    chunk["error"] = new JsonObject { ["message"] = text, ["type"] = "server_error" };
                    return chunk;
                default:
                    delta["tool_calls"] = new JsonArray(new JsonObject { ["index"] = 0, ["id"] = text, ["type"] = "function", ["function"] = new JsonObject { ["name"] = "lookup", ["arguments"] = "" } });
                    break;
            }

            chunk["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = null });
            return chunk;
        }

        foreach (var tier in new[] { "internal", "public" })
        {
            var (key, _) = _keys.Create("repeated" + path + tier, tier, [], null);
            _upstream.Script = Scripted.Stream([Piece(value[..half]).ToJsonString(), Piece(value[..half]).ToJsonString(), Piece(value[half..]).ToJsonString(), Chunk(0, "content", "", "stop")]);
            var (status, body, texts) = await Send(key, streamed: true);
            _upstream.Script = null;
            Assert.True(status == 200 && body.Contains("\"upstream_error\"", StringComparison.Ordinal), $"{tier} {path}: {status} {body}");
            Assert.DoesNotContain(value[half..], body, StringComparison.Ordinal);
            Assert.DoesNotContain(texts, t => t.Value.Contains(value, StringComparison.Ordinal));
        }

        Assert.DoesNotContain(value, await AuditLog(), StringComparison.Ordinal);
        Assert.DoesNotContain(value[half..], await AuditLog(), StringComparison.Ordinal);
    }

    // A provider's fields that change per chunk with ordinary text: no finding, the answer is relayed whole.
    [Fact]
    public async Task AStreamWhoseOwnFieldsChangeWithOrdinaryText_IsRelayed()
    {
        var (key, _) = _keys.Create("repeated-clean", "public", [], null);
        string Piece(string note, string content) => new JsonObject
        {
            ["id"] = "c1", ["object"] = "chat.completion.chunk", ["model"] = "tiny", ["x_note"] = note, ["obfuscation"] = note.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) + "Qx7",
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["content"] = content }, ["finish_reason"] = null }),
        }.ToJsonString();
        _upstream.Script = Scripted.Stream([Piece("step one", "The answer "), Piece("step two", "is forty "), Piece("step three", "two."), Chunk(0, "content", "", "stop")]);
        var (status, body, texts) = await Send(key, streamed: true);
        _upstream.Script = null;
        Assert.True(status == 200 && !body.Contains("upstream_error", StringComparison.Ordinal), body);
        Assert.EndsWith("The answer is forty two.", texts["choices[#0].delta.content"], StringComparison.Ordinal);
    }
}
