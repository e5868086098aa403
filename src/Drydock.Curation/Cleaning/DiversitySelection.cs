using System.IO.Hashing;
using System.Text;

namespace Drydock.Curation.Cleaning;

/// <summary><c>--keep N</c>: the records that would be kept, and the N of them chosen for diversity across sources.</summary>
internal sealed class DiversitySelection(int seed)
{
    private readonly List<(ProcessedRecord Record, ulong Rank)> _candidates = [];

    public void Add(ProcessedRecord record) => _candidates.Add((record, XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(record.Text!), seed)));

    /// <summary>Every candidate in input order, and whether it is among the <paramref name="keep"/> chosen.</summary>
    public IEnumerable<(ProcessedRecord Record, bool Chosen)> Choose(int keep)
    {
        // Round-robin over sources (each in a seeded random order) until N are chosen; then input order.
        var chosen = new HashSet<ProcessedRecord>(ReferenceEqualityComparer.Instance);
        var queues = _candidates.GroupBy(s => s.Record.Source, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new Queue<ProcessedRecord>(g.OrderBy(s => s.Rank).Select(s => s.Record))).ToList();
        while (chosen.Count < keep && queues.Any(q => q.Count > 0))
        {
            foreach (var queue in queues)
            {
                if (chosen.Count < keep && queue.Count > 0) chosen.Add(queue.Dequeue());
            }
        }

        return _candidates.Select(c => (c.Record, chosen.Contains(c.Record)));
    }
}
