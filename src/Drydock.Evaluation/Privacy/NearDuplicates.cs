using Drydock.Datasets.Similarity;

namespace Drydock.Evaluation.Privacy;

/// <summary>
/// Non-members that are near copies of members by the test <c>drydock clean --holdout</c> keeps on one side of its
/// split (<see cref="NearCopy"/>: MinHash similarity at or above <see cref="NearDuplicateIndex.DefaultThreshold"/>, a
/// few edits apart once only letters and digits are kept with the same numbers, a long one possibly mistyped, or one
/// mostly contained in the other). A model scores
/// such a record as the training record it nearly is, so it proves nothing as a non-member. The non-members are
/// indexed (<see cref="NearCopyIndex"/>) and each member looks up the non-members it is a near copy of.
/// </summary>
public static class NearDuplicates
{
    /// <summary>Folded texts shorter than this count as near copies by edits only when equal.</summary>
    public const int MinEditLength = NearCopy.MinEditLength;

    /// <summary>One non-member (0-based index) and the member it nearly duplicates.</summary>
    public readonly record struct Pair(int NonMember, int Member);

    /// <summary>
    /// Every non-member that is a near copy of a member, each with the first such member (in the members' order). A
    /// near copy only with a long number mistyped counts when the link is a pair (<see cref="NearCopyIndex.MistypedPair"/>):
    /// neither record has a mistyped link, among members and non-members together, to a text with other numbers, the
    /// rule <c>drydock clean --holdout</c> keeps.
    /// </summary>
    public static IReadOnlyList<Pair> Find(IReadOnlyList<string> members, IReadOnlyList<string> nonMembers) => FindLinks(members, nonMembers).Copies;

    /// <summary>
    /// <see cref="Find"/>'s near copies (<c>Copies</c>) and, apart from them, every other non-member that
    /// has a link to a member only with a long number mistyped (<see cref="NearCopyIndex.Links.Mistyped"/>), each with
    /// the first such member (<c>Mistyped</c>): links that did not count as a pair because some record, a
    /// member or a non-member, holds a third value one typo from either. A sequence of ids and a copy with a decoy
    /// beside it read the same; either way the model may score the record as the member it nearly is, so it is no
    /// independent non-member: <c>eval membership</c> leaves it out of the comparison and records how many it left out.
    /// </summary>
    public static (IReadOnlyList<Pair> Copies, IReadOnlyList<Pair> Mistyped) FindLinks(IReadOnlyList<string> members, IReadOnlyList<string> nonMembers)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(nonMembers);
        var index = new NearCopyIndex(NearDuplicateIndex.DefaultThreshold);
        foreach (var text in nonMembers) index.Add(text);
        var found = new SortedDictionary<int, int>();
        var mistyped = new List<(int NonMember, int Member)>();
        for (var m = 0; m < members.Count && found.Count < nonMembers.Count; m++)
        {
            var links = index.FindLinks(members[m]);
            foreach (var n in links.Copies) found.TryAdd(n, m);
            foreach (var n in links.Mistyped) mistyped.Add((n, m));
        }

        if (mistyped.Count > 0)
        {
            var memberIndex = new NearCopyIndex(NearDuplicateIndex.DefaultThreshold);
            foreach (var text in members) memberIndex.Add(text);
            // The numbers of every text each record has a mistyped link to, among members and non-members.
            HashSet<string> Neighbours(string text, NearCopyIndex own, int self)
            {
                var values = new HashSet<string>(StringComparer.Ordinal);
                foreach (var id in index.FindLinks(text).Mistyped) if (own != index || id != self) values.Add(index.NumbersOf(id));
                foreach (var id in memberIndex.FindLinks(text).Mistyped) if (own != memberIndex || id != self) values.Add(memberIndex.NumbersOf(id));
                return values;
            }

            foreach (var (n, m) in mistyped)
            {
                if (found.TryGetValue(n, out var first) && first <= m) continue;
                if (NearCopyIndex.MistypedPair(index.NumbersOf(n), Neighbours(nonMembers[n], index, n), memberIndex.NumbersOf(m), Neighbours(members[m], memberIndex, m))) found[n] = m;
            }
        }

        var unpaired = new SortedDictionary<int, int>();
        foreach (var (n, m) in mistyped) if (!found.ContainsKey(n)) unpaired.TryAdd(n, m);
        return ([.. found.Select(p => new Pair(p.Key, p.Value))], [.. unpaired.Select(p => new Pair(p.Key, p.Value))]);
    }
}
