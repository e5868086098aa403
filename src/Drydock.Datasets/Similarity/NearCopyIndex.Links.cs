namespace Drydock.Datasets.Similarity;

/// <summary>
/// Links of two kinds (<see cref="FindLinks(string, uint[])"/>): near copies, which chain into families, and near copies only with a
/// long number mistyped (<see cref="NearCopy.Mistyped"/>), which count pairwise only (<see cref="MistypedPair"/>).
/// Sequential ids (<c>ticket 10000</c> … <c>ticket 10399</c>) differ from many others by one digit each; a record
/// retyped with its number mistyped differs from its original alone.
/// </summary>
public sealed partial class NearCopyIndex
{
    private readonly List<string> _numberLists = [];

    /// <summary>
    /// What a text links to: <paramref name="Copies"/>, the texts it is a near copy of with its numbers as they are;
    /// <paramref name="Mistyped"/>, those it is a near copy of only with a long number mistyped; and the text's own
    /// numbers (<see cref="NumbersOf(IReadOnlyList{string})"/>).
    /// </summary>
    public readonly record struct Links(IReadOnlyList<int> Copies, IReadOnlyList<int> Mistyped, string Numbers);

    /// <summary>The links of a text to the texts added (both lists by index, ascending).</summary>
    public Links FindLinks(string text) => FindLinks(text, NearDuplicateIndex.Signature(text));

    /// <summary>The links of a text to the texts added (both lists by index, ascending), its signature already known.</summary>
    public Links FindLinks(string text, uint[] signature)
    {
        var found = new SortedSet<int>();
        var mistyped = new SortedSet<int>();
        Collect(text, signature, found, mistyped);
        return new Links([.. found], [.. mistyped], NumbersOf(NearCopy.Tokens(text).Numbers));
    }

    /// <summary>The numbers of the text added at <paramref name="id"/>, as <see cref="NumbersOf(IReadOnlyList{string})"/> writes them.</summary>
    public string NumbersOf(int id) => _numberLists[id];

    /// <summary>A text's numbers in order, separated by spaces: the value two texts' mistyped links are compared by.</summary>
    public static string NumbersOf(IReadOnlyList<string> numbers) => string.Join(' ', numbers ?? throw new ArgumentNullException(nameof(numbers)));

    /// <summary>
    /// Whether a mistyped link between two texts counts: each has mistyped links (<see cref="Links.Mistyped"/>) to texts
    /// of one set of numbers only, the other's (the values its mistyped neighbours hold, <paramref name="aNeighbours"/>
    /// and <paramref name="bNeighbours"/>). A number with several one-typo neighbours is one of a sequence of
    /// different values, not a mistyped copy, and its links never chain further than one pair.
    /// </summary>
    public static bool MistypedPair(string aNumbers, IReadOnlyCollection<string> aNeighbours, string bNumbers, IReadOnlyCollection<string> bNeighbours)
    {
        ArgumentNullException.ThrowIfNull(aNeighbours);
        ArgumentNullException.ThrowIfNull(bNeighbours);
        return aNeighbours.All(n => n == bNumbers) && bNeighbours.All(n => n == aNumbers);
    }
}
