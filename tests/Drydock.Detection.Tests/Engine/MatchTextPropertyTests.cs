using CsCheck;
using Drydock.Detection.Engine;

namespace Drydock.Detection.Tests.Engine;

/// <summary>Properties of the matching normaliser over generated text (CsCheck), beyond the hand-written cases.</summary>
public sealed class MatchTextPropertyTests
{
    // ASCII, compatibility forms (fullwidth, ligatures, circled, superscripts), combining marks, decomposed Hangul,
    // ignorable characters (zero-width, bidi, tags as surrogate halves), look-alikes and invalid halves.
    private const string Alphabet = "aZ09 @.:/\\\"-_\n\tÅé\u0301\u0308\u0327ﬁﬃＡｚ０①²ℌ\u1100\u1161\u11A8가\u200B\u200D\u2060\u202E\u2066\uFEFF\u00AD\u0430\u0441\u03BF\uD83D\uDE00\uDB40\uDC41\uD800\uFFFD\uFFFE";

    private static readonly Gen<string> s_text = Gen.Char[Alphabet].Array[0, 48].Select(chars => new string(chars));

    [Fact]
    public void Of_IsIdempotent()
    {
        // What the normaliser writes is already normal: normalising it again changes nothing. (A backslash escape is
        // decoded once, by design: "\u005cu0041" is the text "\u0041", not "A"; the generator writes no hex digits
        // after "\u", nor n, r or t after a backslash, so no escape is formed.)
        s_text.Sample(text =>
        {
            var once = MatchText.Of(text).Text;
            var twice = MatchText.Of(once).Text;
            Assert.Equal(once, twice);
        }, iter: 2_000, threads: 1);
    }

    [Fact]
    public void Of_MapsEveryCharacterBackInsideTheOriginal()
    {
        s_text.Sample(text =>
        {
            var match = MatchText.Of(text);
            for (var i = 0; i <= match.Text.Length; i++)
            {
                Assert.InRange(match.OriginalStart(i), 0, text.Length);
                Assert.InRange(match.OriginalEnd(i), 0, text.Length);
            }
        }, iter: 1_000, threads: 1);
    }

    // Found by the property above: the platform's normalisation throws on the noncharacters U+FFFE and U+FFFF, and the
    // gateway's guards normalise every request and answer text with MatchText, so one such character failed the guard.
    [Theory]
    [InlineData("\uFFFE")]
    [InlineData("x\uFFFF\u0301y")]
    [InlineData("caf\u00E9 \uFFFE ﬁ")]
    public void Of_Noncharacter_KeptAsItIs(string text)
    {
        var match = MatchText.Of(text);
        Assert.Equal(text.Count(c => c is '\uFFFE' or '\uFFFF'), match.Text.Count(c => c is '\uFFFE' or '\uFFFF'));
    }

    // Found by the idempotence property: a mark cut from its letter by a removed character (zero-width, invalid) was
    // normalised alone, and joined the letter only when the result was normalised again.
    [Theory]
    [InlineData("o\u200B\u0301", "\u00F3")]
    [InlineData("\u03BF\uD800\u0327\u0301", "\u03CC\u0327")]
    [InlineData("e\\u0301", "\u00E9")]
    public void Of_MarkAfterARemovedCharacter_JoinsItsLetter(string text, string expected)
    {
        var match = MatchText.Of(text);
        Assert.Equal(expected, match.Text);
        Assert.Equal(expected, MatchText.Of(match.Text).Text);
        Assert.Equal(0, match.OriginalStart(0));
    }
}
