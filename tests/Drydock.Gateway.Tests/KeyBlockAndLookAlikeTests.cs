using System.Security.Cryptography;
using Drydock.Gateway.Guards;

namespace Drydock.Gateway.Tests;

/// <summary>
/// Found by an outside attack on the running gateway (<c>internal</c>: output redact, <c>public</c>: output block): a
/// private key whose END line never came (an answer cut off at its token limit) left whole and streamed; values written
/// with Cyrillic or Greek look-alike letters passed every rule; and a key block sent one character a chunk was judged
/// again whole with every chunk. Each through the running gateway with a scripted upstream.
/// </summary>
public sealed class KeyBlockAndLookAlikeTests : IAsyncLifetime
{
    private ScriptedGateway _gateway = null!;

    public async ValueTask InitializeAsync() => _gateway = await ScriptedGateway.StartAsync();

    public async ValueTask DisposeAsync() => await _gateway.DisposeAsync();

    // A key body of lines of 64 base64 characters (random, so no line is in any other test's text).
    private static List<string> KeyLines(int lines) =>
        [.. Convert.ToBase64String(RandomNumberGenerator.GetBytes(lines * 48)).Chunk(64).Select(c => new string(c))];

    public static TheoryData<string, bool> TiersAndShapes() => new() { { "internal", false }, { "internal", true }, { "public", false }, { "public", true } };

    [Theory]
    [MemberData(nameof(TiersAndShapes))]
    public async Task APrivateKeyWithoutItsEndLine_NeverReachesTheClient(string tier, bool streamed)
    {
        var wrong = new List<string>();
        foreach (var kind in new[] { "RSA PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY" })
        {
            var lines = KeyLines(12);

            // Cut off in the middle of a line, as an answer that reached max_tokens is.
            var text = $"Here is the key you asked for:\n-----BEGIN {kind}-----\n{string.Join('\n', lines)[..^20]}";
            var (status, body, seen) = await _gateway.SendAsync(tier, streamed ? ScriptedGateway.Streamed(text, 7, "length") : ScriptedGateway.Whole(text, "length"), streamed);
            var label = $"{tier} {(streamed ? "streamed" : "whole")} {kind}: {status}";
            foreach (var line in lines.Take(lines.Count - 1)) if (seen.Contains(line[..24], StringComparison.Ordinal)) wrong.Add($"{label}: a line of the key reached the client: {body}");
            if (seen.Contains("-----BEGIN", StringComparison.Ordinal)) wrong.Add($"{label}: the BEGIN line reached the client");
            if (tier == "internal" && !seen.Contains("Here is the key you asked for:", StringComparison.Ordinal)) wrong.Add($"{label}: the text around the key was lost: {body}");
            if (tier == "internal" && !seen.Contains("[PRIVATE_KEY", StringComparison.Ordinal)) wrong.Add($"{label}: no placeholder: {body}");
            if (tier == "public" && !seen.Contains(GuardedAnswer.BlockedNotice, StringComparison.Ordinal)) wrong.Add($"{label}: not blocked: {body}");
            var log = await _gateway.AuditLogAsync();
            if (lines.Exists(l => log.Contains(l[..24], StringComparison.Ordinal))) wrong.Add($"{label}: the request log holds a line of the key");
        }

        Assert.Empty(wrong);
    }

    // Look-alike letters: Cyrillic А, К, І in an AWS key id, a Cyrillic о in an e-mail address, a Cyrillic Е in BEGIN and END.
    private const string LookAlikeKeyId = "\u0410\u041A\u0406\u0410Q3EGRL5TFZ6XW7NB";
    private const string LookAlikeEmail = "maria.g\u043Enzalez@fastmail.com";

    [Theory]
    [MemberData(nameof(TiersAndShapes))]
    public async Task ValuesWrittenWithLookAlikeLetters_AreRedactedOrBlocked(string tier, bool streamed)
    {
        var lines = KeyLines(6);
        var pem = $"-----B\u0415GIN RSA PRIVATE KEY-----\n{string.Join('\n', lines)}\n-----\u0415ND RSA PRIVATE KEY-----";
        var wrong = new List<string>();
        foreach (var (value, core, placeholder) in new[]
        {
            (LookAlikeKeyId, "Q3EGRL5TFZ6XW7NB", "[AWS_ACCESS_KEY_ID]"), (LookAlikeEmail, "nzalez@fastmail", "[EMAIL]"), (pem, lines[2][..24], "[PRIVATE_KEY_RSA]"),
        })
        {
            var text = $"Sure: {value} is what you need.";
            var (status, body, seen) = await _gateway.SendAsync(tier, streamed ? ScriptedGateway.Streamed(text, 5) : ScriptedGateway.Whole(text), streamed);
            var label = $"{tier} {(streamed ? "streamed" : "whole")} {placeholder}: {status}";
            if (seen.Contains(core, StringComparison.Ordinal) || body.Contains(core, StringComparison.Ordinal)) wrong.Add($"{label}: the value reached the client: {body}");
            if (tier == "internal" && !seen.Contains(placeholder, StringComparison.Ordinal)) wrong.Add($"{label}: no placeholder: {body}");
            if (tier == "internal" && !seen.Contains("is what you need.", StringComparison.Ordinal)) wrong.Add($"{label}: the text around the value was lost: {body}");
            if (tier == "public" && !seen.Contains(GuardedAnswer.BlockedNotice, StringComparison.Ordinal)) wrong.Add($"{label}: not blocked: {body}");
            if ((await _gateway.AuditLogAsync()).Contains(core, StringComparison.Ordinal)) wrong.Add($"{label}: the request log holds the value");
        }

        Assert.Empty(wrong);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RussianAndGreekSentences_PassUnchanged_OnABlockingTier(bool streamed)
    {
        const string text = "Привет! Моя компания находится в Москве, а офис открыт с 9 до 18. "
            + "Καλημέρα σας, το κατάστημα είναι ανοιχτό κάθε μέρα. Сервер Windows-сервер работает, спасибо.";
        var (status, body, seen) = await _gateway.SendAsync("public", streamed ? ScriptedGateway.Streamed(text, 9) : ScriptedGateway.Whole(text), streamed);
        Assert.True(status == 200 && seen == text, $"{status}: {body}");
    }

    // 20,000 one-character chunks after a BEGIN line: more than any key a rule matches, so the stream is refused (the
    // blocked notice) and none of it is sent; judged every few hundred characters, not again with every chunk.
    [Theory]
    [InlineData("internal")]
    [InlineData("public")]
    public async Task AKeyBlockSentOneCharacterAChunk_BeyondTheLongestKey_IsRefused(string tier)
    {
        var body = new string('Q', 20_000);
        var deltas = new[] { "Here:\n", "-----BEGIN RSA PRIVATE KEY-----\n" }.Concat(body.Select(c => c.ToString()));
        var (status, response, seen) = await _gateway.SendAsync(tier, ScriptedGateway.Streamed(deltas, "length"), streamed: true);
        Assert.True(status == 200 && seen.Contains(GuardedAnswer.BlockedNotice, StringComparison.Ordinal), $"{status}: {response[..Math.Min(2000, response.Length)]}");
        Assert.DoesNotContain("QQQQQQQQ", seen, StringComparison.Ordinal);
        Assert.DoesNotContain("-----BEGIN", seen, StringComparison.Ordinal);
    }

    // A real-sized key sent one character a chunk and cut off before its END line: redacted on a redacting tier, blocked on a blocking one.
    [Theory]
    [InlineData("internal")]
    [InlineData("public")]
    public async Task AKeySentOneCharacterAChunk_WithoutItsEndLine_IsRedactedOrBlocked(string tier)
    {
        var lines = KeyLines(40);
        var deltas = new[] { "Key:\n-----BEGIN RSA PRIVATE KEY-----" }.Concat(("\n" + string.Join('\n', lines)).Select(c => c.ToString())).Append("\n\nThat is all.");
        var (status, response, seen) = await _gateway.SendAsync(tier, ScriptedGateway.Streamed(deltas, "length"), streamed: true);
        Assert.Equal(200, status);
        Assert.DoesNotContain(lines[0][..24], seen, StringComparison.Ordinal);
        Assert.DoesNotContain(lines[^1][..24], seen, StringComparison.Ordinal);
        Assert.Contains(tier == "internal" ? "[PRIVATE_KEY_RSA]" : GuardedAnswer.BlockedNotice, seen, StringComparison.Ordinal);
        if (tier == "internal") Assert.Contains("That is all.", seen, StringComparison.Ordinal);
        Assert.DoesNotContain(lines[0][..24], response, StringComparison.Ordinal);
    }
}
