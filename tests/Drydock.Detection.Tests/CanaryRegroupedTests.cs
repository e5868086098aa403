using Drydock.Detection.Analyzers;

namespace Drydock.Detection.Tests;

/// <summary>
/// A registered canary regrouped (<c>NCULUD AQMP4V</c>, <c>NC UL UD AQ MP 4V</c>, <c>NCU-LUD-AQM-P4V</c>), one
/// character a line or with zero-width characters between its characters passed: the analyzer read only three
/// contiguous groups of four. Separators between any two characters are now skipped; ordinary text stays clean.
/// </summary>
public sealed class CanaryRegroupedTests
{
    private const string Canary = "NCUL-UDAQ-MP4V";
    private static readonly CanaryAnalyzer s_analyzer = new([CanaryAnalyzer.Hash(Canary)]);

    public static TheoryData<string> Regrouped() => new()
    {
        "NCULUD AQMP4V", "NC UL UD AQ MP 4V", "NCU-LUD-AQM-P4V", "NCU_LUD_AQM_P4V", "NCUL.UDAQ.MP4V", "NC/UL/UD/AQ/MP/4V",
        "N\nC\nU\nL\nU\nD\nA\nQ\nM\nP\n4\nV", "N\r\nC\r\nU\r\nL\r\nU\r\nD\r\nA\r\nQ\r\nM\r\nP\r\n4\r\nV", "N C U L U D A Q M P 4 V",
        "N - C - U - L - U - D - A - Q - M - P - 4 - V", "NCU\u200BLUD\u200BAQM\u200BP4V", "N\u200DCULUDAQMP4V", "ncul ud aqmp 4v",
    };

    [Theory]
    [MemberData(nameof(Regrouped))]
    public void ARegroupedCanary_IsFound_InOrdinaryTextAroundIt(string form)
    {
        foreach (var (before, after) in new[] { ("", ""), ("The code is ", "."), ("Use test ", " today"), ("x", "y") })
        {
            List<Finding>? findings = null;
            s_analyzer.Analyze(before + form + after, ref findings);
            var f = Assert.Single(findings!);
            Assert.Equal(Categories.Canary, f.Category);
            Assert.Equal((before.Length, before.Length + form.Length), (f.Start, f.End));
            Assert.DoesNotContain("P4V", f.Excerpt, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void OrdinaryText_AndCodesThatAreNotRegistered_AreNotFound()
    {
        var texts = new[]
        {
            "The quick brown fox jumps over the lazy dog, then the cat naps at 3 pm. Call 555-0134 for help.",
            "NCUL-UDAQ-MP4W and NCUL UDAQ MP4 and N C U L U D A Q M P 4 and NCULUDAQMP4 spelled apart: N C U L U D A Q M P 4 W",
            "NCUL-UDAQ-" + new string(' ', 40) + "MP4V has more separators than the 36 a code may hold in all",
            string.Join(' ', Enumerable.Range(0, 200).Select(i => CanaryAnalyzer.NewValue())),
            "Shipping: SKU AB-CD-EF-GH-JK-LM, batch 2024/11/07, lot QRS-TUV-WXY-Z23.",
        };
        foreach (var text in texts)
        {
            List<Finding>? findings = null;
            s_analyzer.Analyze(text, ref findings);
            Assert.Null(findings);
        }
    }
}
