using Drydock.Detection.Engine;

namespace Drydock.Detection.Tests.Engine;

/// <summary>
/// The one span replacement of every redaction: no character of any span is left, whether spans lie apart, inside
/// one another or overlap in part, and whatever order they come in.
/// </summary>
public sealed class SpanReplacementTests
{
    [Fact]
    public void SpansApartInsideAndOverlapping_LeaveNoCharacterOfAnySpan()
    {
        const string text = "id 4111-1111 to ann@mx.net ok";
        Assert.Equal("id [A] to [B] ok", SpanReplacement.Apply(text, [(16, 26, "[B]"), (3, 12, "[A]")]));

        // Inside another span: already gone.
        Assert.Equal("id [A] to ann@mx.net ok", SpanReplacement.Apply(text, [(3, 12, "[A]"), (5, 9, "[C]")]));

        // Overlapping in part (3–12 and 8–20): the second replaces what is left of it, so " to ann@" does not stay.
        Assert.Equal("id [A][D]mx.net ok", SpanReplacement.Apply(text, [(8, 20, "[D]"), (3, 12, "[A]")]));

        // Two spans from one start: the longer wins.
        Assert.Equal("id [L] ok", SpanReplacement.Apply(text, [(3, 12, "[S]"), (3, 26, "[L]")]));
    }

    [Fact]
    public void NoSpans_ReturnsTheTextUnchanged()
    {
        const string text = "nothing to replace";
        Assert.Same(text, SpanReplacement.Apply(text, []));
    }
}
