using Drydock.Datasets.Similarity;
using Drydock.Detection.Engine;

namespace Drydock.Evaluation.Privacy;

/// <summary>
/// Non-members that are near-duplicates of members, in either of two senses. (1) What <c>drydock clean</c> drops as a
/// near-duplicate: the MinHash similarity of the two texts (<see cref="NearDuplicateIndex.Similarity"/> of
/// <see cref="NearDuplicateIndex.Signature(string)"/>) is at or above <see cref="NearDuplicateIndex.DefaultThreshold"/>,
/// so a few words changed in a longer record do not make it a non-member. The non-members are indexed and each member
/// looks up every non-member sharing one of its locality-sensitive hashing bands, each confirmed by the similarity.
/// (2) Their skeletons (<see cref="TextForms.Skeleton"/>: letters and
/// digits only, case and width folded, invisible characters removed) are equal or, from 8 characters on, one edit
/// apart (a character changed, added or removed). Such a record differs from a training record by whitespace, case, punctuation or one
/// character, and a model scores it as the training record it nearly is, so it proves nothing as a non-member.
/// Exact, in time linear in the total length: each skeleton and each of its one-character deletions is hashed
/// (prefix and suffix polynomial hashes), every hash shared by a member and a non-member is confirmed by comparing
/// the two skeletons.
/// </summary>
public static class NearDuplicates
{
    /// <summary>Skeletons shorter than this count as near-duplicates only when equal.</summary>
    public const int MinEditLength = 8;

    /// <summary>One non-member (0-based index) and the member it nearly duplicates.</summary>
    public readonly record struct Pair(int NonMember, int Member);

    /// <summary>
    /// Every non-member within one edit of a member (by skeleton) or similar to one at or above the near-duplicate
    /// threshold, each with the first such member (in the members' order).
    /// </summary>
    public static IReadOnlyList<Pair> Find(IReadOnlyList<string> members, IReadOnlyList<string> nonMembers)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(nonMembers);
        var skeletons = nonMembers.Select(TextForms.Skeleton).ToList();
        var similar = new NearDuplicateIndex(NearDuplicateIndex.DefaultThreshold);
        foreach (var text in nonMembers) similar.Add(NearDuplicateIndex.Signature(text));
        var index = new Dictionary<ulong, List<int>>();
        for (var i = 0; i < skeletons.Count; i++)
        {
            foreach (var h in Hashes(skeletons[i]))
            {
                if (!index.TryGetValue(h, out var list)) index[h] = list = [];
                if (list.Count == 0 || list[^1] != i) list.Add(i);
            }
        }

        var found = new Dictionary<int, int>();
        for (var m = 0; m < members.Count && found.Count < skeletons.Count; m++)
        {
            var member = TextForms.Skeleton(members[m]);
            foreach (var h in Hashes(member))
            {
                if (!index.TryGetValue(h, out var candidates)) continue;
                foreach (var n in candidates) if (!found.ContainsKey(n) && WithinOneEdit(member, skeletons[n])) found[n] = m;
            }

            foreach (var n in similar.FindAll(NearDuplicateIndex.Signature(members[m]))) found.TryAdd(n, m);
        }

        return [.. found.OrderBy(p => p.Key).Select(p => new Pair(p.Key, p.Value))];
    }

    // The hash of the text and of each text with one character removed.
    private static IEnumerable<ulong> Hashes(string s)
    {
        const ulong Base = 1_000_003;
        var n = s.Length;
        var prefix = new ulong[n + 1];
        for (var i = 0; i < n; i++) prefix[i + 1] = (prefix[i] * Base) + s[i] + 1;
        var suffix = new ulong[n + 2];
        var power = new ulong[n + 1];
        power[0] = 1;
        for (var i = 1; i <= n; i++) power[i] = power[i - 1] * Base;
        for (var i = n - 1; i >= 0; i--) suffix[i] = ((s[i] + 1UL) * power[n - 1 - i]) + suffix[i + 1];
        // Lengths are mixed in so that a text and a deletion of a longer one only meet when they are the same string.
        yield return Mix(prefix[n], n);
        for (var i = 0; i < n; i++) yield return Mix((prefix[i] * power[n - 1 - i]) + suffix[i + 1], n - 1);
    }

    private static ulong Mix(ulong hash, int length)
    {
        var x = hash ^ ((ulong)length * 0x9E3779B97F4A7C15UL);
        x ^= x >> 33;
        x *= 0xFF51AFD7ED558CCDUL;
        x ^= x >> 33;
        return x;
    }

    // Levenshtein distance at most 1; skeletons shorter than MinEditLength must be equal (one edit is too much of "hi").
    private static bool WithinOneEdit(string a, string b)
    {
        if (Math.Max(a.Length, b.Length) < MinEditLength) return a == b;
        if (Math.Abs(a.Length - b.Length) > 1) return false;
        if (a.Length < b.Length) (a, b) = (b, a);
        var i = 0;
        while (i < b.Length && a[i] == b[i]) i++;
        if (i == b.Length) return true; // equal, or a has one more character at the end
        return a.Length == b.Length
            ? a.AsSpan(i + 1).SequenceEqual(b.AsSpan(i + 1))
            : a.AsSpan(i + 1).SequenceEqual(b.AsSpan(i));
    }
}
