namespace Drydock.Datasets.Similarity;

/// <summary>
/// Candidates for the loose edit test (<see cref="NearCopy.WithinLooseEdits(string, string)"/>): a looser band set
/// over the same MinHash signature (<see cref="LooseBands"/> bands of <see cref="LooseRows"/> rows, so texts of
/// Jaccard similarity 0.6 share a band with probability 0.9996, 0.5 with 0.99, 0.4 with 0.88), for texts long enough
/// to pair with one over <see cref="NearCopy.MaxEditLength"/> characters. Each band lookup walks at most the
/// <see cref="LooseCandidatesPerBand"/> most recent texts of its bucket; a candidate's length must be within the edits
/// allowed and its signature must estimate a similarity of at least <see cref="MinLooseSimilarity"/>; and at most
/// <see cref="MaxLooseChecks"/> edit distances are computed per lookup (most recent first), so a lookup stays bounded
/// on templated text: the same recall trade-off as the bands'.
/// </summary>
public sealed partial class NearCopyIndex
{
    /// <summary>Rows per band of the loose band set.</summary>
    public const int LooseRows = 3;

    /// <summary>Bands of the loose band set (all the bins of the signature).</summary>
    public const int LooseBands = NearDuplicateIndex.Hashes / LooseRows;

    /// <summary>The most recent texts of a loose bucket a lookup walks.</summary>
    public const int LooseCandidatesPerBand = 64;

    /// <summary>The most edit distances a lookup computes.</summary>
    public const int MaxLooseChecks = 256;

    /// <summary>The least estimated similarity of a candidate whose edit distance is computed (a tenth of the characters edited leaves at least a third of the 5-character shingles).</summary>
    public const double MinLooseSimilarity = 0.3;

    // The most banded edit-distance cells a lookup spends (about six checks of the longest texts): the recall trade-off
    // of the bounds above, so a lookup stays bounded on long texts that share most of their words.
    private const long MaxLooseCells = 20_000_000;

    private readonly Dictionary<ulong, List<int>> _loose = [];
    private readonly Dictionary<int, (string Folded, ulong[] Words, uint[] Signature)> _long = [];

    private void AddLoose(int id, string text, string folded, uint[] signature)
    {
        if (!NearCopy.LooseLength(folded.Length)) return;
        _long[id] = (folded, NearCopy.Words(text), signature);
        for (var band = 0; band < LooseBands; band++) Post(_loose, LooseKey(signature, band), id);
    }

    private void FindLoose(string text, string folded, uint[] signature, SortedSet<int> found)
    {
        if (!NearCopy.LooseLength(folded.Length)) return;
        var seen = new HashSet<int>();
        var checks = 0;
        var cells = 0L;
        ulong[]? words = null;
        for (var band = 0; band < LooseBands && checks < MaxLooseChecks; band++)
        {
            if (!_loose.TryGetValue(LooseKey(signature, band), out var ids)) continue;
            for (var i = ids.Count - 1; i >= 0 && i >= ids.Count - LooseCandidatesPerBand && checks < MaxLooseChecks; i--)
            {
                var id = ids[i];
                if (found.Contains(id) || !seen.Add(id)) continue;
                var (theirs, theirWords, their) = _long[id];
                var k = (int)(Math.Max(folded.Length, theirs.Length) * NearCopy.MaxEditFraction);
                if (Math.Abs(folded.Length - theirs.Length) > k || NearDuplicateIndex.Similarity(signature, their) < MinLooseSimilarity) continue;
                checks++;
                cells += (long)Math.Min(folded.Length, theirs.Length) * ((2 * k) + 1);
                if (cells > MaxLooseCells) return;
                if (NearCopy.WithinLooseEdits(folded, theirs, words ??= NearCopy.Words(text), theirWords)) found.Add(id);
            }
        }
    }

    private static ulong LooseKey(uint[] signature, int band)
    {
        var h = 0x9E3779B97F4A7C15UL * (ulong)(band + 1);
        for (var r = 0; r < LooseRows; r++) h = (h ^ signature[(band * LooseRows) + r]) * 0x100000001B3UL;
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDUL;
        return h ^ (h >> 33);
    }
}
