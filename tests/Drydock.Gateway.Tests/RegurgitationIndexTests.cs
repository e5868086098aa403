using System.Text;
using Drydock.Gateway.Guards;

namespace Drydock.Gateway.Tests;

/// <summary>The tripwire's index: verbatim and lightly edited training records are found by record id; common phrases and unrelated text are not; a stored index holds no text and is refused for another model version.</summary>
public sealed class RegurgitationIndexTests
{
    private const string Common = "Thank you for contacting us, we are happy to help you today.";
    private const string Closing = "Kind regards from the support team at the north branch.";

    // 300 records: the same greeting and closing, and between them 30 words of their own (from 200 words, by seed).
    private static readonly (string Id, string Text)[] s_records = Records();

    private static readonly RegurgitationIndex s_index = RegurgitationIndex.Build("mv-1", ["ds-1"], s_records, n: 5, minRun: 4, maxRecordsPerGram: 4, key: 7);

    private static (string, string)[] Records()
    {
        var random = new Random(5);
        var vocabulary = Enumerable.Range(0, 200).Select(i => "w" + ((i * 7919) % 100_000).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return [.. Enumerable.Range(0, 300).Select(i => ($"ds-1#ticket-{i:0000}", $"{Common} {string.Join(' ', Enumerable.Range(0, 30).Select(_ => vocabulary[random.Next(200)]))}. {Closing}"))];
    }

    private static string Middle(int record) => s_records[record].Text[(Common.Length + 1)..^(Closing.Length + 2)];

    [Fact]
    public void Find_AVerbatimRecord_NamesItAndItsSpan()
    {
        var answer = "Sure. Here is what I remember: " + s_records[42].Text;
        var hit = s_index.Find(answer);
        Assert.NotNull(hit);
        Assert.Equal("ds-1#ticket-0042", hit.Value.Record);
        Assert.True(hit.Value.Grams >= 4);
        // The hit spans the whole run: every word of the record's own, into the n-grams it shares with its greeting and closing.
        Assert.Contains(Middle(42), answer[hit.Value.Start..hit.Value.End], StringComparison.Ordinal);
        Assert.Contains(answer[hit.Value.Start..hit.Value.End], s_records[42].Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Find_EightWordsOfARecord_SpansAllEight()
    {
        var eight = string.Join(' ', Middle(7).Split(' ').Skip(10).Take(8));
        var answer = "So: " + eight + " and nothing more";
        var hit = s_index.Find(answer);
        Assert.NotNull(hit);
        Assert.Equal(eight, answer[hit.Value.Start..hit.Value.End]);
        Assert.Equal(4, hit.Value.Grams);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(50)]
    public void StreamGuard_WithTheTripwire_RedactsARecordStreamedInChunksAsTheWholeAnswer_OrBlocksItBeforeAnyOfItLeaves(int size)
    {
        var answer = "Here you go. " + Middle(42) + " Bye.";
        var whole = new RegurgitationGuard(s_index, RegurgitationMode.Redact).Check(answer).Text;
        Assert.Equal("Here you go. " + RegurgitationGuard.Marker + " Bye.", whole);
        foreach (var mode in new[] { RegurgitationMode.Redact, RegurgitationMode.Block })
        {
            var (sent, stream, tripwire) = Streamed(s_index, mode, answer, size);
            Assert.NotEmpty(tripwire.Hits);
            Assert.All(tripwire.Hits, h => Assert.Equal("ds-1#ticket-0042", h.Record));
            if (mode == RegurgitationMode.Block)
            {
                Assert.True(stream.Blocked);
                Assert.DoesNotContain(Middle(42).Split(' ')[0], sent, StringComparison.Ordinal);
                continue;
            }

            Assert.Equal(whole, sent);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(50)]
    public void StreamGuard_ARunLongerThanTheWindow_OrOfLongWords_IsRedactedToItsLastWord(int size)
    {
        // 300 words (far more than the 256 characters held back), and a record of eight 60-letter words (480 characters).
        var random = new Random(11);
        string Word(int length) => new([.. Enumerable.Range(0, length).Select(_ => (char)('a' + random.Next(26)))]);
        var longRecord = string.Join(' ', Enumerable.Range(0, 300).Select(_ => Word(7)));
        var longWords = string.Join(' ', Enumerable.Range(0, 8).Select(_ => Word(60)));
        var index = RegurgitationIndex.Build("mv-2", ["ds-2"], [("ds-2#long", longRecord), ("ds-2#wide", longWords)], key: 3);
        foreach (var record in new[] { longRecord, longWords })
        {
            var answer = "Start. " + record + " Done, thanks.";
            var (sent, _, tripwire) = Streamed(index, RegurgitationMode.Redact, answer, size);
            Assert.Equal("Start. " + RegurgitationGuard.Marker + " Done, thanks.", sent);
            Assert.Single(tripwire.Hits);
            var (blocked, stream, _) = Streamed(index, RegurgitationMode.Block, answer, size);
            Assert.True(stream.Blocked);
            Assert.DoesNotContain(record.Split(' ')[0], blocked, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void StreamGuard_ARunStillGoingOnPastTheLongestHold_IsBlocked()
    {
        // A record whose own words repeat makes a run that never ends while the model repeats them.
        var loop = string.Join(' ', Enumerable.Repeat("alpha beta gamma delta", 4));
        var index = RegurgitationIndex.Build("mv-3", ["ds-3"], [("ds-3#loop", loop)], key: 5);
        var answer = "Well: " + string.Join(' ', Enumerable.Repeat("alpha beta gamma delta", 5_000));
        var (sent, stream, tripwire) = Streamed(index, RegurgitationMode.Redact, answer, 500);
        Assert.True(stream.Blocked);
        Assert.Equal("ds-3#loop", Assert.Single(tripwire.Hits).Record);
        Assert.DoesNotContain("alpha", sent, StringComparison.Ordinal);
    }

    private static (string Sent, StreamGuard Stream, RegurgitationGuard Tripwire) Streamed(RegurgitationIndex index, RegurgitationMode mode, string answer, int size)
    {
        var tripwire = new RegurgitationGuard(index, mode);
        var stream = new StreamGuard(new TextGuard(Drydock.Detection.Engine.Detector.Create(Drydock.Detection.Rules.BuiltInRules.All, Drydock.Detection.Rules.BuiltInRules.Analyzers)), GuardMode.Redact, 64) { Tripwire = tripwire };
        var sent = new StringBuilder();
        for (var i = 0; i < answer.Length; i += size) sent.Append(stream.Push(answer.Substring(i, Math.Min(size, answer.Length - i))));
        sent.Append(stream.Flush());
        return (sent.ToString(), stream, tripwire);
    }

    [Fact]
    public void Find_ALightlyEditedRecord_StillNamesIt()
    {
        // Every tenth word changed, the case changed, punctuation added: runs of nine words are left.
        var words = Middle(117).Split(' ');
        var edited = new StringBuilder("Well, ");
        for (var i = 0; i < words.Length; i++) edited.Append(i % 10 == 9 ? "something" : i % 3 == 0 ? words[i].ToUpperInvariant() + "," : words[i]).Append(' ');
        Assert.Equal("ds-1#ticket-0117", s_index.Find(edited.ToString())?.Record);
    }

    // Find looks up only every k-th n-gram first (one of them lies in any run of k) and follows runs only from the first
    // it finds: a run of exactly k n-grams (eight words) is found wherever it starts against that grid, after any number
    // of unrelated words, spanning the same words; one of seven words is found nowhere.
    [Fact]
    public void Find_ARunOfKAtEveryOffset_IsFoundWithItsSpan_AndOneShorterNowhere()
    {
        var words = Middle(23).Split(' ');
        for (var lead = 0; lead < 12; lead++)
        {
            var before = string.Join(' ', Enumerable.Range(0, lead).Select(i => "filler" + i));
            foreach (var from in new[] { 0, 5, 13, 22 })
            {
                var eight = string.Join(' ', words[from..(from + 8)]);
                var answer = $"{before} {eight} and then other words follow here".TrimStart();
                var hit = s_index.Find(answer);
                Assert.True(hit is not null, $"{lead} words before, record words {from}..{from + 7}");
                Assert.Equal(("ds-1#ticket-0023", eight), (hit.Value.Record, answer[hit.Value.Start..hit.Value.End]));
                Assert.Null(s_index.Find($"{before} {string.Join(' ', words[from..(from + 7)])} and then other words follow here"));
            }
        }

        // Two records in one answer, a near miss (seven words) of one first: the first whole run is the hit.
        var first = string.Join(' ', Middle(31).Split(' ')[..7]);
        var second = string.Join(' ', Middle(32).Split(' ')[3..12]);
        var both = $"{first} then {second} and {string.Join(' ', Middle(33).Split(' ')[..9])}";
        Assert.Equal("ds-1#ticket-0032", s_index.Find(both)?.Record);
        Assert.Equal(second, both[s_index.Find(both)!.Value.Start..s_index.Find(both)!.Value.End]);
    }

    [Fact]
    public void Find_ShortOverlapsBelowK_AreNoAlarm()
    {
        // Seven words of a record (three 5-grams) stay below k = 4.
        var words = Middle(9).Split(' ');
        Assert.Null(s_index.Find("I think " + string.Join(' ', words[..7]) + " is all."));
        Assert.NotNull(s_index.Find("I think " + string.Join(' ', words[..8]) + " is all."));
    }

    [Theory]
    [InlineData(Common)]
    [InlineData("Thank you for contacting us. " + Closing)]
    [InlineData("Thank you for contacting us, we are happy to help you today. Kind regards from the support team at the north branch.")]
    [InlineData("The transfer failed because the daily limit was reached; try again tomorrow.")]
    [InlineData("")]
    public void Find_CommonPhrasesAndUnrelatedText_AreNoAlarm(string answer) => Assert.Null(s_index.Find(answer));

    [Fact]
    public void SaveAndLoad_KeepsEveryEntry_HoldsNoText_AndRefusesAnotherModelVersion()
    {
        using var stream = new MemoryStream();
        s_index.Save(stream);
        var bytes = stream.ToArray();
        Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Middle(42).Split(' ')[0])) < 0, "no word of a record is stored");
        Assert.True(bytes.AsSpan().IndexOf("contacting"u8) < 0, "no word of a record is stored");

        stream.Position = 0;
        var loaded = RegurgitationIndex.Load(stream, "mv-1");
        Assert.Equal((s_index.Count, s_index.Records, 5, 4, "ds-1"), (loaded.Count, loaded.Records, loaded.N, loaded.MinRun, loaded.Datasets[0]));
        Assert.Equal("ds-1#ticket-0042", loaded.Find(s_records[42].Text)?.Record);

        stream.Position = 0;
        Assert.Contains("not mv-2", Assert.Throws<InvalidDataException>(() => RegurgitationIndex.Load(stream, "mv-2")).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => RegurgitationIndex.Load(new MemoryStream(bytes[..^5]), "mv-1"));
        Assert.Throws<InvalidDataException>(() => RegurgitationIndex.Load(new MemoryStream([.. bytes, 0]), "mv-1"));
    }

    [Fact]
    public void Load_ADamagedEntryCount_IsRefusedBeforeAnythingIsAllocatedForIt()
    {
        using var stream = new MemoryStream();
        s_index.Save(stream);
        var bytes = stream.ToArray();
        // The entry count stands just before the entries (twelve bytes each, little-endian whatever the machine).
        var at = bytes.Length - (s_index.Count * 12) - 4;
        Assert.Equal(s_index.Count, System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at)));
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), int.MaxValue - 1);
        Assert.Contains("out of range", Assert.Throws<InvalidDataException>(() => RegurgitationIndex.Load(new MemoryStream(bytes), "mv-1")).Message, StringComparison.Ordinal);
    }
}
