using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Drydock.Detection.Engine;

namespace Drydock.Detection.Analyzers;

/// <summary>
/// Finds registered canaries (category <c>canary</c>): random codes of three groups of four characters from an
/// alphabet without look-alikes (<c>7F3K-QZ9M-2WXL</c>, 60 bits), planted in training data on purpose. Only the
/// SHA-256 of each canary's normalised form is known here: every code-shaped run in the text (any case, twelve code
/// characters grouped any way: joined by nothing or by separator characters between any two of them (up to 36 in all):
/// spaces, line breaks, zero-width characters, punctuation, symbols such as <c>+ | −</c> and markdown such as
/// <c>**</c>; look-alike Cyrillic and Greek letters read as Latin; at any position) is normalised and hashed, and a hash in the set is a finding. So a model that
/// repeats a canary is caught however it spaces it, and no canary value is ever kept by the detector.
/// </summary>
public sealed class CanaryAnalyzer(IEnumerable<string> sha256s) : Analyzer
{
    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    private static readonly RuleInfo s_canary = Check("DD-CAN-001", Categories.Canary, "canary", Severity.Critical,
        "A registered canary: text planted in training data on purpose; seeing it means the model memorised and repeats training data",
        [], []);

    private readonly HashSet<string> _hashes = new(sha256s, StringComparer.OrdinalIgnoreCase);

    /// <inheritdoc />
    public override string Category => Categories.Canary;

    /// <inheritdoc />
    public override IReadOnlyList<RuleInfo> Rules => [s_canary];

    /// <summary>How many canaries it watches for.</summary>
    public int Count => _hashes.Count;

    /// <summary>A new random canary value.</summary>
    public static string NewValue()
    {
        Span<char> chars = stackalloc char[14];
        for (var i = 0; i < 14; i++) chars[i] = i is 4 or 9 ? '-' : Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        return new string(chars);
    }

    /// <summary>The SHA-256 (hex) of a canary's normalised form: upper case, separators removed.</summary>
    public static string Hash(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var normal = new StringBuilder(12);
        foreach (var c in value) if (char.IsLetterOrDigit(c)) normal.Append(char.ToUpperInvariant(c));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(normal.ToString())));
    }

    /// <summary>
    /// The most characters a code spans in (normalised) text: twelve code characters and up to
    /// <see cref="MaxSeparators"/> separator characters between them in all (<c>N C U L …</c>, <c>NC-UL-UD-…</c>, a line
    /// break "\r\n" between groups, markdown around a group: "** - **"). A stream that holds back this many characters
    /// never sends part of a code.
    /// </summary>
    internal const int MaxCodeLength = 12 + MaxSeparators;

    // The most separator characters between two code characters, and in one code in all: one bound, so any number of
    // them between two characters (C5XS - - - - - YX4J…) counts as long as the code's whole span fits the hold-back window.
    private const int MaxSeparators = 36;
    private const int MaxSeparator = MaxSeparators;

    /// <inheritdoc />
    /// <remarks>
    /// Every position is tried, whatever is before or after it: twelve code characters (any case; a Cyrillic or Greek
    /// look-alike reads as the letter it looks like), however they are grouped: between any two of them any number of
    /// separator characters (any space or line break, a zero-width or other invisible format character, any punctuation
    /// or dash, math and modifier symbols: <c>- _ . , : / | + * ~ `</c>, U+2212, markdown emphasis around a group), at most
    /// <see cref="MaxSeparators"/> in all (so that the code fits a stream's hold-back window), or none. So <c>7F3K-QZ9M-2WXL</c>, <c>7F3KQZ 9M2WXL</c>,
    /// <c>7F 3K QZ 9M 2W XL</c> and <c>7F3-KQZ-9M2-WXL</c> are one code. A word of code characters before the code
    /// (<c>test 7F3K QZ9M 2WXL</c>) cannot hide it, because the candidate that starts at the word is tried and then the
    /// one that starts at the code. Precision comes from the hash: only a run whose twelve characters hash to a
    /// registered canary is a finding.
    /// </remarks>
    public override void Analyze(string text, ref List<Finding>? findings)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_hashes.Count == 0 || text.Length < 12) return;
        Span<byte> code = stackalloc byte[12];
        Span<byte> hash = stackalloc byte[32];
        var reported = -1;
        for (var start = 0; start + 12 <= text.Length; start++)
        {
            if (!IsCodeChar(text[start])) continue;
            var at = start;
            var n = 0;
            var separators = 0;
            while (n < 12)
            {
                if (n > 0)
                {
                    var gap = 0;
                    while (at < text.Length && gap <= MaxSeparator && IsSeparator(text[at])) { at++; gap++; }
                    separators += gap;
                    if (gap > MaxSeparator || separators > MaxSeparators) break;
                }

                if (at >= text.Length || !IsCodeChar(text[at])) break;
                code[n++] = (byte)Code(text[at++]);
            }

            if (n != 12 || start < reported) continue;
            SHA256.HashData(code, hash);
            if (!_hashes.Contains(Convert.ToHexStringLower(hash))) continue;
            Report(ref findings, s_canary, start, at, 0.99, Masking.MaskValue(text.AsSpan(start, at - start), 2));
            reported = at;
        }
    }

    // The code character c reads as (upper case, a Cyrillic or Greek look-alike read as the Latin letter or digit it
    // looks like: LookAlikes with its code-only entries), or '\0'.
    private static char Code(char c)
    {
        if (c >= 0x80)
        {
            c = LookAlikes.Latin(c, code: true);
            if (c >= 0x80) return '\0';
        }

        if (char.IsAsciiDigit(c)) return c >= '2' ? c : '\0';
        if (!char.IsAsciiLetter(c)) return '\0';
        var upper = char.ToUpperInvariant(c);
        return upper is 'I' or 'O' ? '\0' : upper;
    }

    private static bool IsCodeChar(char c) => Code(c) != '\0';

    // Between code characters: white space, invisible format characters (zero-width space and joiners, soft hyphen),
    // punctuation (dashes, _ . , : / | * and the markdown around a group), symbols (+, the minus sign U+2212, ~, `).
    private static bool IsSeparator(char c) => char.IsWhiteSpace(c) || char.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.DashPunctuation
        or UnicodeCategory.ConnectorPunctuation or UnicodeCategory.OtherPunctuation or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
        or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.MathSymbol or UnicodeCategory.ModifierSymbol;
}
