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
    private const double TargetFalsePositiveRate = 0.01;

    // Share of calibration attacks that the veto may withdraw at most.
    private const double VetoAttackShare = 0.01;

    // Highest false-positive rate on the validation hard negatives (the project's paraphrases) that the threshold may allow.
    private const double ParaphraseFalsePositiveRate = 0.03;

    private const double L2 = 1.0;

    // How much more one training paraphrase weighs than one corpus text.
    private const double ParaphraseWeight = 4.0;

    // The MLP head: hidden units, passes over the rows, mini-batch, Adam's step and the L2 weight decay.
    private const int HiddenUnits = 64;
    private const int Epochs = 30;
    private const int BatchSize = 64;
    private const double LearningRate = 0.001;
    private const double WeightDecay = 0.0001;

    public const string HeldOutFile = "bench/data/injection-paraphrases-heldout.jsonl";

    // The project's training paraphrases (attacks and hard negatives written apart from the held-out set).
    public const string TrainingFile = "bench/data/injection-paraphrases-train.jsonl";

    // Window embeddings, by text; the file name follows the windowing (sentence windows of 64 pieces).
    public const string CacheFile = "bench/out/semantic-embeddings-s64.bin";

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
        File.ReadLines(path).Select((l, i) => (Line: l, Number: i + 1)).Where(l => l.Line.Length > 0).Select(l =>
        {
            var e = JsonDocument.Parse(l.Line).RootElement;
            var label = e.GetProperty("label").GetString();
            if (label is not ("attack" or "benign")) throw new InvalidDataException($"{path}:{l.Number}: label must be \"attack\" or \"benign\", not \"{label}\".");
            return (e.GetProperty("text").GetString()!, label == "attack");
        }).ToList();

    public static int Run(string shared, string output)
    {
        var corpora = InjectionCorpora.Load(shared);
        var heldOutParaphrases = File.Exists(HeldOutFile) ? ReadHeldOutParaphrases().Select(p => p.Text).ToHashSet(StringComparer.Ordinal) : [];
        var written = ReadHeldOutParaphrases(TrainingFile);
        var train = corpora.Where(t => t.Trainable && !t.HeldOut)
            .GroupBy(t => t.Corpus)
            .SelectMany(g => g.First().Attack ? g : g.OrderBy(t => Hash(t.Text), StringComparer.Ordinal).Take(MaxPerCorpus))
            .Concat(Paraphrases.Training().Select(p => new LabelledText("paraphrases", p.Text, p.Attack, true)))
            .Concat(written.Select(p => new LabelledText("paraphrases", p.Text, p.Attack, true)))
            .Where(t => !heldOutParaphrases.Contains(t.Text))
            .DistinctBy(t => t.Text)
            .ToList();
        var nearCopies = NearCopyCheck.Find(heldOutParaphrases,
            Paraphrases.Training().Select((p, i) => ($"Paraphrases.Training() text {i + 1}", p.Text))
                .Concat(written.Select((p, i) => ($"{TrainingFile}:{i + 1}", p.Text))), out var highestJaccard);
        if (nearCopies.Count > 0)
        {
            foreach (var n in nearCopies) Console.Error.WriteLine(n);
            Console.Error.WriteLine($"{nearCopies.Count} training paraphrases are near copies of {HeldOutFile}; not training.");
            return 2;
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"near-copy check: no training paraphrase shares five words in a row with a held-out text; highest word-set Jaccard {highestJaccard:0.00}"));
        Console.Error.WriteLine($"training on {train.Count} texts ({train.Count(t => t.Attack)} attacks; {TrainingFile}: {written.Count(p => p.Attack)} attacks, {written.Count(p => !p.Attack)} hard negatives)");
        using var encoder = new SentenceEncoder(EncoderModelFile.Load(), threads: 1);
        var cache = new EmbeddingCache(CacheFile);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var embedded = cache.Embed(encoder, train.Select(t => t.Text).ToList());
        cache.Save();
        Console.Error.WriteLine($"embedded in {clock.Elapsed.TotalSeconds:0.0} s");

        // The validation split (20% of the training part) is never fitted on: it chooses the head and sets the threshold.
        var validation = Enumerable.Range(0, train.Count).Where(i => SHA256.HashData(Encoding.UTF8.GetBytes("calibration:" + train[i].Text))[0] % 5 == 0).ToHashSet();
        var fit = Enumerable.Range(0, train.Count).Where(i => !validation.Contains(i)).Select(i => (embedded[i], train[i].Attack, Boost(train[i]))).ToList();
        var heads = new List<(string Name, InjectionHead Head, double Recall)>();
        foreach (var (name, head) in new[] { ("logistic", FitLogistic(fit)), ($"MLP ({HiddenUnits} hidden units)", FitMlp(fit)) })
        {
            var calibrated = Calibrate(head, train, embedded, validation, out var recall);
            heads.Add((name, calibrated, recall));
        }

        var (chosenName, chosen, _) = heads.MaxBy(h => h.Recall);
        Console.Error.WriteLine($"shipping the {chosenName} head (higher mean validation recall)");
        WriteValidationErrors(chosen, train, embedded, validation);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        var temp = output + ".tmp";
        using (var stream = File.Create(temp))
        {
            chosen.Write(stream);
        }

        File.Move(temp, output, overwrite: true);
        Console.Error.WriteLine($"{output}: {new FileInfo(output).Length} bytes, SHA-256 {Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(output)))}");
        return 0;
    }

    // The threshold is the higher of two: the one that keeps TargetFalsePositiveRate of the validation corpus benign texts
    // at or above it, and the one that keeps ParaphraseFalsePositiveRate of the validation hard negatives (never below
    // 0.5). The veto is the score under which VetoAttackShare of the validation attacks fall (never above 0.2). Returns
    // the head with both, and its mean recall on the validation corpus attacks and paraphrase attacks.
    private static InjectionHead Calibrate(InjectionHead head, List<LabelledText> train, float[][][] embedded, HashSet<int> validation, out double recall)
    {
        var scores = validation.Order().ToDictionary(i => i, i => Score(head, embedded[i]));
        float At(IEnumerable<int> benign, double rate)
        {
            var sorted = benign.Select(i => scores[i]).OrderDescending().ToList();
            return sorted.Count == 0 ? 0 : sorted[Math.Min((int)Math.Floor(sorted.Count * rate), sorted.Count - 1)];
        }

        bool IsParaphrase(int i) => train[i].Corpus == "paraphrases";
        var corpusBenign = scores.Keys.Where(i => !train[i].Attack && !IsParaphrase(i)).ToList();
        var paraphraseBenign = scores.Keys.Where(i => !train[i].Attack && IsParaphrase(i)).ToList();
        var threshold = (float)Math.Max(0.5, Math.Round(Math.Max(At(corpusBenign, TargetFalsePositiveRate), At(paraphraseBenign, ParaphraseFalsePositiveRate)) + 0.0005, 3));
        var attacks = scores.Keys.Where(i => train[i].Attack).Select(i => scores[i]).Order().ToList();
        var veto = (float)Math.Min(0.2, Math.Round(attacks[(int)Math.Floor(attacks.Count * VetoAttackShare)], 3));
        double Rate(Func<int, bool> which, bool attack)
        {
            var chosen = scores.Keys.Where(i => train[i].Attack == attack && which(i)).ToList();
            return chosen.Count == 0 ? 0 : (double)chosen.Count(i => scores[i] >= threshold) / chosen.Count;
        }

        var corpusRecall = Rate(i => !IsParaphrase(i), true);
        var paraphraseRecall = Rate(IsParaphrase, true);
        recall = (corpusRecall + paraphraseRecall) / 2;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {(head.HiddenUnits == 0 ? "logistic" : "MLP")} on validation: threshold {threshold:0.000}, veto {veto:0.000}; corpus recall {corpusRecall:0.000} at FPR {Rate(i => !IsParaphrase(i), false):0.000}; paraphrase recall {paraphraseRecall:0.000} at FPR {Rate(IsParaphrase, false):0.000} ({validation.Count} texts)"));
        foreach (var rate in new[] { 0.01, 0.02 })
        {
            var t = At(corpusBenign, rate);
            var para = scores.Keys.Where(i => train[i].Attack && IsParaphrase(i)).ToList();
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    at {rate:0%} corpus FPR (threshold {t:0.000}): paraphrase recall {(double)para.Count(i => scores[i] >= t) / para.Count:0.000}, hard-negative FPR {(double)paraphraseBenign.Count(i => scores[i] >= t) / paraphraseBenign.Count:0.000}"));
        }

        return head.WithLimits(threshold, veto);
    }

    // The validation paraphrases the shipped head gets wrong (attacks under its threshold, hard negatives at or above
    // it), for deciding what the training file lacks; the held-out set is never listed.
    private static void WriteValidationErrors(InjectionHead head, List<LabelledText> train, float[][][] embedded, HashSet<int> validation)
    {
        const string path = "bench/out/semantic-validation-errors.txt";
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var writer = new StreamWriter(path) { NewLine = "\n" };
        foreach (var i in validation.Order().Where(i => train[i].Corpus == "paraphrases"))
        {
            var score = Score(head, embedded[i]);
            if (train[i].Attack == score >= head.Threshold) continue;
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(train[i].Attack ? "MISS" : "FP")}\t{score:0.000}\t{train[i].Text.ReplaceLineEndings(" ")}"));
        }

        Console.Error.WriteLine($"{path}: validation paraphrases the head gets wrong");
    }

    // The project's paraphrases are few beside the corpora, and they are what teaches wording without cue words.
    private static double Boost(LabelledText text) => text.Corpus == "paraphrases" ? ParaphraseWeight : 1.0;

    internal static float Score(InjectionHead head, float[][] windows) => windows.Length == 0 ? 0 : windows.Max(e => head.Probability(e));

    internal static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    // Rows: an attack's first and last windows (the attack is in its opening or its close; a short attack has all its
    // windows), every window of a benign text (none of it may read as an attack); each text weighs one in total, each
    // class the same.
    private static List<(float[] X, double Y, double Weight)> Rows(List<(float[][] Windows, bool Attack, double Boost)> texts)
    {
        var rows = new List<(float[] X, double Y, double Weight)>();
        var attacks = texts.Count(t => t.Attack);
        var benign = texts.Count - attacks;
        foreach (var (windows, attack, boost) in texts)
        {
            if (windows.Length == 0) continue;
            var chosen = attack ? (windows.Length <= 3 ? windows : [windows[0], windows[^1]]) : windows.Take(12).ToArray();
            var classWeight = boost * texts.Count / (2.0 * (attack ? attacks : benign));
            foreach (var x in chosen) rows.Add((x, attack ? 1 : 0, classWeight / chosen.Length));
        }

        return rows;
    }

    // One hidden layer of rectified units, fitted by Adam on the weighted log loss with L2, in mini-batches taken in an
    // order drawn from a fixed seed; single-threaded, so the same rows give the same head.
    private static InjectionHead FitMlp(List<(float[][] Windows, bool Attack, double Boost)> texts)
    {
        var rows = Rows(texts);
        const int d = SentenceEncoder.Dimensions;
        const int h = HiddenUnits;
        var random = new Random(20261206);
        var w1 = new double[h * d];
        var b1 = new double[h];
        var w2 = new double[h];
        var b2 = 0.0;
        var scale = Math.Sqrt(2.0 / d);
        for (var i = 0; i < w1.Length; i++) w1[i] = Gaussian(random) * scale;
        for (var i = 0; i < h; i++) w2[i] = Gaussian(random) * Math.Sqrt(1.0 / h);
        var parameters = new[] { w1, b1, w2 };
        var m = parameters.Select(p => new double[p.Length]).ToArray();
        var v = parameters.Select(p => new double[p.Length]).ToArray();
        double mb = 0, vb = 0;
        var grads = parameters.Select(p => new double[p.Length]).ToArray();
        var order = Enumerable.Range(0, rows.Count).ToArray();
        var hiddenOut = new double[h];
        var step = 0;
        var meanWeight = rows.Average(r => r.Weight);
        for (var epoch = 0; epoch < Epochs; epoch++)
        {
            random.Shuffle(order);
            var loss = 0.0;
            for (var start = 0; start < order.Length; start += BatchSize)
            {
                foreach (var g in grads) Array.Clear(g);
                var gb2 = 0.0;
                var end = Math.Min(order.Length, start + BatchSize);
                for (var r = start; r < end; r++)
                {
                    var (x, y, weight) = rows[order[r]];
                    var z = b2;
                    for (var j = 0; j < h; j++)
                    {
                        var a = b1[j];
                        var offset = j * d;
                        for (var k = 0; k < d; k++) a += w1[offset + k] * x[k];
                        hiddenOut[j] = a > 0 ? a : 0;
                        z += w2[j] * hiddenOut[j];
                    }

                    var p = 1 / (1 + Math.Exp(-z));
                    loss -= weight * (y > 0 ? Math.Log(Math.Max(p, 1e-12)) : Math.Log(Math.Max(1 - p, 1e-12)));
                    var dz = weight / meanWeight * (p - y) / (end - start);
                    gb2 += dz;
                    for (var j = 0; j < h; j++)
                    {
                        grads[2][j] += dz * hiddenOut[j];
                        if (hiddenOut[j] <= 0) continue;
                        var da = dz * w2[j];
                        grads[1][j] += da;
                        var offset = j * d;
                        for (var k = 0; k < d; k++) grads[0][offset + k] += da * x[k];
                    }
                }

                step++;
                var lr = LearningRate;
                var c1 = 1 - Math.Pow(0.9, step);
                var c2 = 1 - Math.Pow(0.999, step);
                for (var q = 0; q < parameters.Length; q++)
                {
                    var p = parameters[q];
                    for (var i = 0; i < p.Length; i++)
                    {
                        var g = grads[q][i] + (q == 1 ? 0 : WeightDecay * p[i]);
                        m[q][i] = (0.9 * m[q][i]) + (0.1 * g);
                        v[q][i] = (0.999 * v[q][i]) + (0.001 * g * g);
                        p[i] -= lr * (m[q][i] / c1) / (Math.Sqrt(v[q][i] / c2) + 1e-8);
                    }
                }

                mb = (0.9 * mb) + (0.1 * gb2);
                vb = (0.999 * vb) + (0.001 * gb2 * gb2);
                b2 -= lr * (mb / c1) / (Math.Sqrt(vb / c2) + 1e-8);
            }

            if (epoch % 5 == 4 || epoch == Epochs - 1) Console.Error.WriteLine($"  MLP epoch {epoch + 1}: weighted log loss {loss / rows.Sum(r => r.Weight):0.0000}");
        }

        static float[] F(double[] a) => [.. a.Select(x => (float)x)];
        return new InjectionHead(F(w1), F(b1), F(w2), (float)b2, 0.5f, 0f);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    // A logistic regression fitted by Newton's method (class-balanced, L2).
    private static InjectionHead FitLogistic(List<(float[][] Windows, bool Attack, double Boost)> texts)
    {
        var rows = Rows(texts);
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

        return new InjectionHead(beta.Take(SentenceEncoder.Dimensions).Select(v => (float)v).ToArray(), (float)beta[d - 1], 0.5f, 0f);
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
        // Another run (training beside a measurement) may have saved meanwhile: keep its entries too.
        foreach (var (key, windows) in Load(path)) _entries.TryAdd(key, windows);
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        using var writer = new BinaryWriter(File.Create(temp));
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
        File.Move(temp, path, overwrite: true);
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
