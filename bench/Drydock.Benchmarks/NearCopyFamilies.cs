using Drydock.Datasets.Similarity;

namespace Drydock.Bench;

/// <summary>
/// The family sizes the near-copy test (<see cref="NearCopy"/>, through <see cref="NearCopyIndex"/>) makes of a
/// dataset's records, read as training reads them: records linked by the test, transitively, are one family, which
/// <c>drydock clean --holdout</c> keeps on one side. Prints the count of families, the largest, and a histogram.
/// </summary>
internal static class NearCopyFamilies
{
    public static int Run(string file)
    {
        var texts = Drydock.Datasets.DatasetReader.Texts(file);
        var parent = new int[texts.Count];
        int Root(int i) => parent[i] == i ? i : parent[i] = Root(parent[i]);
        var index = new NearCopyIndex(NearDuplicateIndex.DefaultThreshold);
        for (var i = 0; i < texts.Count; i++)
        {
            parent[i] = i;
            foreach (var j in index.FindAll(texts[i])) parent[Root(j)] = Root(i);
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
