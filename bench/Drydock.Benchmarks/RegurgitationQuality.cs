using System.Globalization;
using Drydock.Datasets;
using Drydock.Gateway.Guards;

namespace Drydock.Bench;

/// <summary>
/// The regurgitation tripwire's detection quality on labelled answers (<c>regurgitation-quality TRAIN HELD-OUT</c>): an
/// index of TRAIN's records (as <c>drydock deploy</c> builds it: every record's fields but id, role and from), then answers
/// that repeat a training record verbatim (runs of 8, 12 and 20 words, and whole records, between text of held-out
/// records), lightly edited (a run of 30 words with one word in ten replaced, lower case, punctuation removed), and
/// answers that repeat none: whole held-out records (same templates and phrases as the training ones, never trained on)
/// and answers made of the data's common sentences (held by more than 4 training records). A hit on a planted run counts when it names the record the run was taken from.
/// Half of the held-out records (by the seed) are the index's reference (left out as drydock deploy leaves out a
/// dataset's held-out split); the other half are the held-out answers and the text around planted runs. Measured with
/// and without the reference.
/// </summary>
internal static partial class RegurgitationQuality
{
    [System.Text.RegularExpressions.GeneratedRegex(@"(?<=[.?!])\s+|\n")]
    private static partial System.Text.RegularExpressions.Regex Sentences();

    public static int Run(string train, string heldOut, int seed)
    {
        var members = Texts(train);
        // The held-out records, shuffled by the seed and cut in two: the first half is the reference the index leaves out
        // (as drydock deploy leaves out the dataset's held-out split), the second the held-out records the answers use.
        var held = Texts(heldOut);
        new Random(seed + 1).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(held));
        var reference = held[..(held.Count / 2)];
        var others = held[(held.Count / 2)..];
        Measure(members, others, train, heldOut, seed, reference);
        Measure(members, others, train, heldOut, seed, null);
        return 0;
    }

    private static void Measure(List<string> members, List<string> others, string train, string heldOut, int seed, List<string>? reference)
    {
        var index = RegurgitationIndex.Build("mv-quality", ["sha256:quality"], members.Select((t, i) => (Id(i), t)), reference: reference);
        var random = new Random(seed);
        string Filler() => others[random.Next(others.Count)];

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"index {(reference is null ? "without a reference" : $"leaving out the n-grams of {reference.Count} other held-out records")}: {members.Count} training records ({train}); held-out records: {others.Count} ({heldOut}); n-gram entries {index.Count:N0}"));
        Console.WriteLine($"{"answers",-44} {"cases",6} {"hits",6} {"rate",7}");
        foreach (var length in new[] { 8, 12, 20, 0 })
        {
            Report(length == 0 ? "verbatim: a whole training record" : $"verbatim: a run of {length} words of a record", members, length, edit: false);
        }

        Report("edited: 30 words, 1 in 10 changed, case, punct.", members, 30, edit: true);
        var falseHeld = others.Count(t => index.Find(t) is not null);
        Line("no repeat: a whole held-out record", others.Count, falseHeld);
        // The data's own common phrases: sentences of at least 5 words that more than 4 training records hold.
        var common = members.SelectMany(t => Sentences().Split(t).Select(x => x.Trim()).Where(x => x.Split(' ').Length >= 5).Distinct())
            .GroupBy(x => x, StringComparer.Ordinal).Where(g => g.Count() > 4).Select(g => g.Key).ToList();
        var phraseAnswers = common.Count == 0 ? [] : Enumerable.Range(0, 1000).Select(_ => string.Join(' ', Enumerable.Range(0, 6).Select(_ => common[random.Next(common.Count)]))).ToList();
        Line($"no repeat: 6 of the {common.Count} common sentences", phraseAnswers.Count, phraseAnswers.Count(t => index.Find(t) is not null));

        void Report(string name, List<string> records, int length, bool edit)
        {
            int cases = 0, hits = 0;
            for (var i = 0; i < records.Count; i++)
            {
                var words = records[i].Split((char[])[' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (length > 0 && words.Length < length) continue;
                var start = length == 0 ? 0 : random.Next(words.Length - length + 1);
                var run = words[start..(length == 0 ? words.Length : start + length)];
                if (edit) run = [.. run.Select((w, k) => k % 10 == 5 ? "something" : new string(w.ToLowerInvariant().Where(c => !char.IsPunctuation(c)).ToArray()))];
                var answer = Tail(Filler()) + " " + string.Join(' ', run) + " " + Head(Filler());
                cases++;
                if (index.Find(answer) is { } hit && hit.Record == Id(i)) hits++;
            }

            Line(name, cases, hits);
        }
    }

    private static string Id(int i) => "sha256:quality#" + i.ToString(CultureInfo.InvariantCulture);

    private static void Line(string name, int cases, int hits) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-44} {cases,6} {hits,6} {(cases == 0 ? 0 : hits / (double)cases),7:P1}"));

    // The last and first 80 characters of a held-out record, at word boundaries: text around a planted run.
    private static string Tail(string text) => text.Length <= 80 ? text : text[(text.IndexOf(' ', text.Length - 80) + 1)..];

    private static string Head(string text) => text.Length <= 80 ? text : text[..Math.Max(0, text.LastIndexOf(' ', 80))];

    private static List<string> Texts(string path)
    {
        var texts = new List<string>();
        var reader = new DatasetReader();
        foreach (var batch in reader.Read(path, reader.Detect(path)))
        {
            foreach (var result in batch.Parse())
            {
                if (result.Record is not { } record) throw new ArgumentException($"{result.Problem!.File}:{result.Problem.Line}: {result.Problem.Reason}");
                var text = string.Join("\n", record.Fields.Where(f => f.Path[(f.Path.LastIndexOf('.') + 1)..] is not ("id" or "role" or "from")).Select(f => f.Text));
                if (text.Length > 0) texts.Add(text);
            }
        }

        return texts.Count > 0 ? texts : throw new ArgumentException($"{path}: no records");
    }
}
