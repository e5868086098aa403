using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Drydock.Datasets.Similarity;

namespace Drydock.Bench;

/// <summary>
/// The edit test of short texts (<see cref="NearCopy"/>, up to <see cref="NearCopy.MaxEditLength"/> letters and digits)
/// on real turns of hh-rlhf (MIT): recall on copies retyped with typos (a letter substituted, deleted, inserted or
/// swapped with its neighbour, at the given rate of the letters; digits untouched), by folded length; and false
/// merges, the distinct turns of 40–200 letters and digits found to be near copies of an earlier, different turn.
/// </summary>
internal static class NearCopyShortQuality
{
    public static int Run(string shared)
    {
        var turns = Turns(Path.Combine(shared, "hh-rlhf/harmless-base_test.jsonl.gz"))
            .Select(t => (Text: t, Folded: NearCopy.Fold(t))).Where(t => t.Folded.Length is >= 40 and <= NearCopy.MaxEditLength)
            .DistinctBy(t => t.Folded, StringComparer.Ordinal).ToList();
        Console.WriteLine($"{turns.Count} distinct turns of 40-200 letters and digits");
        foreach (var rate in new[] { 0.02, 0.035, 0.05 })
        {
            foreach (var (low, high) in new[] { (40, 79), (80, 139), (140, 200) })
            {
                var random = new Random(11);
                var group = turns.Where(t => t.Folded.Length >= low && t.Folded.Length <= high).Take(400).ToList();
                var (found, shorter, rounded, close) = (0, 0, 0, 0);
                foreach (var t in group)
                {
                    var copy = Typos(t.Text, rate, random);
                    if (NearCopy.Is(t.Text, copy))
                    {
                        found++;
                        continue;
                    }

                    // Where a miss lies: its typo distance against the edits allowed to the shorter text, and to a
                    // twentieth of the longer rounded; within that, whether the edits stand together.
                    var (a, b) = (t.Folded, NearCopy.Fold(copy));
                    var d = NearCopy.TypoDistance<char>(a, b, NearCopy.MaxEdits + 2);
                    if (d == NearCopy.AllowedEdits(Math.Min(a.Length, b.Length)) + 1 && a.Length > b.Length) shorter++;
                    if (d <= Math.Max(a.Length, b.Length) / 20.0 + 0.5) rounded++;
                    if (d <= Math.Max(a.Length, b.Length) / 20.0 + 0.5 && !NearCopy.WithinScatteredEdits(a, b, d)) close++;
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"typos {rate:P1}, {low}-{high} characters: {found} of {group.Count} copies found ({(double)found / group.Count:P1}); of the {group.Count - found} missed, {shorter} one edit over the shorter copy's allowance, {rounded} within a twentieth of the longer rounded, {close} of them with edits standing together"));
            }
        }

        var index = new NearCopyIndex(NearDuplicateIndex.DefaultThreshold);
        var merged = 0;
        var examples = new List<string>();
        foreach (var (text, _) in turns.Take(5000))
        {
            var links = index.FindAll(text);
            if (links.Count > 0)
            {
                merged++;
                if (examples.Count < 5) examples.Add(text.Length > 70 ? text[..70] + "…" : text);
            }

            index.Add(text);
        }

        Console.WriteLine($"false merges: {merged} of {Math.Min(5000, turns.Count)} distinct turns are near copies of an earlier one");
        foreach (var e in examples) Console.WriteLine($"  e.g. {e.ReplaceLineEndings(" ")}");
        HardNegatives();
        return 0;
    }

    // Different records that share a template (a name, a product, a city and a day filled in): the pairs within the
    // edits allowed to the shorter (the same numbers: none), by Levenshtein (a swap of neighbours two edits) and by the
    // typo distance (one edit); the pairs the edit test itself takes for near copies (scattered typos may go further);
    // and the records the index links to an earlier one. Then the same for a longer template, past the shorter's allowance.
    private static void HardNegatives()
    {
        string[] names = ["Anna", "Emma", "Maria", "Marta", "John", "Joan", "Liam", "Noah", "Olivia", "Oliver", "Lena", "Lina", "Mark", "Mike", "Sara", "Sarah", "Paul", "Pablo", "Ivan", "Ian", "Nina", "Nora", "Omar", "Oscar", "Tom", "Tim", "Eva", "Ava", "Leo", "Lea"];
        string[] products = ["laptop", "tablet", "router", "printer", "monitor", "keyboard", "charger", "headset", "camera", "speaker", "phone case", "desk lamp"];
        string[] cities = ["Berlin", "Bern", "Paris", "Porto", "Lyon", "Leon", "Rome", "Riga", "Oslo", "Lima", "Kiev", "Kyiv", "Nice", "Bonn"];
        string[] days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
        string[] templates =
        [
            "Hi {0}, your {1} will be delivered to our store in {2} on {3}.",
            "Dear {0}, the {1} you returned in {2} was refunded on {3}. Thank you for shopping with us.",
            "{0} asked whether the {1} bought in {2} can still be exchanged after {3}.",
        ];
        var random = new Random(7);
        var records = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (records.Count < 2000)
        {
            var text = string.Format(CultureInfo.InvariantCulture, templates[random.Next(templates.Length)], names[random.Next(names.Length)], products[random.Next(products.Length)], cities[random.Next(cities.Length)], days[random.Next(days.Length)]);
            if (seen.Add(NearCopy.Fold(text))) records.Add(text);
        }

        Console.WriteLine($"hard negatives: {Pairs(records, templates.Length)}");

        // A longer template (100-120 letters and digits): pairs past the shorter's allowance, where only scattered edits
        // (NearCopy.WithinScatteredEdits) can make them near copies; its own seed, so the set above is unchanged.
        string[] longer = ["Hello {0}, this is a reminder that the {1} you ordered for the store in {2} is ready for pickup from {3} until closing time."];
        var seeded = new Random(8);
        var reminders = new List<string>();
        seen.Clear();
        while (reminders.Count < 1000)
        {
            var text = string.Format(CultureInfo.InvariantCulture, longer[0], names[seeded.Next(names.Length)], products[seeded.Next(products.Length)], cities[seeded.Next(cities.Length)], days[seeded.Next(days.Length)]);
            if (seen.Add(NearCopy.Fold(text))) reminders.Add(text);
        }

        Console.WriteLine($"hard negatives, long template: {Pairs(reminders, longer.Length)}");
    }

    private static string Pairs(List<string> records, int templates)
    {
        var folded = records.Select(NearCopy.Fold).ToList();
        var (levenshtein, typos, test) = (0, 0, 0);
        for (var i = 0; i < folded.Count; i++)
        {
            for (var j = 0; j < i; j++)
            {
                if (NearCopy.WithinEdits(folded[i], folded[j])) test++;
                var k = NearCopy.AllowedEdits(Math.Min(folded[i].Length, folded[j].Length));
                if (Math.Abs(folded[i].Length - folded[j].Length) > k) continue;
                if (NearCopy.Distance<char>(folded[i], folded[j], k) <= k) levenshtein++;
                if (NearCopy.TypoDistance<char>(folded[i], folded[j], k) <= k) typos++;
            }
        }

        var index = new NearCopyIndex(NearDuplicateIndex.DefaultThreshold);
        var linked = 0;
        foreach (var text in records)
        {
            if (index.FindAll(text).Count > 0) linked++;
            index.Add(text);
        }

        return $"{records.Count} different records of {templates} template{(templates == 1 ? "" : "s")}; pairs within the edits allowed to the shorter: {levenshtein} by Levenshtein, {typos} with a swap of neighbours one edit; {test} near copies by the edit test (NearCopy.WithinEdits); {linked} records linked to an earlier one by the index";
    }

    // The text with about `rate` of its letters mistyped, one typo at a time; digits and other characters untouched.
    private static string Typos(string text, double rate, Random random)
    {
        var chars = new StringBuilder(text);
        var letters = text.Count(char.IsLetter);
        var count = Math.Max(1, (int)Math.Round(letters * rate));
        for (var t = 0; t < count; t++)
        {
            var at = random.Next(chars.Length);
            for (var tries = 0; tries < 50 && !char.IsLetter(chars[at]); tries++) at = random.Next(chars.Length);
            if (!char.IsLetter(chars[at])) continue;
            var letter = (char)('a' + random.Next(26));
            switch (random.Next(4))
            {
                case 0: chars[at] = letter; break;
                case 1: chars.Remove(at, 1); break;
                case 2: chars.Insert(at, letter); break;
                default:
                    if (at + 1 < chars.Length && char.IsLetter(chars[at + 1])) (chars[at], chars[at + 1]) = (chars[at + 1], chars[at]);
                    else chars[at] = letter;
                    break;
            }
        }

        return chars.ToString();
    }

    private static IEnumerable<string> Turns(string path)
    {
        using var stream = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            using var doc = JsonDocument.Parse(line);
            foreach (var turn in doc.RootElement.GetProperty("chosen").GetString()!.Split("\n\n").Skip(1))
            {
                var colon = turn.IndexOf(": ", StringComparison.Ordinal);
                if (colon > 0) yield return turn[(colon + 2)..].Trim();
            }
        }
    }
}
