using System.Globalization;

namespace Drydock.Gateway.Tests;

/// <summary>
/// Two leaks an outside attack found, each through the running gateway with a scripted upstream: a token written as
/// escapes (<c>\x67\x68…</c>, <c>&amp;#103&amp;#104…</c>, octal <c>\147\150…</c>) longer than the hold-back window went out
/// unchanged when streamed, while the whole answer was guarded (a key in <c>\x</c> escapes leaked its first
/// characters); and a registered canary with markup or a reference between its groups (<c>&lt;b&gt;TA76&lt;/b&gt;-…</c>,
/// <c>&amp;shy;</c>) passed the tripwire. The streamed answer must be guarded as the whole one is (redacted alike;
/// blocked with nothing of the value sent), and the canary must block the answer and open an incident.
/// </summary>
public sealed class EscapedStreamAndMarkedCanaryTests : IAsyncLifetime
{
    private const string Token = "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";
    private const string Body = "Q3EGRL5TFZ6XW7NB";
    private const string Canary = "TA76-9W5X-JMSC";
    private ScriptedGateway _gateway = null!;

    public async ValueTask InitializeAsync() => _gateway = await ScriptedGateway.StartAsync(Canary);

    public async ValueTask DisposeAsync() => await _gateway.DisposeAsync();

    private static string Hex(string value) => string.Concat(value.Select(c => "\\x" + ((int)c).ToString("x2", CultureInfo.InvariantCulture)));

    private static string Octal(string value) => string.Concat(value.Select(c => "\\" + Convert.ToString(c, 8).PadLeft(3, '0')));

    private static string Html(string value) => string.Concat(value.Select(c => "&#" + ((int)c).ToString(CultureInfo.InvariantCulture)));

    public static TheoryData<string, string, int> EscapedTokens()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var tier in new[] { "internal", "public" })
        {
            foreach (var written in new[] { Hex(Token), Html(Token), Octal(Token) })
            {
                data.Add(tier, written, 1);
                data.Add(tier, written, 7);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EscapedTokens))]
    public async Task AnEscapedTokenLongerThanTheWindow_IsGuardedWhenStreamed_AsWhole(string tier, string written, int size)
    {
        var text = "token: " + written + " end";
        var (_, _, whole) = await _gateway.SendAsync(tier, ScriptedGateway.Whole(text), streamed: false);
        var (status, body, streamed) = await _gateway.SendAsync(tier, ScriptedGateway.Streamed(text, size), streamed: true);
        Assert.Equal(200, status);
        Assert.DoesNotContain(written[..12], body, StringComparison.Ordinal);
        Assert.Equal(tier == "internal" ? "token: [GITHUB_PAT] end" : "[response blocked by policy]", whole);

        // A stream cannot take back what left before the value: the words in front of it (unless the value was found
        // while they were still held: the rendered reading decodes the escapes as they arrive), then the notice.
        if (tier == "internal") Assert.Equal(whole, streamed);
        else Assert.Contains(streamed, new[] { whole, "token: " + whole });
    }

    [Theory]
    [InlineData("internal", 1)]
    [InlineData("internal", 7)]
    [InlineData("public", 1)]
    [InlineData("public", 7)]
    public async Task AnAwsKeyInHexEscapes_LeaksNoCharacterWhenStreamed(string tier, int size)
    {
        var text = "key " + Hex("AKIA" + Body) + " ok";
        var (_, _, whole) = await _gateway.SendAsync(tier, ScriptedGateway.Whole(text), streamed: false);
        var (status, body, streamed) = await _gateway.SendAsync(tier, ScriptedGateway.Streamed(text, size), streamed: true);
        Assert.Equal(200, status);
        Assert.DoesNotContain("\\\\x41", body, StringComparison.Ordinal);
        Assert.Equal(tier == "internal" ? "key [AWS_ACCESS_KEY_ID] ok" : "[response blocked by policy]", whole);
        Assert.Equal(tier == "internal" ? whole : "key " + whole, streamed);
    }

    [Theory]
    [InlineData("C:\\Users\\maria\\Documents\\notes.txt and then")]
    [InlineData("Use \\n for a new line and &amp; for an ampersand, or &#169; for the sign.")]
    public async Task OrdinaryEscapesInAStream_GoOutUnchanged(string text)
    {
        var (status, _, streamed) = await _gateway.SendAsync("public", ScriptedGateway.Streamed(text, 3), streamed: true);
        Assert.Equal(200, status);
        Assert.Equal(text, streamed);
    }

    public static TheoryData<string, bool> MarkedCanaries()
    {
        var data = new TheoryData<string, bool>();
        foreach (var written in new[]
        {
            "<b>TA76</b>-<b>9W5X</b>-<b>JMSC</b>",
            "TA76 <br> 9W5X <br> JMSC",
            "TA76<!-- x -->-<!-- y -->9W5X-JMSC",
            "TA76&shy;9W5X&shy;JMSC",
            "TA76&#45;9W5X&nbsp;JMSC",
        })
        {
            data.Add(written, false);
            data.Add(written, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(MarkedCanaries))]
    public async Task ACanaryWithMarkupOrEntitiesBetweenItsGroups_IsTheTripwire(string written, bool streamed)
    {
        var text = "code " + written + " end";
        var before = _gateway.IncidentCount();
        var script = streamed ? ScriptedGateway.Streamed(text, 7) : ScriptedGateway.Whole(text);
        var (status, body, client) = await _gateway.SendAsync("public", script, streamed);
        Assert.Equal(200, status);
        Assert.DoesNotContain("9W5X", body, StringComparison.Ordinal);
        Assert.Contains("content_filter", body, StringComparison.Ordinal);
        Assert.Contains("[response blocked by policy]", client, StringComparison.Ordinal);
        Assert.Equal(before + 1, _gateway.IncidentCount());
    }

    [Theory]
    [InlineData("<p>Step <b>1</b>: open the <a href=\"https://example.com/docs\">docs</a>&nbsp;page.</p><ul><li>TA76 is a model</li><li>9W5X &amp; more</li></ul>", false)]
    [InlineData("<p>Step <b>1</b>: open the <a href=\"https://example.com/docs\">docs</a>&nbsp;page.</p><ul><li>TA76 is a model</li><li>9W5X &amp; more</li></ul>", true)]
    [InlineData("<table><tr><td>A1</td><td>B2</td></tr><tr><td>&lt;x&gt;</td><td>&copy; 2024</td></tr></table>", false)]
    public async Task OrdinaryHtmlAnswers_AreNotBlocked(string text, bool streamed)
    {
        var before = _gateway.IncidentCount();
        var script = streamed ? ScriptedGateway.Streamed(text, 7) : ScriptedGateway.Whole(text);
        var (status, _, client) = await _gateway.SendAsync("public", script, streamed);
        Assert.Equal(200, status);
        Assert.Equal(text, client);
        Assert.Equal(before, _gateway.IncidentCount());
    }
}
