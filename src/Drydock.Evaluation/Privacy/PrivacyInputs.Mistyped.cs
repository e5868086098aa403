using System.Text.Json.Nodes;
using Drydock.Detection.Engine;

namespace Drydock.Evaluation.Privacy;

/// <summary>
/// Non-members one typo from a member: a record whose only link to a training record is a long number mistyped
/// (<see cref="NearDuplicates.FindLinks"/>) and that did not count as a pair because a third record holds a value one
/// typo from either (a sequence of ids, or a copy with a decoy beside it: the two read the same). It is no independent
/// non-member whatever other records exist, so it is left out of the comparison; the evaluation records how many
/// (<c>mistypedLeftOut</c>, record numbers) and the gate names them beside its decision. One rule for every file the
/// model trained on: the members, the other datasets of its lineage, and the inputs they were cleaned from.
/// </summary>
public static partial class PrivacyInputs
{
    /// <summary>The field of a membership evaluation's inputs that says non-members one typo from a member were looked for.</summary>
    public const string MistypedChecked = "mistypedChecked";

    /// <summary>The field of a membership evaluation's inputs that lists the non-members (1-based record numbers) left out as one typo from a member.</summary>
    public const string MistypedLeftOut = "mistypedLeftOut";

    /// <summary>
    /// The field of a membership evaluation's inputs that says the inputs the datasets were cleaned from were searched for
    /// non-members one typo from their records too (evaluations recorded before were not: inconclusive where they
    /// compared an input).
    /// </summary>
    public const string MistypedCheckedInputs = "mistypedCheckedInputs";

    /// <summary>
    /// The non-members that take part in the comparison: <paramref name="nonMembers"/> without those
    /// <see cref="Membership"/> listed in <see cref="MistypedLeftOut"/> (none when the inputs were not checked), each
    /// left out said on <paramref name="log"/> by record number.
    /// </summary>
    public static List<string> Independent(List<string> nonMembers, JsonObject inputs, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(nonMembers);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(log);
        var leftOut = (inputs[MistypedLeftOut] as JsonArray ?? []).Select(n => (int)n!).ToHashSet();
        if (leftOut.Count == 0) return nonMembers;
        var shown = string.Join(", ", leftOut.Order().Take(10).Select(n => $"#{n}"));
        log.WriteLine($"drydock eval membership: {leftOut.Count} of {nonMembers.Count} non-members left out of the comparison ({shown}{(leftOut.Count > 10 ? ", …" : "")}): each differs from a training record (or the original it was cleaned from) only by a long number one typo away, beside another record one typo from either (a sequence of ids, or a copy beside a decoy); the model may score it as the record it nearly is (recorded with the evaluation)");
        return [.. nonMembers.Where((_, i) => !leftOut.Contains(i + 1))];
    }

    // One comparison for every file of training data: how many of the non-members at `candidates` are records of
    // `training` (in TextForms.ForComparison's form); else which are near copies of one (NearDuplicates.FindLinks), and,
    // added to `leftOut`, those linked to one only by a long number one typo off. Record numbers are the non-members'.
    private static (int Exact, List<NearDuplicates.Pair> Near) CompareWith(IReadOnlyList<string> training, IReadOnlyList<string> nonMembers, IReadOnlyList<int> candidates, ISet<int> leftOut)
    {
        var hashes = training.Select(t => RunIdentity.Sha256(TextForms.ForComparison(t))).ToHashSet(StringComparer.Ordinal);
        var exact = candidates.Count(i => hashes.Contains(RunIdentity.Sha256(TextForms.ForComparison(nonMembers[i]))));
        if (exact > 0) return (exact, []);
        var (near, mistyped) = NearDuplicates.FindLinks(training, [.. candidates.Select(i => nonMembers[i])]);
        leftOut.UnionWith(mistyped.Select(p => candidates[p.NonMember]));
        return (0, [.. near.Select(p => new NearDuplicates.Pair(candidates[p.NonMember], p.Member))]);
    }
}
