using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Detection.Tests.Engine;

public class DetectorTests
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All);

    [Theory]
    [InlineData("reach me at jane.doe@acme-mail.com", "email", 12, 34)]
    [InlineData("{\"key\": \"AKIAGNSUV3QBWQSDXU6S\"}", "aws-access-key-id", 9, 29)]
    [InlineData("card: 4539 1488 0343 6467", "credit-card", 6, 25)]
    [InlineData("IBAN DE89370400440532013000 ok", "iban", 5, 27)]
    [InlineData("SSN 536-90-4399", "us-ssn", 4, 15)]
    [InlineData("from 81.2.69.142.", "ipv4", 5, 16)]
    public void Scan_KnownValue_ReportsTypeAndSpan(string text, string type, int start, int end)
    {
        var finding = Assert.Single(s_detector.Scan(text), f => f.Type == type);
        Assert.Equal((start, end), (finding.Start, finding.End));
    }

    [Theory]
    [InlineData("The quick brown fox jumps over the lazy dog.")]
    [InlineData("commit 3f786850e387550fdab836ed7e6dc881de23001b")]
    [InlineData("id 550e8400-e29b-41d4-a716-446655440000")]
    [InlineData("Order #2024-11-28-7781 shipped; tracking 1Z999AA10123456784")]
    [InlineData("")]
    public void Scan_Distractor_ReportsNothing(string text) => Assert.Empty(s_detector.Scan(text));

    [Fact]
    public void Scan_Excerpt_NeverContainsTheRawValue()
    {
        const string card = "4539 1488 0343 6467";
        const string email = "jane.doe@acme-mail.com";
        var findings = s_detector.Scan($"Pay with {card}, receipt to {email}");
        Assert.Equal(2, findings.Count);
        foreach (var finding in findings)
        {
            Assert.DoesNotContain(card, finding.Excerpt, StringComparison.Ordinal);
            Assert.DoesNotContain("jane.doe", finding.Excerpt, StringComparison.Ordinal);
            Assert.DoesNotContain("4539", finding.Excerpt, StringComparison.Ordinal);
        }

        Assert.Contains("**** **** **** ****", findings[0].Excerpt, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_GitHubToken_ChecksumRaisesConfidence()
    {
        var valid = Assert.Single(s_detector.Scan("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"));
        var invalid = Assert.Single(s_detector.Scan("ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8024xXJ"));
        Assert.True(valid.Confidence > invalid.Confidence);
        Assert.StartsWith("ghp_****", valid.Excerpt, StringComparison.Ordinal);
        Assert.DoesNotContain("u8jz", valid.Excerpt, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_OverlappingRulesOfOneCategory_KeepsTheSpecificOne()
    {
        var findings = s_detector.Scan("password = \"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\"");
        var finding = Assert.Single(findings);
        Assert.Equal("github-pat", finding.Type);
    }

    [Fact]
    public void Scan_AdversarialRuns_CompletesAndFindsNothing()
    {
        foreach (var unit in new[] { "@", ".", "1", "-", "-----BEGIN ", "a@", "1.", "eyJ", "ghp_", ":" })
        {
            var text = string.Concat(Enumerable.Repeat(unit, 200_000 / unit.Length));
            Assert.DoesNotContain(s_detector.Scan(text), f => f.Category == Categories.Secret);
        }
    }

    [Fact]
    public void Create_DuplicateIds_Throws()
    {
        var rule = BuiltInRules.All[0];
        Assert.Throws<ArgumentException>(() => Detector.Create([rule, rule]));
    }
}
