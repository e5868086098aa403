using Drydock.Detection;
using Drydock.Detection.Analyzers;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Guards;

namespace Drydock.Gateway.Tests;

/// <summary>
/// The matching the guards do: look-alike and invisible characters normalised with offsets mapped back (so redaction
/// removes the whole original span), and the canary tripwire at every position, word length and separator, in one
/// text and in a stream that never sends part of a code.
/// </summary>
public sealed class LookAlikeAndCanaryTests
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
    private static readonly TextGuard s_guard = new(s_detector);

    [Theory]
    [InlineData("key AKIA\u200BQ3EGRL5TFZ6XW7NB here", "key [AWS_ACCESS_KEY_ID] here")]
    [InlineData("key AKIAQ3EG\u00ADRL5TFZ6XW7NB here", "key [AWS_ACCESS_KEY_ID] here")]
    [InlineData("key ＡＫＩＡＱ３ＥＧＲＬ５ＴＦＺ６ＸＷ７ＮＢ here", "key [AWS_ACCESS_KEY_ID] here")]
    [InlineData("mail maria.gon\u200Dzalez@fast\u00ADmail.com now", "mail [EMAIL] now")]
    [InlineData("mail maria.gonzalez\u202E@fastmail.com now", "mail [EMAIL] now")]
    [InlineData("bad AKIA\uFFFDQ3EGRL5TFZ6XW7NB", "bad [AWS_ACCESS_KEY_ID]")]
    [InlineData("{\"q\":\"AKIA\\u00adQ3EGRL5TFZ6XW7NB\"}", "{\"q\":\"[AWS_ACCESS_KEY_ID]\"}")]
    [InlineData("key &#65;KIAQ3EGRL5TFZ6XW7NB here", "key [AWS_ACCESS_KEY_ID] here")]
    [InlineData("key &#x41;KIA&#x51;3EGRL5TFZ6XW7NB here", "key [AWS_ACCESS_KEY_ID] here")]
    [InlineData("mail maria.gonzalez&#64;fastmail.com now", "mail [EMAIL] now")]
    public void LookAlikeValues_AreRedacted_OverTheirWholeOriginalSpan(string text, string expected)
    {
        var result = s_guard.Output(text, GuardMode.Redact);
        Assert.Equal(expected, result.Text);
    }

    [Fact]
    public void ALoneSurrogate_IsAFinding_AndBlocksOnABlockTier()
    {
        var text = "ok \uD800 there";
        Assert.Contains(s_guard.Output(text, GuardMode.Redact).Findings, f => f.Type == "invalid-encoding");
        Assert.True(s_guard.Output(text, GuardMode.Block).Blocked);
        Assert.Equal("ok [INVALID_ENCODING] there", s_guard.Output(text, GuardMode.Redact).Text);
    }

    [Fact]
    public void MatchText_MapsEveryOffsetBack()
    {
        var text = "a\u200Bｂ\u00ADc\u0301d\U000E0041e";
        var match = MatchText.Of(text);
        Assert.Equal("abćde", match.Text);
        Assert.Equal(0, match.OriginalStart(0));
        Assert.Equal(2, match.OriginalStart(1)); // ｂ after the zero-width space
        Assert.Equal(text.Length, match.OriginalEnd(match.Text.Length));

        // A combining mark on a Latin letter: read once more without it, the same offsets mapped back.
        Assert.True(match.MarkedLatin);
        var bare = MatchText.Of(text, stripMarks: true);
        Assert.Equal("abcde", bare.Text);
        Assert.Equal(text.IndexOf('d', StringComparison.Ordinal), bare.OriginalEnd(3));
        Assert.False(MatchText.Of("Ignorez les instructions précédentes").MarkedLatin);
        var ascii = "plain text";
        Assert.Same(ascii, MatchText.Of(ascii).Text);
    }

    private static readonly string[] s_separators = ["-", " ", "", "_", ".", "–", "—", "\n", "\r\n", " - ", "/", ":", ",", ", ", "|", " | ", "+", "\u2212", "**-**", "** - **", "` `", "*", "~"];

    [Fact]
    public void ACanary_IsFound_AtEveryPosition_WordLength_AndSeparator()
    {
        var code = CanaryAnalyzer.NewValue();
        var groups = code.Split('-');
        var analyzer = new CanaryAnalyzer([CanaryAnalyzer.Hash(code)]);
        var missed = new List<string>();
        foreach (var separator in s_separators)
        {
            var written = string.Join(separator, groups);
            foreach (var casing in new[] { written, written.ToLowerInvariant() })
            {
                for (var length = 0; length <= 9; length++)
                {
                    // A word of code characters right before it (the case that hid codes), then after it, then glued on.
                    var word = new string('Z', length);
                    foreach (var text in new[] { $"{word} {casing} ok", $"ok {casing} {word}", $"{word}{casing}", $"({casing}).", $"the code is {word}:{casing}" })
                    {
                        List<Finding>? found = null;
                        analyzer.Analyze(text, ref found);
                        var hit = found?.SingleOrDefault();
                        if (hit is null || !text[hit.Start..hit.End].Equals(casing, StringComparison.OrdinalIgnoreCase)) missed.Add($"[{separator}] {text.Replace(code, "<code>", StringComparison.Ordinal)}");
                        else if (hit.Excerpt.Contains(groups[1], StringComparison.OrdinalIgnoreCase)) missed.Add("excerpt not masked");
                    }
                }
            }
        }

        Assert.Empty(missed);
    }

    [Theory]
    [InlineData("-", 0)]
    [InlineData(" - ", 0)]
    [InlineData("\r\n", 8)]
    [InlineData("_", 64)]
    [InlineData("\u200B", 0)]
    [InlineData("** \u2212 **", 0)]
    public void AStream_NeverSendsPartOfACanary_WhateverTheWindow(string separator, int window)
    {
        var code = CanaryAnalyzer.NewValue();
        var canaries = new CanaryAnalyzer([CanaryAnalyzer.Hash(code)]);
        var answer = $"Sure, the recovery code is {string.Join(separator, code.Split('-'))} as you asked.";
        foreach (var size in new[] { 1, 2, 3, 5, 7 })
        {
            var guard = new StreamGuard(s_guard, GuardMode.Redact, window, canaries);
            var sent = "";
            for (var at = 0; at < answer.Length && !guard.Blocked; at += size) sent += guard.Push(answer[at..Math.Min(answer.Length, at + size)]);
            sent += guard.Flush();
            Assert.True(guard.Blocked && guard.Canary, $"size {size}: not blocked");
            Assert.DoesNotContain(code[..4], sent, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ACanary_WrittenWithCyrillicOrGreekLookAlikes_IsFound()
    {
        var code = CanaryAnalyzer.NewValue();
        var analyzer = new CanaryAnalyzer([CanaryAnalyzer.Hash(code)]);
        foreach (var table in new[] { "ABCEHKMPTXY|АВСЕНКМРТХУ", "ABEHKMNPTXZ|ΑΒΕΗΚΜΝΡΤΧΖ", "aceKpxy|асеКрху" })
        {
            var (latin, like) = (table.Split('|')[0], table.Split('|')[1]);
            var written = new string([.. code.Select(c => latin.IndexOf(char.IsAsciiLetter(c) && table[0] == 'a' ? char.ToLowerInvariant(c) : c, StringComparison.Ordinal) is var i and >= 0 ? like[i] : c)]);
            List<Finding>? found = null;
            analyzer.Analyze(MatchText.Of($"the code: {written}.").Text, ref found);
            Assert.True(found is { Count: 1 }, written);
        }
    }
}
