using CsCheck;
using Drydock.Detection;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Guards;

namespace Drydock.Gateway.Tests;

/// <summary>
/// Properties of the output guard over generated answers (CsCheck): prose, catalogue values and separators (some
/// invisible) in any order, streamed in chunks of any sizes.
/// </summary>
public sealed class GuardPropertyTests
{
    private static readonly TextGuard s_guard = new(Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers));

    private static readonly string[] s_values = [.. BuiltInRules.All.Where(r => r.Category is Categories.Pii or Categories.Secret).SelectMany(r => r.Examples).Take(200)];

    private static readonly string[] s_prose = ["Sure, here it is.", "my email is", "token:", "call me on", "Let me know if you need anything else.", "password =", "ok", "{\"key\": \"", "\"}", "é", "ﬁle"];

    private static readonly Gen<string> s_answer = Gen.OneOf(Gen.OneOf(s_values), Gen.OneOf(s_prose), Gen.OneOf(s_prose))
        .Array[1, 6]
        .Select(Gen.OneOf(" ", "\n", ", ", "\u200B", "\t").Array[6], (parts, separators) => string.Concat(parts.Select((p, i) => p + separators[i])));

    [Fact]
    public void StreamGuard_EqualsTheOneShotGuard_ForAnyChunking()
    {
        var window = new GatewayOptions { Upstream = new Uri("http://127.0.0.1/v1") }.StreamWindow;
        Gen.Select(s_answer, Gen.Int[1, 40].Array[1, 12]).Sample((answer, sizes) =>
        {
            var whole = s_guard.Output(answer, GuardMode.Redact);
            var guard = new StreamGuard(s_guard, GuardMode.Redact, window);
            var sent = new System.Text.StringBuilder();
            var at = 0;
            for (var k = 0; at < answer.Length; k++)
            {
                var size = Math.Min(sizes[k % sizes.Length], answer.Length - at);
                sent.Append(guard.Push(answer.Substring(at, size)));
                at += size;
            }

            sent.Append(guard.Flush());
            Assert.Equal(whole.Text, sent.ToString());
        }, iter: 150, threads: 1);
    }

    [Fact]
    public void Redaction_NeverLeavesAFoundValue()
    {
        s_answer.Sample(answer =>
        {
            var result = s_guard.Output(answer, GuardMode.Redact);
            foreach (var finding in result.Findings.Where(f => f.Category is Categories.Pii or Categories.Secret))
            {
                var value = answer[finding.Start..finding.End];
                Assert.DoesNotContain(value, result.Text, StringComparison.Ordinal);
            }
        }, iter: 300, threads: 1);
    }

    // Found by the normaliser's idempotence property (MatchTextPropertyTests): the platform's normalisation threw on a
    // noncharacter, so a request or answer holding U+FFFE failed the guard instead of being judged.
    [Theory]
    [InlineData("hello \uFFFE world")]
    [InlineData("\uFFFF\u0301 AKIAIOSFODNN7EXAMPLE")]
    public void Guards_Noncharacter_JudgeTheText(string text)
    {
        Assert.Equal(text, s_guard.Input(text, GuardMode.Allow).Text);
        Assert.NotEmpty(s_guard.Output(text, GuardMode.Redact).Text);
    }

    // Found by Redaction_NeverLeavesAFoundValue (seed 7awMp9unX1w1): the second copy of a token, followed by a zero-width
    // space and a base64 key block, was left whole by the redaction.
    [Fact]
    public void Redaction_TokenWrittenTwice_BeforeABase64Key_RedactsBothCopies()
    {
        const string token = "ghu_mxgJTeKdNnFRIBXuDL7DxtpYlSXpfK0IYYek";
        const string key = "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFBS0NBUUVBaUVsbDBqNUtVRFlPTXlaWCsrL2NId2FsU1htMWpWWVFpRElnc21MbXhRb2JjTW9XNFJ0NmYzSVdVVmloQSttYjFvSDlJbnpIY2RPZXpQZ0xmQ3hZVjdmQ1h3T1V5cms2cThXcnppRS8yTE45eG1IdmtiQjUzeEdPREs1UGUwSXZaSXBCNHU5NlVieTBicy9BYXBqemFIVG5RNFhodkg3T2JFQStMb3JGRGtxZkI4Y3NXbmFrWURjaXVaaGlJWjh0YzVOQXpKQzIKLS0tLS1FTkQgUlNBIFBSSVZBVEUgS0VZLS0tLS0K";
        var answer = "Dear Mr. Okafor,, " + token + "\t" + token + "\u200BPRIVATE_KEY_B64=" + key + " ";
        var result = s_guard.Output(answer, GuardMode.Redact);
        Assert.DoesNotContain(token, result.Text, StringComparison.Ordinal);
        Assert.Equal("Dear Mr. [PERSON_NAME],, [GITHUB_USER_TOKEN]\t[GITHUB_USER_TOKEN]\u200BPRIVATE_KEY_B64=[PRIVATE_KEY_BASE64] ", result.Text);
        Assert.Equal(2, result.Findings.Count(f => f.Type == "github-user-token"));
    }

    // Found by Redaction_NeverLeavesAFoundValue (seed 9e_otSrI7qB1): a name introduced twice was redacted only once.
    [Fact]
    public void Redaction_NameIntroducedTwice_RedactsBothCopies()
    {
        const string line = "Hi, my name is Maria Gonzalez and I need help";
        var answer = "Let me know if you need anything else., https://acme.blob.core.windows.net/c/f.txt?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-01-01T00:00:00Z&sig=Zm9vYmFyYmF6cXV4cXV1eHh5enp5MTIzNDU2Nzg5MGFi%3D \u00e9\n\u00e9\t" + line + "\n" + line + " ";
        var result = s_guard.Output(answer, GuardMode.Redact);
        Assert.False(result.Text.Contains("Maria Gonzalez", StringComparison.Ordinal), string.Join("; ", result.Findings.Select(f => $"{f.Type} {f.Start}-{f.End}")) + " => " + result.Text);
    }

    // Found by Redaction_NeverLeavesAFoundValue (seed fUKLN47Z83A1): the label of the next field after "password =" was
    // taken for the password, so the finding's value ("license_key:") stood elsewhere in the answer as ordinary text.
    [Fact]
    public void Redaction_ALabelAfterPasswordEquals_IsNotThePassword_AndBothKeysAreRedacted()
    {
        const string answer = "license_key: 7c2e91f04ab83d56e0f1a9b7c4d2e8f3a6b5c0d9, my email is Let me know if you need anything else.\t\uFB01le password =\tlicense_key: 5d46af783b52901a6ccaccdb251bce79793aNRAL\t";
        var result = s_guard.Output(answer, GuardMode.Redact);
        Assert.DoesNotContain(result.Findings, f => answer[f.Start..f.End] == "license_key:");
        Assert.DoesNotContain("7c2e91f04ab83d56e0f1a9b7c4d2e8f3a6b5c0d9", result.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("5d46af783b52901a6ccaccdb251bce79793aNRAL", result.Text, StringComparison.Ordinal);
        foreach (var finding in result.Findings.Where(f => f.Category is Categories.Pii or Categories.Secret))
        {
            Assert.DoesNotContain(answer[finding.Start..finding.End], result.Text, StringComparison.Ordinal);
        }
    }
}
