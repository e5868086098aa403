namespace Drydock.Gateway.Tests;

/// <summary>
/// A value in groups joined by separator runs, streamed in one text: the 400-character token of the boundary cases
/// (about 500 to 900 characters written in groups, many hold-back windows long) split across chunks far beyond the
/// hold, so the stream has to hold the open run of groups whole (<c>EncodedText.OpenGroupedRun</c>) rather than the
/// 64 characters of its window; separators <c> * </c>, <c> - </c>, <c>_</c>, line breaks and the runs of the short
/// cases.
/// </summary>
public sealed partial class OuterSeparatorTests
{
    public static TheoryData<string, int, string> LongInOneText()
    {
        var data = new TheoryData<string, int, string>();
        foreach (var tier in new[] { "internal", "public" })
        {
            foreach (var size in new[] { 7, 50 })
            {
                foreach (var separator in new[] { " * ", " - ", "_", "\n", " -\n", " | ", "\t", " -- ", " · " }) data.Add(tier, size, separator);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(LongInOneText))]
    public async Task ALongValueInGroupsStreamedInOneText_IsGuardedAsWhole(string tier, int size, string separator)
    {
        var text = "token: " + Written(separator) + " ok";
        Assert.Contains(s_detector.Scan(text), f => f.Type == "facebook-access-token");
        var (wholeStatus, _, whole) = await _gateway.SendAsync(tier, ScriptedGateway.Whole(text), streamed: false);
        var (status, body, client) = await _gateway.SendAsync(tier, ScriptedGateway.Streamed(text, size), streamed: true);
        Assert.Equal(200, wholeStatus);
        Assert.Equal(200, status);
        foreach (var part in s_token.Chunk(24).Select(c => new string(c)).Where(p => p.Length == 24))
        {
            Assert.DoesNotContain(part, Letters(client), StringComparison.Ordinal);
            Assert.DoesNotContain(part, Letters(body), StringComparison.Ordinal);
        }

        Assert.Contains(tier == "internal" ? "[FACEBOOK" : "[response blocked by policy]", client, StringComparison.Ordinal);
        // A redacting tier sends what the whole answer gives; a blocking one may have sent the words before the token.
        if (tier == "internal") Assert.Equal(whole, client);
        Assert.DoesNotContain(s_token[4..28], Letters(await _gateway.AuditLogAsync()), StringComparison.Ordinal);
    }
}
