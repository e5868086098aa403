namespace Drydock.Detection.Engine;

/// <summary>Keeps the best finding where findings of one category overlap.</summary>
internal static class Overlaps
{
    public static List<Candidate> Resolve(List<Candidate> candidates)
    {
        if (candidates.Count == 1)
        {
            return candidates;
        }

        // Best first: higher priority, then higher confidence, then longer span, then rule id for determinism.
        candidates.Sort(static (a, b) =>
        {
            var c = b.Rule.Priority.CompareTo(a.Rule.Priority);
            if (c == 0) c = b.Confidence.CompareTo(a.Confidence);
            if (c == 0) c = (b.End - b.Start).CompareTo(a.End - a.Start);
            if (c == 0) c = string.CompareOrdinal(a.Rule.Id, b.Rule.Id);
            if (c == 0) c = a.Start.CompareTo(b.Start);
            return c;
        });

        var keptByCategory = new Dictionary<string, List<(int Start, int End)>>(StringComparer.Ordinal);
        var kept = new List<Candidate>(candidates.Count);
        foreach (var candidate in candidates)
        {
            if (!keptByCategory.TryGetValue(candidate.Rule.Category, out var intervals))
            {
                keptByCategory[candidate.Rule.Category] = intervals = [];
            }

            if (Overlapping(intervals, candidate.Start, candidate.End))
            {
                continue;
            }

            Insert(intervals, candidate.Start, candidate.End);
            kept.Add(candidate);
        }

        kept.Sort(static (a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : string.CompareOrdinal(a.Rule.Id, b.Rule.Id));
        return kept;
    }

    // Kept intervals never overlap each other, so sorted by start they are sorted by end too.
    private static bool Overlapping(List<(int Start, int End)> intervals, int start, int end)
    {
        var index = LowerBound(intervals, start);
        if (index < intervals.Count && intervals[index].Start < end)
        {
            return true;
        }

        return index > 0 && intervals[index - 1].End > start;
    }

    private static void Insert(List<(int Start, int End)> intervals, int start, int end) =>
        intervals.Insert(LowerBound(intervals, start), (start, end));

    private static int LowerBound(List<(int Start, int End)> intervals, int start)
    {
        int lo = 0, hi = intervals.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (intervals[mid].Start < start) lo = mid + 1; else hi = mid;
        }

        return lo;
    }
}
