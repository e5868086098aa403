using System.Text;
using System.Text.Json.Nodes;
using Drydock.Detection;
using Drydock.Detection.Analyzers;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Guards;
using Drydock.Gateway.Upstream;
using Microsoft.AspNetCore.Http;

namespace Drydock.Gateway.Tests;

/// <summary>
/// Found by the gateway-answer and gateway-stream fuzz targets: an upstream answer or stream chunk with a key given
/// twice parsed, and the first read of the object threw ArgumentException ("An item with the same key has already been
/// added"), an unhandled exception instead of a refused answer. A key given twice is now malformed.
/// </summary>
public sealed class DuplicateKeyAnswerTests
{
    private static readonly TextGuard s_guard = new(Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers));

    [Fact]
    public async Task AWholeAnswerWithAKeyTwice_IsRefusedAsMalformed()
    {
        var context = new DefaultHttpContext();
        var sent = new MemoryStream();
        context.Response.Body = sent;
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK)
        {
            Content = new StringContent("""{"object":"chat.completion","object":"x","choices":[{"index":0,"message":{"role":"assistant","content":"a","content":"b"}}]}""", Encoding.UTF8, "application/json"),
        };
        Assert.Null(await UpstreamClient.ReadJsonAsync(context, response));
        Assert.Equal(502, context.Response.StatusCode);
        Assert.Contains("upstream_malformed", Encoding.UTF8.GetString(sent.ToArray()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStreamChunkWithAKeyTwice_EndsTheStreamWithoutIt()
    {
        var context = new DefaultHttpContext();
        var sent = new MemoryStream();
        context.Response.Body = sent;
        const string stream = "data: {\"id\":\"c\",\"model\":\"m\",\"model\":\"n\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"secret\"}}]}\n\ndata: [DONE]\n\n";
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent(stream, Encoding.UTF8, "text/event-stream") };
        var tier = new Tier("t", ["*"], 4096, true, GuardMode.Block, GuardMode.Redact, 600, 200_000);
        await new StreamedAnswerGuard(s_guard, 64).RelayAsync(context, response, chat: true, new GuardedAnswer(tier, new CanaryAnalyzer([CanaryAnalyzer.Hash("DRYDOCK-CANARY-test")])), new JsonObject());
        var output = Encoding.UTF8.GetString(sent.ToArray());
        Assert.EndsWith("data: [DONE]\n\n", output, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", output, StringComparison.Ordinal);
    }
}
