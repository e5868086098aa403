using Drydock.Detection.Analyzers;

namespace Drydock.Detection.Tests;

public sealed class CanaryAnalyzerTests
{
    [Fact]
    public void ARegisteredCanary_IsFoundHoweverItIsSpaced_AndMasked()
    {
        var canary = CanaryAnalyzer.NewValue();
        Assert.Matches("^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$", canary);
        var analyzer = new CanaryAnalyzer([CanaryAnalyzer.Hash(canary)]);
        foreach (var form in new[] { canary, canary.Replace('-', ' '), canary.Replace("-", "", StringComparison.Ordinal), canary.ToLowerInvariant() })
        {
            List<Finding>? findings = null;
            analyzer.Analyze($"The recovery code is {form}.", ref findings);
            var f = Assert.Single(findings!);
            Assert.Equal((Categories.Canary, Severity.Critical), (f.Category, f.Severity));
            Assert.DoesNotContain(form[4..], f.Excerpt, StringComparison.Ordinal);
        }

        // The code glued inside a longer token is still the code (every position is tried)...
        List<Finding>? glued = null;
        analyzer.Analyze($"token X{canary}Y", ref glued);
        Assert.Equal(("token X".Length, "token X".Length + canary.Length), (Assert.Single(glued!).Start, glued![0].End));

        // ...another code of the same shape, or nothing registered: no finding.
        List<Finding>? none = null;
        analyzer.Analyze($"codes {CanaryAnalyzer.NewValue()} and more", ref none);
        new CanaryAnalyzer([]).Analyze(canary, ref none);
        Assert.Null(none);
    }
}
