using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Audit;
using Drydock.Gateway.Keys;
using Drydock.Gateway.Payload;
using Drydock.Tests.Shared;

namespace Drydock.Gateway.Tests;

/// <summary>
/// Base64 wrapped across MIME lines (76 characters a line) with an AWS key whose bytes run across the end of the first
/// line: in a stream the first line could leave before the second arrived, and the second was then decoded only when
/// the 64 characters of context sent before it happened to start on a four-character boundary. The running gateway with
/// a scripted upstream streaming at 1, 7 and 50 characters a chunk, on a redact tier and a block tier, with a stream
/// window of 16 (no context pass reaches back to the line's start): no line holding part of the key reaches the client
/// or the request log, and the key is redacted or the answer blocked.
/// </summary>
public sealed class WrappedBase64StreamTests : IAsyncLifetime
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
    private readonly TempDir _dir = new();
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private ApiKeyStore _keys = null!;
    private readonly HttpClient _http = new();

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _keys = ApiKeyStore.Open(Path.Combine(_dir.Path, "keys"));
        var options = new GatewayOptions
        {
            Upstream = new Uri(_upstream.BaseUrl), StreamWindow = 16, UpstreamTimeout = TimeSpan.FromSeconds(5),
            AuditFolder = Path.Combine(_dir.Path, "requests"), AuditText = AuditText.Redacted,
        };
        _gateway = await GatewayHost.StartAsync(options, new GatewayServices(_keys, s_detector), "http://127.0.0.1:0");
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        _dir.Dispose();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(50)]
    public async Task AWrappedBase64Key_StreamedInChunks_NeverLeavesLineByLine(int size)
    {
        // The key runs from byte 50 to 70 of the note: across the end of the first MIME line (57 bytes).
        var note = "Ticket 44712, billing bucket, the access key id is " + FakeUpstream.AwsKey + " and it is rotated weekly by the ops team.";
        Assert.InRange(note.IndexOf(FakeUpstream.AwsKey, StringComparison.Ordinal), 40, 56);
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(note), Base64FormattingOptions.InsertLineBreaks);
        var lines = encoded.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.True(lines.Length >= 2 && lines[0].Length == 76, encoded);
        Assert.Contains(s_detector.Scan("Attachment:\r\n" + encoded), f => f.Type == "aws-access-key-id");
        var text = "Attachment:\r\n" + encoded + "\r\nEnd of the attachment, as asked.";
        var wrong = new List<string>();
        foreach (var tier in new[] { "internal", "public" })
        {
            var (key, _) = _keys.Create(tier + size, tier, [], null);
            _upstream.Script = Scripted.Stream([.. text.Chunk(size).Select(c => Chunk(new string(c))), Chunk("", "stop")]);
            var (status, body, seen) = await Send(key);
            var label = $"{tier} at {size} a chunk: {status}";
            if (status != 200) wrong.Add($"{label}: {body}");
            if (!seen.Contains("Attachment:", StringComparison.Ordinal) && !seen.Contains(Guards.GuardedAnswer.BlockedNotice, StringComparison.Ordinal)) wrong.Add($"{label}: the answer did not arrive: {body}");
            foreach (var line in lines.Take(2))
            {
                if (seen.Contains(line[..24], StringComparison.Ordinal)) wrong.Add($"{label}: a line holding part of the key reached the client: {seen}");
            }

            if (tier == "internal" && !seen.Contains("[AWS_ACCESS_KEY_ID]", StringComparison.Ordinal) && !seen.Contains(Guards.GuardedAnswer.BlockedNotice, StringComparison.Ordinal)) wrong.Add($"{label}: neither redacted nor blocked: {seen}");
            if (tier == "public" && !seen.Contains(Guards.GuardedAnswer.BlockedNotice, StringComparison.Ordinal)) wrong.Add($"{label}: not blocked: {seen}");
        }

        _upstream.Script = null;
        var log = await AuditLog();
        foreach (var line in lines.Take(2))
        {
            if (log.Contains(line[..24], StringComparison.Ordinal)) wrong.Add($"the request log holds a line of the encoded key at {size} a chunk");
        }

        Assert.Empty(wrong);
    }

    private static string Chunk(string text, string? finish = null) => new JsonObject
    {
        ["id"] = "c1", ["object"] = "chat.completion.chunk", ["model"] = "tiny",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["content"] = text }, ["finish_reason"] = finish }),
    }.ToJsonString();

    // Sends a streamed chat request; returns the status, the body and the answer's content as a client joins it.
    private async Task<(int Status, string Body, string Seen)> Send(string key)
    {
        var request = new JsonObject { ["model"] = "tiny", ["stream"] = true, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }) };
        using var message = new HttpRequestMessage(HttpMethod.Post, _gateway.Urls[0] + "/v1/chat/completions") { Content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json") };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _http.SendAsync(message, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var seen = new StringBuilder();
        foreach (var document in body.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal) && l != "data: [DONE]").Select(l => l[6..]))
        {
            foreach (var leaf in JsonStrings.Answer(JsonNode.Parse(document))) seen.Append(leaf.Value);
        }

        return ((int)response.StatusCode, body, seen.ToString());
    }

    private async Task<string> AuditLog()
    {
        await _gateway.FlushAuditAsync();
        return string.Concat(await Task.WhenAll(Directory.GetFiles(Path.Combine(_dir.Path, "requests"), "*.jsonl").Where(f => !Path.GetFileName(f).StartsWith("signals-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Select(f => File.ReadAllTextAsync(f))));
    }
}
