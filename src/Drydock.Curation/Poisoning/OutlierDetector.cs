using Drydock.Detection;

namespace Drydock.Curation.Poisoning;

/// <summary>
/// Outliers: records far from the trusted records' distribution. Nine features per record (log length; shares of
/// letters, digits, punctuation, spaces, non-ASCII and capitals; mean word length; bits per character under a
/// character trigram model fitted on trusted text) are turned into robust z-scores (median and MAD of the trusted
/// records); a record whose largest |z| reaches the threshold is an outlier. With no trusted source, every record
/// is the baseline.
/// </summary>
internal static class OutlierDetector
{
    private static readonly string[] s_names = ["length", "letters", "digits", "punctuation", "spaces", "non-ascii", "capitals", "word-length", "bits-per-char"];

    // A floor under each MAD so a feature that barely varies in trusted data does not make every change extreme.
    private static readonly double[] s_floor = [0.15, 0.02, 0.01, 0.01, 0.01, 0.01, 0.01, 0.2, 0.1];

    public sealed record Result(List<PoisoningFinding> Findings, double[] CrossEntropy, bool[] Outlier, double BaselineMean, double BaselineSd);

    public static Result Run(IReadOnlyList<AnalysisRecord> records, PoisoningOptions options)
    {
        var baseline = records.Any(r => r.Trusted) && records.Any(r => !r.Trusted) ? records.Where(r => r.Trusted).ToList() : records.ToList();
        var model = new CharTrigramModel();
        foreach (var r in baseline) model.Fit(r.Text);

        var features = new double[records.Count][];
        for (var i = 0; i < records.Count; i++) features[i] = Features(records[i].Text, model);
        var baseIndexes = baseline.Select(r => r.Index).ToList();
        var medians = new double[s_names.Length];
        var scales = new double[s_names.Length];
        for (var f = 0; f < s_names.Length; f++)
        {
            var values = baseIndexes.Select(i => features[i][f]).Order().ToArray();
            medians[f] = Median(values);
            var deviations = values.Select(v => Math.Abs(v - medians[f])).Order().ToArray();
            scales[f] = Math.Max(1.4826 * Median(deviations), s_floor[f]);
        }

        var findings = new List<PoisoningFinding>();
        var outlier = new bool[records.Count];
        for (var i = 0; i < records.Count; i++)
        {
            var (worst, z) = (0, 0.0);
            for (var f = 0; f < s_names.Length; f++)
            {
                var score = Math.Abs(features[i][f] - medians[f]) / scales[f];
                if (score > z) (worst, z) = (f, score);
            }

            if (z < options.OutlierThreshold) continue;
            outlier[i] = true;
            var r = records[i];
            findings.Add(new PoisoningFinding("outlier", !r.Trusted && z >= 2 * options.OutlierThreshold ? Severity.Medium : Severity.Low, Math.Round(Math.Min(60, 2 * z), 1),
                $"{s_names[worst]} is {TextFeatures.F(z, "0.0")} robust deviations from the trusted records",
                [
                    new("feature", s_names[worst]),
                    new("value", TextFeatures.F(features[i][worst], "0.###")),
                    new("baselineMedian", TextFeatures.F(medians[worst], "0.###")),
                    new("robustZ", TextFeatures.F(z, "0.0")),
                    new("excerpt", TextFeatures.Clip(r.Text, 120)),
                ],
                [TriggerDetector.Ref(r)]));
        }

        var cross = features.Select(f => f[8]).ToArray();
        var baseCross = baseIndexes.Select(i => cross[i]).ToArray();
        var mean = baseCross.Length == 0 ? 0 : baseCross.Average();
        var sd = baseCross.Length < 2 ? 1 : Math.Sqrt(baseCross.Sum(v => (v - mean) * (v - mean)) / (baseCross.Length - 1));
        return new Result(findings, cross, outlier, mean, Math.Max(sd, 1e-6));
    }

    private static double[] Features(string text, CharTrigramModel model)
    {
        int letters = 0, digits = 0, punctuation = 0, spaces = 0, nonAscii = 0, capitals = 0;
        foreach (var c in text)
        {
            if (char.IsLetter(c)) { letters++; if (char.IsUpper(c)) capitals++; }
            else if (char.IsDigit(c)) digits++;
            else if (char.IsWhiteSpace(c)) spaces++;
            else punctuation++;
            if (c > 127) nonAscii++;
        }

        double n = Math.Max(1, text.Length);
        var words = TextFeatures.Tokens(text);
        return
        [
            Math.Log(1 + text.Length), letters / n, digits / n, punctuation / n, spaces / n, nonAscii / n, capitals / Math.Max(1.0, letters),
            words.Count == 0 ? 0 : words.Average(w => w.Length), model.BitsPerChar(text),
        ];
    }

    private static double Median(double[] sorted) => sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

/// <summary>A character trigram model over hashed contexts (2²⁰ buckets), add-k smoothed; text is lower-cased.</summary>
internal sealed class CharTrigramModel
{
    private const int Buckets = 1 << 20;
    private const int MaxChars = 4000;
    private const double K = 0.05;
    private const double Vocabulary = 200;
    private readonly int[] _trigrams = new int[Buckets];
    private readonly int[] _contexts = new int[Buckets];

    public void Fit(string text)
    {
        var (a, b) = ('^', '^');
        foreach (var raw in text.AsSpan(0, Math.Min(text.Length, MaxChars)))
        {
            var c = char.ToLowerInvariant(raw);
            _trigrams[Slot(a, b, c)]++;
            _contexts[Slot(a, b, '\0')]++;
            (a, b) = (b, c);
        }
    }

    public double BitsPerChar(string text)
    {
        var (a, b) = ('^', '^');
        double bits = 0;
        var n = 0;
        foreach (var raw in text.AsSpan(0, Math.Min(text.Length, MaxChars)))
        {
            var c = char.ToLowerInvariant(raw);
            bits -= Math.Log2((_trigrams[Slot(a, b, c)] + K) / (_contexts[Slot(a, b, '\0')] + (K * Vocabulary)));
            (a, b) = (b, c);
            n++;
        }

        return n == 0 ? 0 : bits / n;
    }

    private static int Slot(char a, char b, char c) => (int)((((uint)a * 0x9E3779B1u) ^ ((uint)b * 0x85EBCA77u) ^ ((uint)c * 0xC2B2AE3Du)) * 0x27D4EB2Fu >> 12);
}
