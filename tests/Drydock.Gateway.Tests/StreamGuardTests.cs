using System.Text;
using Drydock.Detection;
using Drydock.Detection.Analyzers;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Guards;

namespace Drydock.Gateway.Tests;

/// <summary>
/// The streaming output guard with values longer than its window: a private key (whose pattern needs the END line)
/// and a long token must not leave in part while the rest is still on its way, whatever the chunk size.
/// </summary>
public sealed class StreamGuardTests
{
    private static readonly TextGuard s_guard = new(Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers));

    private const string Pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAiEll0j5KUDYOMyZX++/cHwalSXm1jVYQiDIgsmLmxQobcMoW4Rt6f3IWUVihA+mb1oH9InzHcdOezPgLfCxYV7fCXwOUyrk6q8WrziE/2LN9xmHvkbB53xGODK5Pe0IvZIpB4u96Uby0bs/AapjzaHTnQ4XhvH7ObEA+LorFDkqfB8csWnakYDciuZhiIZ8tc5NAzJC2\n-----END RSA PRIVATE KEY-----";

    private const string Jwt = "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiMTAyOTM4NDc1NiIsICJuYW1lIjogIk9sYSBOb3JkbWFubiIsICJpYXQiOiAxNzE2MjM5MDIyfQ.88ad3DNBYjvsedonuSsddfrfifiUziXnFAAoeelK9mq";

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(50)]
    public void ValuesLongerThanTheWindow_NeverLeaveInPart(int chunk)
    {
        foreach (var (value, inner) in new[] { (Pem, "MIIEowIBAAKCAQEA"), (Jwt, "eyJzdWIiOiAiMTAy") })
        {
            var answer = $"Here is what you asked for: {value}\nKeep it safe. Anything else I can help with today?";
            var guard = new StreamGuard(s_guard, GuardMode.Redact, window: 64);
            var sent = Stream(guard, answer, chunk) + guard.Flush();
            Assert.DoesNotContain(inner, sent, StringComparison.Ordinal);
            Assert.DoesNotContain(value[..20], sent, StringComparison.Ordinal);
            Assert.EndsWith("Anything else I can help with today?", sent, StringComparison.Ordinal);
            Assert.NotEmpty(guard.Findings);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(50)]
    public void EveryCatalogueValue_LeavesAsIfTheAnswerCameWhole(int chunk)
    {
        // Every personal-data and credential example of the catalogue, streamed at the default window: what leaves is
        // exactly the one-shot redaction. (Redacting held text as it arrived let a value still arriving be taken for a
        // shorter one, "token: ghp_abc" as a generic key, and the rest of it leave as plain text.)
        var window = new GatewayOptions { Upstream = new Uri("http://127.0.0.1/v1") }.StreamWindow;
        var failures = new List<string>();
        foreach (var rule in BuiltInRules.All.Where(r => r.Category is Categories.Pii or Categories.Secret))
        {
            foreach (var example in rule.Examples)
            {
                var answer = $"Sure, here it is. {example} Let me know if there is anything else I can do for you today.";
                var whole = s_guard.Output(answer, GuardMode.Redact);
                var guard = new StreamGuard(s_guard, GuardMode.Redact, window);
                var sent = Stream(guard, answer, chunk) + guard.Flush();
                if (sent != whole.Text) failures.Add($"{rule.Id}: {sent}");
                if (whole.Findings.Count > 0 && guard.Findings.Count == 0) failures.Add($"{rule.Id}: no finding recorded");
            }
        }

        Assert.Empty(failures);
    }

    [Fact]
    public void ContextSentEarlier_StillCounts()
    {
        // The context words left long before the value arrived; the value is still judged with them.
        var guard = new StreamGuard(s_guard, GuardMode.Redact, window: 16);
        var sent = Stream(guard, "Thanks for waiting. My SSN, as on my card: 536904399. Please update it.", 3) + guard.Flush();
        Assert.DoesNotContain("536904399", sent, StringComparison.Ordinal);
        Assert.Contains("[US_SSN]", sent, StringComparison.Ordinal);
    }

    [Fact]
    public void TextWithoutSpaces_IsNotHeldWhole()
    {
        // Chinese has no spaces between words; only runs of credential characters are held past the window.
        var guard = new StreamGuard(s_guard, GuardMode.Redact, window: 64);
        var answer = string.Concat(Enumerable.Repeat("您的订单将于周一发货，周四送达。", 20));
        var sent = Stream(guard, answer, 3);
        Assert.Equal(answer.Length - 64, sent.Length);
        Assert.Equal(answer, sent + guard.Flush());
        var none = new StreamGuard(s_guard, GuardMode.Redact, window: 0);
        Assert.Equal("word", none.Push("word"));
    }

    [Fact]
    public void OrdinaryProse_LeavesOnceItIsAWindowBehind()
    {
        var guard = new StreamGuard(s_guard, GuardMode.Redact, window: 64);
        var prose = string.Concat(Enumerable.Repeat("Your order ships on Monday and arrives by Thursday. ", 6));
        var sent = Stream(guard, prose, 5);
        Assert.InRange(sent.Length, prose.Length - 64 - 16, prose.Length - 64);
        Assert.Equal(prose, sent + guard.Flush());
    }

    // The text the guard lets out while the answer arrives in chunks of the given size (before the final flush).
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(50)]
    public void EscapedToolArguments_LeaveAsIfTheAnswerCameWhole(int chunk)
    {
        // A tool call's arguments are JSON inside a string: every character of a value may be written as a \uXXXX
        // escape. The backslashes must not end the held credential run, nor the escapes stretch the window.
        var window = new GatewayOptions { Upstream = new Uri("http://127.0.0.1/v1") }.StreamWindow;
        var failures = new List<string>();
        foreach (var rule in BuiltInRules.All.Where(r => r.Category is Categories.Pii or Categories.Secret))
        {
            foreach (var example in rule.Examples)
            {
                foreach (var answer in new[] { "{\"k\":\"" + Escape(example) + "\"}", "{\"note\":\"here it is: " + Escape(example) + " and that is all of it, thanks\"}" })
                {
                    var whole = s_guard.Output(answer, GuardMode.Redact);
                    var guard = new StreamGuard(s_guard, GuardMode.Redact, window);
                    var sent = Stream(guard, answer, chunk) + guard.Flush();
                    if (sent != whole.Text) failures.Add($"{rule.Id}: {sent} <> {whole.Text}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void AnEscapedCanary_NeverLeavesInPart()
    {
        var code = CanaryAnalyzer.NewValue();
        var canaries = new CanaryAnalyzer([CanaryAnalyzer.Hash(code)]);
        var answer = "{\"k\":\"" + Escape("the code is " + code) + "\"}";
        foreach (var size in new[] { 1, 7, 13 })
        {
            var guard = new StreamGuard(s_guard, GuardMode.Redact, 32, canaries);
            var sent = Stream(guard, answer, size) + guard.Flush();
            Assert.True(guard.Blocked && guard.Canary, $"size {size}: not blocked");
            Assert.DoesNotContain(Escape(code[..2]), sent, StringComparison.Ordinal);
        }
    }

    private static string Escape(string text) => string.Concat(text.Select(c => $"\\u{(int)c:x4}"));

    private static string Stream(StreamGuard guard, string answer, int chunk)
    {
        var sent = new StringBuilder();
        for (var i = 0; i < answer.Length; i += chunk) sent.Append(guard.Push(answer.Substring(i, Math.Min(chunk, answer.Length - i))));
        return sent.ToString();
    }
}
