using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Detection.Tests.Engine;

public class EncodedTextTests
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);

    private const string Key = "AKIAGNSUV3QBWQSDXU6S";
    private const string Email = "maria.gonzalez@fastmail.com";

    private static string Base64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    private static string Hex(string s, string separator = "") => string.Join(separator, Encoding.UTF8.GetBytes(s).Select(b => b.ToString("x2")));

    private static string Spaced(string s, char separator) => string.Join(separator, s.ToCharArray());

    public static TheoryData<string, string, string> Encoded() => new()
    {
        { Base64(Key), "aws-access-key-id", "base64" },
        { Base64("key=" + Key).Replace('+', '-').Replace('/', '_').TrimEnd('='), "aws-access-key-id", "base64" },
        { Base64("write to " + Email), "email", "base64" },
        { Hex(Key), "aws-access-key-id", "hex" },
        { "0x" + Hex(Key).ToUpperInvariant(), "aws-access-key-id", "hex" },
        { Hex(Key, " "), "aws-access-key-id", "hex" },
        { Hex(Key, ":"), "aws-access-key-id", "hex" },
        { Spaced(Key, ' '), "aws-access-key-id", "spaced" },
        { Spaced(Key, '-'), "aws-access-key-id", "spaced" },
        { Spaced(Key, '.'), "aws-access-key-id", "spaced" },
        { Spaced(Key, '_'), "aws-access-key-id", "spaced" },
        { Spaced(Key, ';'), "aws-access-key-id", "spaced" },
        { Spaced(Key, '|'), "aws-access-key-id", "spaced" },
        { Spaced(Key, ':'), "aws-access-key-id", "spaced" },
        { Spaced(Email, ';'), "email", "spaced" },
        { Spaced(Email, ' '), "email", "spaced" },
        { Base64(Hex(Key)), "aws-access-key-id", "base64+hex" },
    };

    [Theory]
    [MemberData(nameof(Encoded))]
    public void Scan_EncodedValue_IsReportedOnTheEncodedSpan(string encoded, string type, string encoding)
    {
        var text = $"Sure, here it is: {encoded} (keep it safe).";
        var finding = Assert.Single(s_detector.Scan(text), f => f.Type == type);
        Assert.Equal(encoding, finding.Encoding);
        Assert.Equal(text.IndexOf(encoded, StringComparison.Ordinal), finding.Start);
        Assert.Equal(text.IndexOf(encoded, StringComparison.Ordinal) + encoded.Length, finding.End);
        Assert.StartsWith(encoding + ":", finding.Excerpt, StringComparison.Ordinal);
        Assert.DoesNotContain(encoded[..8], finding.Excerpt, StringComparison.Ordinal);
    }

    // Base64 wrapped across lines as MIME writes it (76 characters a line), the key across the end of the first line,
    // and base64 right after a URL's path: neither decoded before (each line, or the run from the path's start, is not
    // the value's base64).
    [Fact]
    public void Scan_Base64WrappedAcrossLines_OrAfterASlash_IsDecoded()
    {
        var note = "Ticket 44712: reset of the billing profile; key " + Key + " rotated on Monday.";
        Assert.InRange(note.IndexOf(Key, StringComparison.Ordinal), 40, 56);
        var wrapped = Convert.ToBase64String(Encoding.UTF8.GetBytes(note), Base64FormattingOptions.InsertLineBreaks);
        Assert.Contains("\r\n", wrapped, StringComparison.Ordinal);
        foreach (var line in wrapped.Split("\r\n")) Assert.DoesNotContain(s_detector.Scan(line), f => f.Type == "aws-access-key-id");
        var text = "Attachment:\r\n" + wrapped + "\r\nEnd.";
        var finding = Assert.Single(s_detector.Scan(text), f => f.Type == "aws-access-key-id");
        Assert.Equal("base64", finding.Encoding);
        Assert.Equal(text.IndexOf(wrapped, StringComparison.Ordinal), finding.Start);

        var url = "Download https://files.example.com/dl/" + Base64(note).TrimEnd('=') + " today";
        var afterSlash = Assert.Single(s_detector.Scan(url), f => f.Type == "aws-access-key-id");
        Assert.Equal(url.IndexOf("/dl/", StringComparison.Ordinal) + 4, afterSlash.Start);
    }

    [Theory]
    [InlineData("sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    [InlineData("commit 3f786850e387550fdab836ed7e6dc881de23001b and 550e8400-e29b-41d4-a716-446655440000")]
    [InlineData("fingerprint 43:51:43:a1:b5:fc:8b:b7:0a:3a:a9:b1:0f:66:73:a8")]
    [InlineData("S P E C I A L - O F F E R today only, and a-b-c-d-e-f-g-h-i-j-k-l-m in order")]
    [InlineData("the word internationalization and supercalifragilisticexpialidocious")]
    [InlineData("flags a;b;c;d;e;f;g;h;i;j;k;l;m and css color:red; margin:0; padding:0; border:0; font:inherit;")]
    [InlineData("votes y|n|y|n|y|n|y|n|y|n|y|n|y, ratios 1:2:3:4:5:6:7:8:9:1:2:3 and a path C:\\x;D:\\y;E:\\z")]
    [InlineData("base64 of a greeting: SGVsbG8sIHdvcmxkISBIb3cgYXJlIHlvdT8=")]
    public void Scan_EncodedLookingDistractor_ReportsNothing(string text) =>
        Assert.DoesNotContain(s_detector.Scan(text), f => f.Category is Categories.Secret or Categories.Pii);

    [Fact]
    public void Scan_RandomBase64AndHexBlobs_ReportNothing()
    {
        var random = new Random(7);
        for (var i = 0; i < 500; i++)
        {
            var bytes = new byte[random.Next(12, 200)];
            random.NextBytes(bytes);
            var text = $"blob {Convert.ToBase64String(bytes)} digest {Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant()} id {Guid.NewGuid()}";
            Assert.DoesNotContain(s_detector.Scan(text), f => f.Encoding is not null);
        }
    }

    // A base64 PEM block is read by its own rule as written: decoding it adds no second finding on the same run.
    [Fact]
    public void Scan_ValueARuleReadsAsWritten_IsNotReportedAgainDecoded()
    {
        var pem = Base64("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAiEll0j5KUDYOMyZX++/cHwalSXm1jVYQiDIgsmLmxQobcMoW4Rt6f3IWUVihA+mb1oH9InzHcdOezPgLfCxYV7fCXwOUyrk6q8WrziE/2LN9xmHvkbB53xGODK5Pe0IvZIpB4u96Uby0bs/AapjzaHTnQ4XhvH7ObEA+LorFDkqfB8csWnakYDciuZhiIZ8tc5NAzJC2\n-----END RSA PRIVATE KEY-----\n");
        var findings = s_detector.Scan("PRIVATE_KEY_B64=" + pem + " ");
        Assert.Single(findings, f => f.Type == "private-key-base64");
        Assert.DoesNotContain(findings, f => f.Encoding is not null);
    }

    [Fact]
    public void Scan_HostileInput_StaysLinear()
    {
        // Long runs of every shape the decoder reads: one huge base64 run, hex pairs, spaced characters, and many
        // short runs that each decode to text holding an email.
        var inputs = new[]
        {
            new string('A', 2_000_000),
            string.Concat(Enumerable.Repeat("41 ", 400_000)),
            string.Concat(Enumerable.Repeat("a ", 600_000)),
            string.Concat(Enumerable.Repeat("a-", 600_000)),
            string.Join(' ', Enumerable.Repeat(Base64("a@bc.de " + Email), 20_000)),
            string.Join(' ', Enumerable.Repeat(Base64(Base64(Base64("x " + Email))), 10_000)),
        };
        foreach (var text in inputs)
        {
            var watch = Stopwatch.StartNew();
            s_detector.Scan(text);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"{text.Length} characters took {watch.Elapsed}");
        }
    }
}
