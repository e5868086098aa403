using Drydock.Detection.Engine;
using Drydock.Gateway.Guards;

namespace Drydock.Gateway.Tests;

/// <summary>
/// An answer that repeats a training record with Cyrillic letters swapped in for Latin ones (а е о с р for a e o c p)
/// reads as the record to a person, and escaped the tripwire, which compared the letters as written. The tripwire and
/// <see cref="TextForms.ForComparison"/> now read look-alikes as the Latin letters they look like.
/// </summary>
public sealed class RegurgitationLookAlikeTests
{
    private static readonly (string Id, string Text)[] s_records =
    [
        ("ds-1#ticket-0001", "The customer reported that the replacement compressor arrived with a cracked cooling pipe and asked for a courier pickup before Friday."),
        ("ds-1#ticket-0002", "Please reset the warehouse scanner password and confirm the new badge number with the operations desk in Rotterdam."),
    ];

    private static readonly RegurgitationIndex s_index = RegurgitationIndex.Build("mv-1", ["ds-1"], s_records, n: 5, minRun: 4, maxRecordsPerGram: 4, key: 11);

    // Latin a e o c p written as Cyrillic а е о с р: the same text to a reader.
    private static string WithCyrillic(string text) =>
        text.Replace('a', 'а').Replace('e', 'е').Replace('o', 'о').Replace('c', 'с').Replace('p', 'р');

    [Fact]
    public void ARecordRepeatedWithCyrillicLookAlikes_IsFound_AndRedactedWhole()
    {
        var swapped = WithCyrillic(s_records[0].Text);
        Assert.NotEqual(s_records[0].Text, swapped);
        var answer = "From memory: " + swapped + " That is all.";
        var hit = s_index.Find(answer);
        Assert.NotNull(hit);
        Assert.Equal("ds-1#ticket-0001", hit.Value.Record);
        Assert.Equal(swapped.TrimEnd('.'), answer[hit.Value.Start..hit.Value.End]);

        var redacted = new RegurgitationGuard(s_index, RegurgitationMode.Redact).Check(answer).Text;
        Assert.DoesNotContain(WithCyrillic("replacement compressor"), redacted, StringComparison.Ordinal);
        Assert.Contains(RegurgitationGuard.Marker, redacted, StringComparison.Ordinal);
    }

    [Fact]
    public void ARecordWithAFewLookAlikes_ComparesEqual_InTheComparisonForm()
    {
        var record = s_records[1].Text;
        Assert.Equal(TextForms.ForComparison(record), TextForms.ForComparison(WithCyrillic(record)));
        Assert.Equal(TextForms.Skeleton(record), TextForms.Skeleton(WithCyrillic(record).ToUpperInvariant()));
        // A Russian sentence is compared as itself: two different ones stay different.
        Assert.NotEqual(TextForms.ForComparison("Сегодня хорошая погода"), TextForms.ForComparison("Завтра будет дождь"));
    }

    [Fact]
    public void AnIndexOfTheEarlierFormat_IsRefused_WithTheReason()
    {
        using var stream = new MemoryStream();
        s_index.Save(stream);
        var bytes = stream.ToArray();
        bytes[3] = (byte)'1'; // "DRG1": words hashed without folding look-alikes
        var error = Assert.Throws<InvalidDataException>(() => RegurgitationIndex.Load(new MemoryStream(bytes), "mv-1"));
        Assert.Contains("rebuild", error.Message, StringComparison.Ordinal);
        Assert.Equal(s_index.Count, RegurgitationIndex.Load(new MemoryStream(stream.ToArray()), "mv-1").Count);
    }
}
