using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Detection.Tests.Rules;

/// <summary>
/// A JWT whose payload was over 8,000 characters was not matched by DD-SEC-035 at all, so the whole token passed raw.
/// The rule now matches a token of any length and its finding covers the whole token, in one linear pass.
/// </summary>
public sealed class LongJwtTests
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);

    private const string Header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

    private static string Segment(int length) => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(length))[..length];

    private static string Payload(int length) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes("{\"sub\":\"" + new string('a', length) + "\"}"))[..length];

    [Theory]
    [InlineData(20_000, 43, ". Use it within the hour.")]
    [InlineData(20_000, 3_000, "")]
    [InlineData(9_000, 86, " and nothing else")]
    [InlineData(100, 3_000, "\nbye")]
    public void ALongToken_IsFound_AndItsSpanCoversTheWholeToken(int payloadLength, int signatureLength, string after)
    {
        var token = $"{Header}.{Payload(payloadLength)}.{Segment(signatureLength)}";
        var text = "Bearer " + token + after;
        var finding = Assert.Single(s_detector.Scan(text), f => f.Category == Categories.Secret);
        Assert.Equal("jwt", finding.Type);
        Assert.Equal(("Bearer ".Length, "Bearer ".Length + token.Length), (finding.Start, finding.End));
        Assert.True(finding.Excerpt.Length < 200, "the excerpt stays short");
    }

    [Fact]
    public void ALongPayloadWithoutItsSignature_IsCoveredToItsEnd()
    {
        var token = $"{Header}.{Payload(30_000)}";
        var finding = Assert.Single(s_detector.Scan(token + " (cut off)"), f => f.Category == Categories.Secret);
        Assert.Equal((0, token.Length), (finding.Start, finding.End));
    }

    [Theory]
    [InlineData("Authorization: Bearer eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiMTAyOTM4NDc1NiIsICJuYW1lIjogIk9sYSBOb3JkbWFubiIsICJpYXQiOiAxNzE2MjM5MDIyfQ.88ad3DNBYjvsedonuSsddfrfifiUziXnFAAoeelK9mq. Thanks", "Authorization: Bearer ", ". Thanks")]
    [InlineData("t=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U; next", "t=", "; next")]
    [InlineData("alg none: eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0. done", "alg none: ", " done")]
    public void AShortToken_IsFoundAsBefore(string text, string before, string after)
    {
        var finding = Assert.Single(s_detector.Scan(text), f => f.Category == Categories.Secret);
        Assert.Equal("jwt", finding.Type);
        Assert.Equal((before.Length, text.Length - after.Length), (finding.Start, finding.End));
    }

    [Theory]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0 has no signature")]
    [InlineData("eyJub3QiOiJqd3QifQ.eyJhIjoxfQ.c2lnbmF0dXJlc2lnbmF0dXJl")]
    public void AShortTokenWithoutSignatureOrAlg_IsNotAJwt(string text) =>
        Assert.DoesNotContain(s_detector.Scan(text), f => f.Type == "jwt");

    public static TheoryData<string, string> HostileInputs() => new()
    {
        { "base64url-with-dots", string.Concat(Enumerable.Repeat("eyJ" + Segment(9) + ".", 80_000)) },
        { "short-segments", string.Concat(Enumerable.Repeat("eyJhbGciOi.eyJ.", 70_000)) },
        { "long-header-prefix", "eyJ" + new string('A', 1_000_000) },
        { "jwt-prefix-without-signature", Header + ".eyJ" + Segment(1_000_000) },
        { "many-long-payloads", string.Concat(Enumerable.Repeat(Header + ".eyJ" + Segment(9_000) + ".", 110)) },
    };

    [Theory]
    [MemberData(nameof(HostileInputs))]
    public void HostileInput_ScansWithoutCrashing(string name, string text)
    {
        var findings = s_detector.Scan(text);
        Assert.NotNull(findings);
        Assert.All(findings, f => Assert.InRange(f.End, f.Start, text.Length));
        Assert.False(string.IsNullOrEmpty(name));
    }
}
