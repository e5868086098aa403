using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Drydock.Semantic;

namespace Drydock.Bench.Injection;

/// <summary>
/// Trains the semantic injection head: all-MiniLM-L6-v2 embeddings (one per window, <see cref="SentenceEncoder"/>) of the
/// trainable, not-held-out part of the corpora plus the project's training paraphrases, and a logistic regression fitted
/// on them by Newton's method (class-balanced, L2). Threshold and veto are chosen on a calibration split (20% of the
/// training part, never fitted on), then the head is fitted again on the whole training part. Deterministic: the encoder
/// runs one thread per session, texts are embedded in a fixed order, and the fit is plain double arithmetic in a fixed
/// order, so the same corpora give the same head bytes. Embeddings are cached in bench/out/semantic-embeddings.bin.
/// </summary>
internal static class SemanticTraining
{
    // Benign texts taken from one corpus at most (the large chat corpora would only repeat themselves).
    private const int MaxPerCorpus = 1500;

    // Highest false-positive rate on calibration benign texts that the threshold may allow.
    private const double TargetFalsePositiveRate = 0.005;

    // Share of calibration attacks that the veto may withdraw at most.
    private const double VetoAttackShare = 0.01;

    private const double L2 = 1.0;

    // How much more one training paraphrase weighs than one corpus text.
    private const double ParaphraseWeight = 4.0;

    public const string HeldOutFile = "bench/data/injection-paraphrases-heldout.jsonl";

    public static int WriteParaphrases(string output)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        using var writer = new StreamWriter(output) { NewLine = "\n" };
        var all = Paraphrases.HeldOut().ToList();
        foreach (var (text, attack) in all)
        {
            writer.WriteLine(JsonSerializer.Serialize(new { text, label = attack ? "attack" : "benign" }));
        }

        Console.Error.WriteLine($"{output}: {all.Count(a => a.Attack)} attacks, {all.Count(a => !a.Attack)} hard negatives");
        return 0;
    }

    public static List<(string Text, bool Attack)> ReadHeldOutParaphrases(string path = HeldOutFile) =>
        File.ReadLines(path).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => (e.GetProperty("text").GetString()!, e.GetProperty("label").GetString() == "attack")).ToList();

    public static int Run(string shared, string output)
    {
        var corpora = InjectionCorpora.Load(shared);
        var heldOutParaphrases = File.Exists(HeldOutFile) ? ReadHeldOutParaphrases().Select(p => p.Text).ToHashSet(StringComparer.Ordinal) : [];
        var train = corpora.Where(t => t.Trainable && !t.HeldOut)
            .GroupBy(t => t.Corpus)
            .SelectMany(g => g.First().Attack ? g : g.OrderBy(t => Hash(t.Text), StringComparer.Ordinal).Take(MaxPerCorpus))
            .Concat(Paraphrases.Training().Select(p => new LabelledText("paraphrases", p.Text, p.Attack, true)))
            .Where(t => !heldOutParaphrases.Contains(t.Text))
            .ToList();
        Console.Error.WriteLine($"training on {train.Count} texts ({train.Count(t => t.Attack)} attacks)");
        using var encoder = new SentenceEncoder(EncoderModelFile.Load(), threads: 1);
        var cache = new EmbeddingCache("bench/out/semantic-embeddings.bin");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var embedded = cache.Embed(encoder, train.Select(t => t.Text).ToList());
        cache.Save();
        Console.Error.WriteLine($"embedded in {clock.Elapsed.TotalSeconds:0.0} s");

        var calibration = Enumerable.Range(0, train.Count).Where(i => SHA256.HashData(Encoding.UTF8.GetBytes("calibration:" + train[i].Text))[0] % 5 == 0).ToHashSet();
        var fitIndices = Enumerable.Range(0, train.Count).Where(i => !calibration.Contains(i)).ToList();
        var (w0, b0) = Fit(fitIndices.Select(i => (embedded[i], train[i].Attack, Boost(train[i]))).ToList());
        var first = new InjectionHead(w0, b0, 0.5f, 0f);
        var benignScores = calibration.Where(i => !train[i].Attack).Select(i => Score(first, embedded[i])).OrderDescending().ToList();
        var attackScores = calibration.Where(i => train[i].Attack).Select(i => Score(first, embedded[i])).Order().ToList();
        var allowed = (int)Math.Floor(benignScores.Count * TargetFalsePositiveRate);
        var threshold = (float)Math.Max(0.5, Math.Round(benignScores[Math.Min(allowed, benignScores.Count - 1)] + 0.005, 3));
        var veto = (float)Math.Min(0.2, Math.Round(attackScores[(int)Math.Floor(attackScores.Count * VetoAttackShare)], 3));
        Console.Error.WriteLine($"threshold {threshold:0.000}, veto {veto:0.000} (calibration: {benignScores.Count} benign, {attackScores.Count} attacks)");

        var (w, b) = Fit(Enumerable.Range(0, train.Count).Select(i => (embedded[i], train[i].Attack, Boost(train[i]))).ToList());
        var head = new InjectionHead(w, b, threshold, veto);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        var temp = output + ".tmp";
        using (var stream = File.Create(temp))
        {
            head.Write(stream);
        }

        File.Move(temp, output, overwrite: true);
        Console.Error.WriteLine($"{output}: {new FileInfo(output).Length} bytes, SHA-256 {Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(output)))}");
        return 0;
    }

    // The project's paraphrases are few beside the corpora, and they are what teaches wording without cue words.
    private static double Boost(LabelledText text) => text.Corpus == "paraphrases" ? ParaphraseWeight : 1.0;

    internal static float Score(InjectionHead head, float[][] windows) => windows.Length == 0 ? 0 : windows.Max(e => head.Probability(e));

    internal static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    // Rows: an attack's first and last windows (the attack is in its opening or its close), every window of a benign
    // text (none of it may read as an attack); each text weighs one in total, each class the same.
    private static (float[] Weights, float Bias) Fit(List<(float[][] Windows, bool Attack, double Boost)> texts)
    {
        var rows = new List<(float[] X, double Y, double Weight)>();
        var attacks = texts.Count(t => t.Attack);
        var benign = texts.Count - attacks;
        foreach (var (windows, attack, boost) in texts)
        {
            if (windows.Length == 0) continue;
            var chosen = attack ? (windows.Length == 1 ? windows : [windows[0], windows[^1]]) : windows.Take(8).ToArray();
            var classWeight = boost * texts.Count / (2.0 * (attack ? attacks : benign));
            foreach (var x in chosen) rows.Add((x, attack ? 1 : 0, classWeight / chosen.Length));
        }

        const int d = SentenceEncoder.Dimensions + 1;
        var beta = new double[d];
        for (var iteration = 0; iteration < 12; iteration++)
        {
            var gradient = new double[d];
            var hessian = new double[d, d];
            var x = new double[d];
            foreach (var (features, y, weight) in rows)
            {
                for (var j = 0; j < SentenceEncoder.Dimensions; j++) x[j] = features[j];
                x[d - 1] = 1;
                var z = 0.0;
                for (var j = 0; j < d; j++) z += beta[j] * x[j];
                var p = 1 / (1 + Math.Exp(-z));
                var g = weight * (p - y);
                var h = weight * Math.Max(p * (1 - p), 1e-9);
                for (var j = 0; j < d; j++)
                {
                    gradient[j] += g * x[j];
                    var hx = h * x[j];
                    for (var k = 0; k <= j; k++) hessian[j, k] += hx * x[k];
                }
            }

            for (var j = 0; j < d - 1; j++)
            {
                gradient[j] += L2 * beta[j];
                hessian[j, j] += L2;
            }

            hessian[d - 1, d - 1] += 1e-6;
            var step = SolveCholesky(hessian, gradient, d);
            var change = 0.0;
            for (var j = 0; j < d; j++)
            {
                beta[j] -= step[j];
                change = Math.Max(change, Math.Abs(step[j]));
            }

            Console.Error.WriteLine($"  newton {iteration}: largest step {change:0.000000}");
            if (change < 1e-6) break;
        }

        return (beta.Take(SentenceEncoder.Dimensions).Select(v => (float)v).ToArray(), (float)beta[d - 1]);
    }

    // Solves H s = g for a symmetric positive-definite H given by its lower triangle.
    private static double[] SolveCholesky(double[,] h, double[] g, int n)
    {
        var l = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var sum = h[i, j];
                for (var k = 0; k < j; k++) sum -= l[i, k] * l[j, k];
                l[i, j] = i == j ? Math.Sqrt(Math.Max(sum, 1e-12)) : sum / l[j, j];
            }
        }

        var y = new double[n];
        for (var i = 0; i < n; i++)
        {
            var sum = g[i];
            for (var k = 0; k < i; k++) sum -= l[i, k] * y[k];
            y[i] = sum / l[i, i];
        }

        var s = new double[n];
        for (var i = n - 1; i >= 0; i--)
        {
            var sum = y[i];
            for (var k = i + 1; k < n; k++) sum -= l[k, i] * s[k];
            s[i] = sum / l[i, i];
        }

        return s;
    }
}

/// <summary>Window embeddings by SHA-256 of the text, kept between runs (the encoder is the slow part).</summary>
internal sealed class EmbeddingCache(string path)
{
    private readonly Dictionary<string, float[][]> _entries = Load(path);
    private bool _changed;

    public float[][][] Embed(SentenceEncoder encoder, List<string> texts)
    {
        var result = new float[texts.Count][][];
        var missing = new List<int>();
        for (var i = 0; i < texts.Count; i++)
        {
            if (_entries.TryGetValue(SemanticTraining.Hash(texts[i]), out var windows)) result[i] = windows;
            else missing.Add(i);
        }

        var done = 0;
        Parallel.ForEach(missing, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            result[i] = encoder.Encode(texts[i]).Select(w => w.Embedding).ToArray();
            var n = Interlocked.Increment(ref done);
            if (n % 1000 == 0) Console.Error.WriteLine($"  embedded {n}/{missing.Count}");
        });
        foreach (var i in missing) _entries[SemanticTraining.Hash(texts[i])] = result[i];
        _changed |= missing.Count > 0;
        return result;
    }

    public void Save()
    {
        if (!_changed) return;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var writer = new BinaryWriter(File.Create(path + ".tmp"));
        writer.Write(_entries.Count);
        foreach (var (key, windows) in _entries)
        {
            writer.Write(key);
            writer.Write(windows.Length);
            foreach (var w in windows)
            {
                foreach (var v in w) writer.Write(v);
            }
        }

        writer.Close();
        File.Move(path + ".tmp", path, overwrite: true);
    }

    private static Dictionary<string, float[][]> Load(string path)
    {
        var entries = new Dictionary<string, float[][]>(StringComparer.Ordinal);
        if (!File.Exists(path)) return entries;
        using var reader = new BinaryReader(File.OpenRead(path));
        var count = reader.ReadInt32();
        for (var i = 0; i < count; i++)
        {
            var key = reader.ReadString();
            var windows = new float[reader.ReadInt32()][];
            for (var j = 0; j < windows.Length; j++)
            {
                windows[j] = new float[SentenceEncoder.Dimensions];
                for (var k = 0; k < SentenceEncoder.Dimensions; k++) windows[j][k] = reader.ReadSingle();
            }

            entries[key] = windows;
        }

        return entries;
    }
}
