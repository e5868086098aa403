using Drydock.Datasets.Similarity;

namespace Drydock.Bench;

/// <summary>
/// The family sizes the near-copy test (<see cref="NearCopy"/>, through <see cref="NearCopyIndex"/>) makes of a
/// dataset's records, read as training reads them: records linked by the test, transitively, are one family, which
/// <c>drydock clean --holdout</c> keeps on one side; a link only with a long number mistyped counts as the split
/// counts it (<see cref="NearCopyIndex.MistypedPair"/>). Prints the count of families, the largest, and a histogram.
/// </summary>
internal static class NearCopyFamilies
{
    public static int Run(string file)
    {
        var texts = Drydock.Datasets.DatasetReader.Texts(file);
        var parent = new int[texts.Count];
        int Root(int i) => parent[i] == i ? i : parent[i] = Root(parent[i]);
        var index = new NearCopyIndex(NearDuplicateIndex.DefaultThreshold);
        var neighbours = new Dictionary<int, HashSet<string>>();
        for (var i = 0; i < texts.Count; i++)
        {
            parent[i] = i;
            var links = index.FindLinks(texts[i]);
            var values = links.Mistyped.Select(index.NumbersOf).ToHashSet(StringComparer.Ordinal);
            foreach (var j in links.Copies) parent[Root(j)] = Root(i);
            foreach (var j in links.Mistyped)
            {
                if (NearCopyIndex.MistypedPair(links.Numbers, values, index.NumbersOf(j), neighbours.TryGetValue(j, out var theirs) ? theirs : [])) parent[Root(j)] = Root(i);
                if (!neighbours.TryGetValue(j, out var set)) neighbours[j] = set = new HashSet<string>(StringComparer.Ordinal);
                set.Add(links.Numbers);
            }

            if (values.Count > 0) neighbours[i] = values;
            index.Add(texts[i]);
        }

        var sizes = Enumerable.Range(0, texts.Count).GroupBy(Root).Select(g => g.Count()).ToList();
        Console.WriteLine($"{file}: {texts.Count} records, {sizes.Count} families, largest {sizes.Max()} ({100.0 * sizes.Max() / texts.Count:0.#} % of the records)");
        foreach (var (label, low, high) in new[] { ("1", 1, 1), ("2", 2, 2), ("3-5", 3, 5), ("6-20", 6, 20), ("21-100", 21, 100), (">100", 101, int.MaxValue) })
        {
            var count = sizes.Count(s => s >= low && s <= high);
            Console.WriteLine($"  size {label,-7} {count,7} families, {sizes.Where(s => s >= low && s <= high).Sum(),7} records");
        }

        return 0;
    }
}
