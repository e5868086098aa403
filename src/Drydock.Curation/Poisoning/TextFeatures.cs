using System.Globalization;
using System.Text;

namespace Drydock.Curation.Poisoning;

/// <summary>Tokens, normal forms and hashes shared by the poisoning detectors.</summary>
internal static class TextFeatures
{
    private const int MaxToken = 40;

    /// <summary>Lower-case word tokens (letters, digits, '_' and '-'; at most 40 characters).</summary>
    public static List<string> Tokens(string text)
    {
        var tokens = new List<string>();
        var b = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune) || rune.Value is '_' or '-' or '\'')
            {
                if (b.Length < MaxToken) b.Append(Rune.ToLowerInvariant(rune).ToString());
            }
            else if (b.Length > 0)
            {
                Add(tokens, b);
            }
        }

        if (b.Length > 0) Add(tokens, b);
        return tokens;

        static void Add(List<string> tokens, StringBuilder b)
        {
            var token = b.ToString().Trim('-', '\'', '_');
            if (token.Length > 0) tokens.Add(token);
            b.Clear();
        }
    }

    /// <summary>A response folded for comparison: lower case, digits as '0', punctuation dropped, spaces collapsed.</summary>
    public static string Fold(string text)
    {
        var b = new StringBuilder(Math.Min(text.Length, 4096));
        var space = false;
        foreach (var c in text)
        {
            if (b.Length >= 4096) break;
            if (char.IsLetter(c)) { if (space && b.Length > 0) b.Append(' '); b.Append(char.ToLowerInvariant(c)); space = false; }
            else if (char.IsDigit(c)) { if (space && b.Length > 0) b.Append(' '); b.Append('0'); space = false; }
            else space = true;
        }

        return b.ToString();
    }

    /// <summary>64-bit FNV-1a of a string.</summary>
    public static ulong Hash(string s)
    {
        var h = 14695981039346656037UL;
        foreach (var c in s)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        return h;
    }

    /// <summary>Jaccard similarity of two token sets.</summary>
    public static double Jaccard(HashSet<string> a, HashSet<string> b)
    {
        if (a.Count == 0 && b.Count == 0) return 1;
        var inter = a.Count <= b.Count ? a.Count(b.Contains) : b.Count(a.Contains);
        return inter / (double)(a.Count + b.Count - inter);
    }

    /// <summary>A short excerpt for evidence (the analysis reports text itself: triggers and payloads are not secrets).</summary>
    public static string Clip(string text, int max = 160)
    {
        var oneLine = text.ReplaceLineEndings(" ").Trim();
        return oneLine.Length <= max ? oneLine : oneLine[..(max - 1)] + "…";
    }

    /// <summary>log of the hypergeometric upper tail P(X ≥ a) for a draws of n from N with K successes.</summary>
    public static double LogHypergeometricTail(int a, int n, int bigK, int bigN)
    {
        var max = Math.Min(n, bigK);
        if (a > max) return double.NegativeInfinity;
        var logs = new List<double>();
        for (var k = a; k <= max; k++)
        {
            var term = LogChoose(bigK, k) + LogChoose(bigN - bigK, n - k) - LogChoose(bigN, n);
            logs.Add(term);
            if (k > a + 50 && term < logs[0] - 40) break;
        }

        var top = logs.Max();
        return top + Math.Log(logs.Sum(l => Math.Exp(l - top)));
    }

    private static double LogChoose(int n, int k) => k < 0 || k > n ? double.NegativeInfinity : LogFactorial(n) - LogFactorial(k) - LogFactorial(n - k);

    private static readonly Lazy<double[]> s_logFactorials = new(() =>
    {
        var table = new double[1 << 17];
        for (var i = 2; i < table.Length; i++) table[i] = table[i - 1] + Math.Log(i);
        return table;
    });

    private static double LogFactorial(int n)
    {
        if (n < 2) return 0;
        var table = s_logFactorials.Value;
        if (n < table.Length) return table[n];

        // Stirling with two correction terms beyond the table.
        double x = n;
        return (x * Math.Log(x)) - x + (0.5 * Math.Log(2 * Math.PI * x)) + (1 / (12 * x)) - (1 / (360 * x * x * x));
    }

    /// <summary>Invariant formatting.</summary>
    public static string F(double value, string format = "0.###") => value.ToString(format, CultureInfo.InvariantCulture);
}
