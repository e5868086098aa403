using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Drydock.Detection.Engine;

namespace Drydock.Detection.Analyzers;

/// <summary>
/// Finds registered canaries (category <c>canary</c>): random codes of three groups of four characters from an
/// alphabet without look-alikes (<c>7F3K-QZ9M-2WXL</c>, 60 bits), planted in training data on purpose. Only the
/// SHA-256 of each canary's normalised form is known here: every code-shaped run in the text (any case, groups joined
/// by a dash, a space or nothing) is normalised and hashed, and a hash in the set is a finding. So a model that
/// repeats a canary is caught however it spaces it, and no canary value is ever kept by the detector.
/// </summary>
public sealed partial class CanaryAnalyzer(IEnumerable<string> sha256s) : Analyzer
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

    /// <inheritdoc />
    public override void Analyze(string text, ref List<Finding>? findings)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_hashes.Count == 0 || text.Length < 12) return;
        foreach (var match in Shape().EnumerateMatches(text))
        {
            var value = text.AsSpan(match.Index, match.Length);
            if (_hashes.Contains(Hash(value.ToString()))) Report(ref findings, s_canary, match.Index, match.Index + match.Length, 0.99, Masking.MaskValue(value, 2));
        }
    }

    [GeneratedRegex("(?<![A-Za-z0-9])[A-HJ-NP-Za-hj-np-z2-9]{4}[- ]?[A-HJ-NP-Za-hj-np-z2-9]{4}[- ]?[A-HJ-NP-Za-hj-np-z2-9]{4}(?![A-Za-z0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex Shape();
}
