using System.Text.Json.Nodes;
using Drydock.Datasets;
using Drydock.Datasets.Similarity;
using Drydock.Evaluation.Privacy;
using Drydock.Evaluation.Tests;

namespace Drydock.Cli.Tests;

/// <summary>
/// Members retyped with light typos (a letter in every 20 to 33 characters changed) or with one word in ten replaced
/// are near copies (the loose edit test): <c>eval membership</c> refuses them as non-members and <c>clean --holdout</c>
/// keeps each with its original on one side of the split.
/// </summary>
public sealed partial class GateCommandTests
{
    private static readonly string[] s_longWords = [.. "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu amber basil cedar dune ember fjord grove heath islet jasper knoll larch marsh nectar orchid pebble quartz reed slate thistle umber vale willow yarrow zephyr".Split(' ')];

    private static string LongWords(Random random, int n) => string.Join(' ', Enumerable.Range(0, n).Select(_ => s_longWords[random.Next(s_longWords.Length)]));

    private static string Typos(string text, int every, Random random)
    {
        var chars = text.ToCharArray();
        for (var i = random.Next(every); i < chars.Length; i += every)
        {
            if (char.IsLetter(chars[i])) chars[i] = (char)('a' + ((chars[i] - 'a' + 1 + random.Next(25)) % 26));
        }

        return new string(chars);
    }

    private static string EveryTenthWord(string text, Random random)
    {
        var words = text.Split(' ');
        for (var i = random.Next(10); i < words.Length; i += 10) words[i] = s_longWords[(Array.IndexOf(s_longWords, words[i]) + 1 + random.Next(s_longWords.Length - 1)) % s_longWords.Length];
        return string.Join(' ', words);
    }

    private static JsonObject Noisy(JsonNode record, Func<string, string> noise) =>
        new() { ["prompt"] = noise((string)record["prompt"]!), ["completion"] = noise((string)record["completion"]!) };

    [Fact]
    public async Task Membership_RefusesMembersRetypedWithTyposOrWordsReplaced()
    {
        await Project(MembershipOnly);
        var random = new Random(21);
        await File.WriteAllLinesAsync(Path.Combine(_dir, "notes.jsonl"), Enumerable.Range(0, 150).Select(_ =>
            new JsonObject { ["prompt"] = LongWords(random, 25), ["completion"] = LongWords(random, 25) }.ToJsonString()), TestContext.Current.CancellationToken);
        await Ok("clean", "notes.jsonl", "--output", "notes-clean.jsonl", "--holdout", "0.3");
        var dataset = DatasetId().Match((await Ok("dataset", "register", "notes-clean.jsonl.manifest.json")).Stdout).Groups[1].Value;
        var model = await RegisterModel("model7", "--dataset", dataset);
        await using var server = await Serving("model7");
        var members = (await File.ReadAllLinesAsync(Path.Combine(_dir, "notes-clean.jsonl"), TestContext.Current.CancellationToken)).Select(l => JsonNode.Parse(l)!).ToList();
        var heldOut = await File.ReadAllLinesAsync(Path.Combine(_dir, "notes-clean.jsonl.holdout.jsonl"), TestContext.Current.CancellationToken);
        var memberTexts = DatasetReader.Texts(Path.Combine(_dir, "notes-clean.jsonl"));

        foreach (var (name, noise) in new (string, Func<string, string>)[] { ("typos-3pc", t => Typos(t, 33, random)), ("typos-5pc", t => Typos(t, 20, random)), ("words-10pc", t => EveryTenthWord(t, random)) })
        {
            // Ten members retyped, among the held-out records.
            var retyped = members.Take(10).Select(m => Noisy(m, noise).ToJsonString()).ToList();
            var file = name + ".jsonl";
            await File.WriteAllLinesAsync(Path.Combine(_dir, file), [.. heldOut, .. retyped], TestContext.Current.CancellationToken);
            var texts = DatasetReader.Texts(Path.Combine(_dir, file));
            var below = Enumerable.Range(0, 10).Count(i => NearDuplicateIndex.Similarity(NearDuplicateIndex.Signature(texts[heldOut.Length + i]), NearDuplicateIndex.Signature(memberTexts[i])) < NearDuplicateIndex.DefaultThreshold);
            var sent = server.Requests;
            var refused = await Run("eval", "membership", "--target", server.BaseUrl, "--model", "forgetter", "--members", "notes-clean.jsonl", "--non-members", file, "--record", model);
            Assert.True(refused.Exit == 2, $"{name} ({below} of 10 below the MinHash threshold)\n{refused}");
            Assert.Contains($"--non-members {file}: 10 of {heldOut.Length + 10} records are near-duplicates of records in --members notes-clean.jsonl", refused.Stderr, StringComparison.Ordinal);
            Assert.Contains($"#{heldOut.Length + 1} ~ member #1", refused.Stderr, StringComparison.Ordinal);
            Assert.Equal(sent, server.Requests);
            if (name == "typos-5pc") Assert.True(below >= 5, $"{below} of 10 retyped members below the MinHash threshold");
        }

        var own = await Run("eval", "membership", "--target", server.BaseUrl, "--model", "forgetter", "--members", "notes-clean.jsonl", "--non-members", "notes-clean.jsonl.holdout.jsonl", "--record", model);
        Assert.True(own.Exit == 0, own.ToString());
    }

    [Fact]
    public async Task CleanHoldout_KeepsRecordsRetypedWithTyposOrWordsReplaced_OnTheSideOfTheirOriginal()
    {
        Assert.Equal(0, (await Run("init")).Exit);
        var random = new Random(22);
        var originals = Enumerable.Range(0, 120).Select(_ => new JsonObject { ["prompt"] = LongWords(random, 25), ["completion"] = LongWords(random, 25) }).ToList();
        var records = new List<string>();
        foreach (var (record, i) in originals.Select((r, i) => (r, i)))
        {
            records.Add(record.ToJsonString());
            Func<string, string> noise = (i % 3) switch { 0 => t => Typos(t, 33, random), 1 => t => Typos(t, 20, random), _ => t => EveryTenthWord(t, random) };
            records.Add(Noisy(record, noise).ToJsonString());
        }

        await File.WriteAllLinesAsync(Path.Combine(_dir, "noisy.jsonl"), records, TestContext.Current.CancellationToken);
        await Ok("clean", "noisy.jsonl", "--output", "noisy-clean.jsonl", "--holdout", "0.4", "--seed", "3");
        var kept = DatasetReader.Texts(Path.Combine(_dir, "noisy-clean.jsonl"));
        var heldOut = DatasetReader.Texts(Path.Combine(_dir, "noisy-clean.jsonl.holdout.jsonl"));
        Assert.True(heldOut.Count >= 40, $"{heldOut.Count} held out");
        // No held-out record is a near copy of a kept one: each retyped record went to its original's side.
        var near = NearDuplicates.Find(kept, heldOut);
        Assert.True(near.Count == 0, $"{near.Count} of {heldOut.Count} held-out records are near copies of kept ones: {string.Join(" | ", near.Take(3).Select(p => heldOut[p.NonMember]))}");
        // Without the loose edit test most of the retyped records would have been split from their originals: at
        // least a third of the pairs are below the MinHash threshold.
        var written = DatasetReader.Texts(Path.Combine(_dir, "noisy.jsonl"));
        var pairs = Enumerable.Range(0, originals.Count).Count(i => NearDuplicateIndex.Similarity(
            NearDuplicateIndex.Signature(written[2 * i]), NearDuplicateIndex.Signature(written[(2 * i) + 1])) < NearDuplicateIndex.DefaultThreshold);
        Assert.True(pairs >= originals.Count / 3, $"{pairs} of {originals.Count} pairs below the MinHash threshold");
    }
}
