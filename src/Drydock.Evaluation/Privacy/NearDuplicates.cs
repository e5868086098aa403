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

    /// <summary>Every non-member that is a near copy of a member, each with the first such member (in the members' order).</summary>
    public static IReadOnlyList<Pair> Find(IReadOnlyList<string> members, IReadOnlyList<string> nonMembers)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(nonMembers);
        var index = new NearCopyIndex(NearDuplicateIndex.DefaultThreshold);
        foreach (var text in nonMembers) index.Add(text);
        var found = new Dictionary<int, int>();
        for (var m = 0; m < members.Count && found.Count < nonMembers.Count; m++)
        {
            foreach (var n in index.FindAll(members[m])) found.TryAdd(n, m);
        }

        return [.. found.OrderBy(p => p.Key).Select(p => new Pair(p.Key, p.Value))];
    }
}
