using System.Text.Json.Nodes;

namespace Drydock.Evaluation.Privacy;

/// <summary>
/// Non-members one typo from a member: a record whose only link to a training record is a long number mistyped
/// (<see cref="NearDuplicates.FindLinks"/>) and that did not count as a pair because a third record holds a value one
/// typo from either (a sequence of ids, or a copy with a decoy beside it: the two read the same). It is no independent
/// non-member whatever other records exist, so it is left out of the comparison; the evaluation records how many
/// (<c>mistypedLeftOut</c>, record numbers) and the gate names them beside its decision.
/// </summary>
public static partial class PrivacyInputs
{
    /// <summary>The field of a membership evaluation's inputs that says non-members one typo from a member were looked for.</summary>
    public const string MistypedChecked = "mistypedChecked";

    /// <summary>The field of a membership evaluation's inputs that lists the non-members (1-based record numbers) left out as one typo from a member.</summary>
    public const string MistypedLeftOut = "mistypedLeftOut";

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
        log.WriteLine($"drydock eval membership: {leftOut.Count} of {nonMembers.Count} non-members left out of the comparison ({shown}{(leftOut.Count > 10 ? ", …" : "")}): each differs from a training record only by a long number one typo away, beside another record one typo from either (a sequence of ids, or a copy beside a decoy); the model may score it as the record it nearly is (recorded with the evaluation)");
        return [.. nonMembers.Where((_, i) => !leftOut.Contains(i + 1))];
    }
}
