using System.Globalization;
using System.Text;

namespace Drydock.Semantic;

/// <summary>
/// BERT's uncased WordPiece tokenizer, as all-MiniLM-L6-v2 was trained with: control characters dropped, Chinese,
/// Japanese and Korean ideographs made words of their own, lower case, accents stripped, punctuation split off, then
/// the greedy longest match against the vocabulary ("##" marks a word's continuation). Each token keeps the start
/// offset of its word in the original text, so a window can be mapped back to a span. Immutable and thread-safe.
/// </summary>
public sealed class WordPieceTokenizer
{
    private const int MaxWordLength = 100;

    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    /// <summary>Creates the tokenizer over a vocabulary (token per id).</summary>
    public WordPieceTokenizer(IReadOnlyList<string> vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        _ids = new Dictionary<string, int>(vocabulary.Count, StringComparer.Ordinal);
        for (var i = 0; i < vocabulary.Count; i++)
        {
            _ids.TryAdd(vocabulary[i], i);
        }

        _lookup = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
        Cls = Id("[CLS]");
        Sep = Id("[SEP]");
        Unknown = Id("[UNK]");
        Pad = Id("[PAD]");
    }

    /// <summary>The id of [CLS].</summary>
    public int Cls { get; }

    /// <summary>The id of [SEP].</summary>
    public int Sep { get; }

    /// <summary>The id of [UNK].</summary>
    public int Unknown { get; }

    /// <summary>The id of [PAD].</summary>
    public int Pad { get; }

    /// <summary>Tokenizes a text into word-piece ids and the start offset (in <paramref name="text"/>) of each one's word.</summary>
    public void Tokenize(string text, List<int> ids, List<int> starts)
    {
        ArgumentNullException.ThrowIfNull(text);
        ids.Clear();
        starts.Clear();
        var word = new StringBuilder(32);
        var wordStart = -1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var width = 1;
            int code = c;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                code = char.ConvertToUtf32(c, text[i + 1]);
                width = 2;
            }

            var category = CharUnicodeInfo.GetUnicodeCategory(code);
            if (code == 0 || code == 0xFFFD || (category is UnicodeCategory.Control or UnicodeCategory.Format && !char.IsWhiteSpace(c)))
            {
                i += width - 1;
                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                Flush(word, wordStart, ids, starts);
                wordStart = -1;
                continue;
            }

            if (IsPunctuation(code, category) || IsCjk(code))
            {
                Flush(word, wordStart, ids, starts);
                word.Append(text, i, width);
                Flush(word, i, ids, starts);
                wordStart = -1;
                i += width - 1;
                continue;
            }

            if (wordStart < 0) wordStart = i;
            word.Append(text, i, width);
            i += width - 1;
        }

        Flush(word, wordStart, ids, starts);
    }

    private int Id(string token) => _ids.TryGetValue(token, out var id) ? id : throw new SemanticModelException($"The encoder vocabulary has no {token} token.");

    private void Flush(StringBuilder word, int start, List<int> ids, List<int> starts)
    {
        if (word.Length == 0) return;
        var normalized = Normalize(word.ToString());
        word.Clear();
        if (normalized.Length == 0) return;
        if (normalized.Length > MaxWordLength)
        {
            ids.Add(Unknown);
            starts.Add(start);
            return;
        }

        var first = ids.Count;
        var span = normalized.AsSpan();
        var position = 0;
        Span<char> piece = stackalloc char[MaxWordLength + 2];
        while (position < span.Length)
        {
            var end = span.Length;
            var found = -1;
            while (end > position)
            {
                var length = end - position;
                if (position > 0)
                {
                    piece[0] = '#';
                    piece[1] = '#';
                    span[position..end].CopyTo(piece[2..]);
                }

                ReadOnlySpan<char> candidate = position > 0 ? piece[..(length + 2)] : span[position..end];

                if (_lookup.TryGetValue(candidate, out var id))
                {
                    found = id;
                    break;
                }

                end--;
            }

            if (found < 0)
            {
                // BERT: a word with any piece outside the vocabulary is one [UNK].
                ids.RemoveRange(first, ids.Count - first);
                starts.RemoveRange(first, starts.Count - first);
                ids.Add(Unknown);
                starts.Add(start);
                return;
            }

            ids.Add(found);
            starts.Add(start);
            position = end;
        }
    }

    // Lower case, then accents stripped (NFD without the combining marks), as BERT's uncased tokenizer does.
    private static string Normalize(string word)
    {
        var lower = word.ToLowerInvariant();
        if (System.Text.Ascii.IsValid(lower)) return lower;
        var decomposed = lower.Normalize(NormalizationForm.FormD);
        var builder = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark) builder.Append(c);
        }

        return builder.ToString();
    }

    private static bool IsPunctuation(int code, UnicodeCategory category) =>
        code is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126
        || category is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
            or UnicodeCategory.OtherPunctuation;

    private static bool IsCjk(int code) =>
        code is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0x2A700 and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
}
