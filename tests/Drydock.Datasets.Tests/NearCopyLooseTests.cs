using Drydock.Datasets.Similarity;

namespace Drydock.Datasets.Tests;

/// <summary>
/// The loose edit test of <see cref="NearCopy"/>: long texts retyped with a letter in twenty or thirty changed, or one
/// word in ten replaced, are near copies although their MinHash similarity falls below the threshold; different texts
/// and templated short records are not.
/// </summary>
public sealed class NearCopyLooseTests
{
    private static readonly string[] s_words = [.. "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu amber basil cedar dune ember fjord grove heath islet jasper knoll larch marsh nectar orchid pebble quartz reed slate thistle umber vale willow yarrow zephyr".Split(' ')];

    private static string Words(Random random, int n) => string.Join(' ', Enumerable.Range(0, n).Select(_ => s_words[random.Next(s_words.Length)]));

    // One letter in every `every` characters replaced by another letter.
    internal static string Typos(string text, int every, Random random)
    {
        var chars = text.ToCharArray();
        for (var i = random.Next(every); i < chars.Length; i += every)
        {
            if (!char.IsLetter(chars[i])) continue;
            chars[i] = (char)('a' + ((chars[i] - 'a' + 1 + random.Next(25)) % 26));
        }

        return new string(chars);
    }

    // Every tenth word replaced by another word of the vocabulary.
    internal static string Substituted(string text, Random random)
    {
        var words = text.Split(' ');
        for (var i = random.Next(10); i < words.Length; i += 10) words[i] = s_words[(Array.IndexOf(s_words, words[i]) + 1 + random.Next(s_words.Length - 1)) % s_words.Length];
        return string.Join(' ', words);
    }

    [Theory]
    [InlineData(33)]
    [InlineData(25)]
    [InlineData(20)]
    public void ATextRetypedWithALetterChangedEveryFewCharacters_IsANearCopy(int every)
    {
        var random = new Random(every);
        var misses = 0;
        for (var t = 0; t < 50; t++)
        {
            var text = Words(random, 60);
            var noisy = Typos(text, every, random);
            if (NearDuplicateIndex.Similarity(NearDuplicateIndex.Signature(text), NearDuplicateIndex.Signature(noisy)) < NearDuplicateIndex.DefaultThreshold) misses++;
            Assert.True(NearCopy.Is(text, noisy), $"{text}\n{noisy}");
            var index = new NearCopyIndex(NearDuplicateIndex.DefaultThreshold);
            index.Add(Words(random, 60));
            index.Add(text);
            Assert.Equal([1], index.FindAll(noisy));
        }

        // MinHash alone misses most of them (the gap the edit test closes).
        Assert.True(misses > 25, $"{misses} of 50 below the MinHash threshold");
    }

    [Fact]
    public void ATextWithOneWordInTenReplaced_IsANearCopy_AndDifferentTextsAreNot()
    {
        var random = new Random(10);
        var index = new NearCopyIndex(NearDuplicateIndex.DefaultThreshold);
        var texts = Enumerable.Range(0, 200).Select(_ => Words(random, 50)).ToList();
        foreach (var text in texts) index.Add(text);
        for (var t = 0; t < texts.Count; t++)
        {
            Assert.Equal([t], index.FindAll(Substituted(texts[t], random)));
        }

        Assert.Empty(index.FindAll(Words(random, 50)));
        Assert.False(NearCopy.Is(texts[0], texts[1]));
    }

    [Fact]
    public void ShortTemplatedRecords_AreNotNearCopies_ByTheLooseTest()
    {
        // Short texts stay with the numbers rule: "question 1 about order 7" is not "question 2 about order 14".
        Assert.False(NearCopy.Is("question 1 about order 7", "question 2 about order 14"));
        Assert.False(NearCopy.WithinLooseEdits(NearCopy.Fold("question 1 about order 7"), NearCopy.Fold("question 2 about order 14")));
        Assert.Equal(3, NearCopy.Distance<char>("kitten", "sitting", 5));
        Assert.Equal(3, NearCopy.Distance<char>("kitten", "sitting", 2));
    }

    [Fact]
    public void LongRecordsSharingSeventyPercentOfTheirWords_AreNotNearCopies()
    {
        // ~3,900 characters each, 30 % of the words replaced per record: far beyond a tenth in edits (the word and
        // character counts rule the distance out before the banded distance is computed; speed is measured by the
        // near-copy benchmark, not here).
        var random = new Random(21);
        var shared = Words(random, 600).Split(' ');
        var index = new NearCopyIndex(0.8);
        for (var r = 0; r < 60; r++)
        {
            var words = (string[])shared.Clone();
            for (var i = 0; i < words.Length; i++) if (random.NextDouble() < 0.3) words[i] = s_words[random.Next(s_words.Length)] + "x" + random.Next(1000);
            var text = string.Join(' ', words);
            Assert.Empty(index.FindAll(text));
            index.Add(text);
        }
    }
}
