using System.Text;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Detection.Tests.Engine;

/// <summary>
/// A placeholder word counts where it stands as a word of its own, never as a few letters that chance wrote inside a
/// long random value: random JWTs and API tokens of many lengths (seeded) are all found, those with <c>FaKe</c> or
/// <c>dUmMy</c> inside a run of random letters too, while documentation placeholders stay placeholders.
/// </summary>
public sealed class PlaceholderPositionTests
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
    private const string Url64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    private static string Random(Random random, int length)
    {
        var b = new StringBuilder(length);
        for (var i = 0; i < length; i++) b.Append(Url64[random.Next(Url64.Length)]);
        return b.ToString();
    }

    // A token of one of the shapes a long random secret comes in, of a length drawn from the shape's range.
    private static (string Token, string Type) Token(Random random, int i) => (i % 4) switch
    {
        0 => ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ" + Random(random, random.Next(20, 7_900)) + "." + Random(random, random.Next(43, 3_000)), "jwt"),
        1 => ("eyJhbGciOiJSUzI1NiJ9.eyJ" + Random(random, random.Next(8_000, 16_000)) + "." + Random(random, 342), "jwt"),
        2 => ("sk-proj-" + Random(random, random.Next(40, 250)), "openai-api-key"),
        _ => ("ya29." + Random(random, random.Next(30, 400)), "google-oauth-access-token"),
    };

    [Fact]
    public void FiveHundredRandomTokens_AreAllFound()
    {
        var random = new Random(20_3);
        var missed = new List<string>();
        for (var i = 0; i < 500; i++)
        {
            var (token, type) = Token(random, i);
            var text = $"Here {token} end";
            if (!s_detector.Scan(text).Any(f => f.Type == type && f.Start == 5 && f.End == 5 + token.Length)) missed.Add($"{i} {type} ({token.Length} characters): {token[..Math.Min(60, token.Length)]}…");
        }

        Assert.Empty(missed);
    }

    [Theory]
    [InlineData("FaKe")]
    [InlineData("fAkE")]
    [InlineData("dUmMy")]
    [InlineData("xXxXx")]
    [InlineData("YoUr_")]
    public void APlaceholderWordWrittenByChanceInsideRandomLetters_IsStillASecret(string word)
    {
        var random = new Random(7);
        var body = "Qz" + Random(random, 120).Replace("-", "k", StringComparison.Ordinal).Replace("_", "m", StringComparison.Ordinal) + "Rt";
        var token = "sk-proj-" + body[..60] + "b" + word + "q" + body[60..];
        Assert.False(Placeholders.IsPlaceholder(token), token);
        Assert.Contains(s_detector.Scan($"key {token} end"), f => f.Type == "openai-api-key");
    }

    [Theory]
    [InlineData("sk-live-EXAMPLE-key")]
    [InlineData("AKIAEXAMPLEKEY123456")]
    [InlineData("AKIAIOSFODNN7EXAMPLE")]
    [InlineData("<your-token-here>")]
    [InlineData("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")]
    [InlineData("sk-proj-fake-0123456789abcdefghijklmnopqrstuvwxyz0123")]
    [InlineData("ghp_FAKE1234567890abcdefghijklmnopqrstuv")]
    [InlineData("xoxb-123456789012-dummy-token-value")]
    [InlineData("AKIAFAKEKEY123456789")]
    [InlineData("sk_test_your_key_goes_here_12345")]
    public void DocumentationPlaceholders_StayPlaceholders(string value) => Assert.True(Placeholders.IsPlaceholder(value), value);

    [Fact]
    public void DocumentedPlaceholdersInText_AreNoFinding()
    {
        Assert.DoesNotContain(s_detector.Scan("export AWS_ACCESS_KEY_ID=AKIAEXAMPLEKEY123456"), f => f.Type == "aws-access-key-id");
        Assert.DoesNotContain(s_detector.Scan("OPENAI_API_KEY=sk-proj-fake-0123456789abcdefghijklmnopqrstuvwxyz0123"), f => f.Type == "openai-api-key");
    }
}
