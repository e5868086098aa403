using System.Diagnostics;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Detection.Tests.Engine;

/// <summary>
/// Other spellings of a credential that were not decoded: groups of four, markdown emphasis inside the key, comma
/// separated, one character a line, percent-encoded. Each is reported on the whole spelled span with its encoding;
/// ordinary text in the same shapes is not.
/// </summary>
public sealed class EncodedSpellingsTests
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);

    private const string Key = "AKIAGNSUV3QBWQSDXU6S";

    public static TheoryData<string, string> Spelled() => new()
    {
        { "AKIA GNSU V3QB WQSD XU6S", "grouped" },
        { "AKIA-GNSU-V3QB-WQSD-XU6S", "grouped" },
        { "AKIAGN SUV3QB WQSDXU 6S", "grouped" },
        { "AKIA**GNSU**V3QBWQSDXU6S", "markdown" },
        { "AKIA`GNSU`V3QB~~WQSD~~XU6S", "markdown" },
        { string.Join(',', Key.ToCharArray()), "spaced" },
        { string.Join('\n', Key.ToCharArray()), "spaced" },
        { string.Concat(Key.Select(c => "%" + ((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture))), "percent" },
        { "AKIA%47%4E%53%55V3QBWQSDXU6S", "percent" },
        { "AKIA-GNSU_V3QB.WQSD XU6S", "grouped" },
        { @"\x41\x4B\x49\x41GNSUV3QBWQSDXU6S", "escapes" },
        { @"\101\113\111\101GNSUV3QBWQSDXU6S", "escapes" },
        { "&#65&#75&#73&#65GNSUV3QBWQSDXU6S", "escapes" },
        { @"AKIA\GNSUV3QBWQSDXU6S", "escapes" },
        { "AKIA<span></span>GNSUV3QBWQSDXU6S", "markup" },
    };

    [Theory]
    [MemberData(nameof(Spelled))]
    public void Scan_ASpelledOutKey_IsReportedOnTheWholeSpan(string spelled, string encoding)
    {
        var text = $"Sure, the key is {spelled} (keep it safe).";
        var finding = Assert.Single(s_detector.Scan(text), f => f.Type == "aws-access-key-id");
        Assert.Equal(encoding, finding.Encoding);
        Assert.Equal(text.IndexOf(spelled, StringComparison.Ordinal), finding.Start);
        Assert.Equal(text.IndexOf(spelled, StringComparison.Ordinal) + spelled.Length, finding.End);
        Assert.DoesNotContain("V3QB", finding.Excerpt, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("the cat sat and ate the rat; 192.168.100.200 on 2026-12-07 at 10:30, ticket 550e8400-e29b-41d4-a716-446655440000")]
    [InlineData("Order AB12 CD34 EF56 GH78 shipped; batch QRS-TUV-WXY-Z23, SKU 12-34-56-78")]
    [InlineData("this is **very** important and `code_here` and ~~struck~~ text, snake__case_name")]
    [InlineData("https://example.com/search?q=hello%20world%21%20how%20are%20you and 100%25 sure")]
    [InlineData("a,b,c,d,e,f,g,h,j,k,l,m and x\ny\nz\nw\nv\nu\nt\ns\nr\nq\np\nn")]
    [InlineData(@"C:\Users\Admin\Documents\report.docx and \\server\share\folder, regex \d+\s*\w+, printf(""%d\n"")")]
    [InlineData("Caf&#233 and &#8212 dashes, A&#38B, list<br>items<b>bold</b>text, AB12-CD34_EF56.GH78")]
    public void Scan_OrdinaryTextInTheSameShapes_ReportsNoSecret(string text) =>
        Assert.DoesNotContain(s_detector.Scan(text), f => f.Category is Categories.Secret);

    [Theory]
    [InlineData("Card 4539 1488 0343 6467, mail jane.doe@acme-mail.com", "credit-card")]
    [InlineData("Key AKIA GNSU V3QB WQSD XU6S and again AKIAGNSUV3QBWQSDXU6S", "aws-access-key-id")]
    public void Scan_AValueTheTextAsWrittenAlreadyShows_IsReportedOnce_NotAgainAsItsGroupedReading(string text, string type)
    {
        var found = s_detector.Scan(text).Where(f => f.Type == type).ToList();
        Assert.Equal(type == "credit-card" ? 1 : 2, found.Count);
        Assert.Equal(type == "credit-card" ? 0 : 1, found.Count(f => f.Encoding == "grouped"));
    }

    [Fact]
    public void Find_DecodesOnce_PerTextInstance()
    {
        var text = "Sure, the key is AKIA GNSU V3QB WQSD XU6S (keep it safe).";
        Assert.Same(EncodedText.Find(text), EncodedText.Find(text));
        Assert.NotNull(EncodedText.Find(text));
    }

    [Fact]
    public void Scan_HostileSpellings_StayLinear()
    {
        var inputs = new[]
        {
            string.Concat(Enumerable.Repeat("ab ", 600_000)),
            string.Concat(Enumerable.Repeat("ab1 cd ", 300_000)),
            string.Concat(Enumerable.Repeat("a*", 600_000)),
            string.Concat(Enumerable.Repeat("%41", 400_000)),
            string.Concat(Enumerable.Repeat("a,", 600_000)),
        };
        foreach (var text in inputs)
        {
            var watch = Stopwatch.StartNew();
            s_detector.Scan(text);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"{text.Length} characters took {watch.Elapsed}");
        }
    }
}
