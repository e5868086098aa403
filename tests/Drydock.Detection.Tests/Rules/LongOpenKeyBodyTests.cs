using System.Security.Cryptography;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Detection.Tests.Rules;

/// <summary>
/// A key block whose END line never came was covered only up to the rule's window (about 16,400 characters after
/// BEGIN): the rest of a longer base64 body was left outside the finding, and so outside redaction. The finding now runs
/// to the end of the base64 body whatever its length, in lines or in one long line, and stops where the body does.
/// </summary>
public sealed class LongOpenKeyBodyTests
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);

    private static string Base64(int length) => Convert.ToBase64String(RandomNumberGenerator.GetBytes(length))[..length];

    public static TheoryData<string, int, string> Shapes() => new()
    {
        { "RSA PRIVATE KEY", 64, "" },
        { "PRIVATE KEY", 64, "\n\nThat was all of it." },
        { "OPENSSH PRIVATE KEY", 76, "\nThanks for asking, bye" },
        { "EC PRIVATE KEY", 0, "" },
        { "PRIVATE KEY", 0, "\n\nThat was all of it." },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void AFortyThousandCharacterBodyWithoutItsEndLine_IsCoveredToItsEnd(string kind, int lineLength, string after)
    {
        var base64 = Base64(40_000);
        var body = lineLength == 0 ? base64 : string.Join('\n', base64.Chunk(lineLength).Select(c => new string(c)));
        var key = $"-----BEGIN {kind}-----\n{body}";
        var text = "Here it is:\n" + key + after;
        var finding = Assert.Single(s_detector.Scan(text), f => f.Category == Categories.Secret);
        Assert.StartsWith("private-key", finding.Type, StringComparison.Ordinal);
        Assert.Equal(("Here it is:\n".Length, "Here it is:\n".Length + key.Length), (finding.Start, finding.End));
        Assert.True(finding.Excerpt.Length < 200, "the excerpt stays short");
    }

    // A random body holds a placeholder word ("FaKe", "insert") by chance: about one body of 16,000 base64 characters in
    // sixty. Such a key was passed as a documentation placeholder, with or without its END line.
    [Theory]
    [InlineData(1_700, "FaKe", true)]
    [InlineData(1_700, "insert", false)]
    [InlineData(40_000, "fake", false)]
    public void AKeyBodyHoldingAPlaceholderWordByChance_IsStillAKey(int length, string word, bool withEnd)
    {
        var base64 = Base64(length);
        base64 = base64[..(length / 2)] + word + base64[(length / 2 + word.Length)..];
        var key = $"-----BEGIN RSA PRIVATE KEY-----\n{string.Join('\n', base64.Chunk(64).Select(c => new string(c)))}" + (withEnd ? "\n-----END RSA PRIVATE KEY-----" : "");
        var finding = Assert.Single(s_detector.Scan("Here it is:\n" + key), f => f.Category == Categories.Secret);
        Assert.Equal(("Here it is:\n".Length, "Here it is:\n".Length + key.Length), (finding.Start, finding.End));
    }

    [Fact]
    public void AKeyWithItsEndLine_EndsAtTheEndLine_AndTextAfterItIsLeftAlone()
    {
        var key = $"-----BEGIN PRIVATE KEY-----\n{string.Join('\n', Base64(640).Chunk(64).Select(c => new string(c)))}\n-----END PRIVATE KEY-----";
        var text = key + "\nQUJDREVGR0g=\nbye";
        var finding = Assert.Single(s_detector.Scan(text), f => f.Category == Categories.Secret);
        Assert.Equal((0, key.Length), (finding.Start, finding.End));
    }
}
