using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Drydock.Detection;
using Drydock.Detection.Analyzers;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace Drydock.Bench.Injection;

/// <summary>
/// Trains the injection classifier with ML.NET (L-BFGS logistic regression over <see cref="InjectionFeatures"/>) on the
/// trainable, not-held-out part of the corpora, picks its threshold on a calibration split, and writes the weights
/// to src/Drydock.Detection/Models/injection-classifier.bin. Deterministic: same corpora, same model bytes.
/// </summary>
internal static class InjectionTraining
{
    // Highest false-positive rate on calibration benign texts that the threshold may allow.
    private const double TargetFalsePositiveRate = 0.01;

    public static int Run(string shared, string output)
    {
        var corpora = InjectionCorpora.Load(shared);
        var train = corpora.Where(t => t.Trainable && !t.HeldOut).ToList();
        Console.Error.WriteLine($"{corpora.Count} texts; training on {train.Count} ({train.Count(t => t.Attack)} attacks), {corpora.Count(t => t.HeldOut)} held out");

        // Calibration: fit on 80% of the training part, choose the threshold on the other 20%.
        var calibration = train.Where(t => SHA256.HashData(Encoding.UTF8.GetBytes("calibration:" + t.Text))[0] % 5 == 0).ToList();
        var fit = train.Except(calibration).ToList();
        var first = Fit(fit);
        var threshold = ChooseThreshold(first, calibration);
        Console.Error.WriteLine($"threshold {threshold:0.000} (calibration: {calibration.Count} texts)");

        var model = Fit(train, threshold);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        var temp = output + ".tmp";
        using (var stream = File.Create(temp))
        {
            model.Write(stream);
        }

        File.Move(temp, output, overwrite: true);
        Console.Error.WriteLine($"{output}: {model.WeightCount} non-zero weights, {new FileInfo(output).Length / 1024} KiB");
        return 0;
    }

    private static float ChooseThreshold(InjectionModel model, List<LabelledText> calibration)
    {
        var benign = calibration.Where(t => !t.Attack).Select(t => Probability(model, t.Text)).OrderDescending().ToList();
        var allowed = (int)Math.Floor(benign.Count * TargetFalsePositiveRate);
        // Just above the (allowed+1)-th highest benign score, and never below one half.
        return (float)Math.Max(0.5, Math.Round(benign[Math.Min(allowed, benign.Count - 1)] + 0.005, 3));
    }

    internal static float Probability(InjectionModel model, string text)
    {
        var indices = new List<int>();
        var meta = new List<int>();
        var value = InjectionFeatures.Extract(text, LexicalTypes(text), indices, meta);
        return model.Probability(indices, value, meta);
    }

    private static readonly Detector s_lexical = Detector.Create(BuiltInRules.All.Where(r => r.Category == Categories.Injection));

    internal static IEnumerable<string> LexicalTypes(string text) => s_lexical.Scan(text).Select(f => f.Type).Distinct();

    private static InjectionModel Fit(List<LabelledText> texts, float threshold = 0.5f)
    {
        var attacks = texts.Count(t => t.Attack);
        var benign = texts.Count - attacks;
        var rows = texts.Select(t => new Row
        {
            Label = t.Attack,
            Features = Vector(t.Text),
            // Each class weighs the same in total.
            Weight = (float)(texts.Count / (2.0 * (t.Attack ? attacks : benign))),
        }).ToList();

        var ml = new MLContext(seed: 7);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, InjectionFeatures.Dimension);
        var data = ml.Data.LoadFromEnumerable(rows, schema);
        var trainer = ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
        {
            LabelColumnName = nameof(Row.Label),
            FeatureColumnName = nameof(Row.Features),
            ExampleWeightColumnName = nameof(Row.Weight),
            L1Regularization = 0.02f,
            L2Regularization = 0.2f,
            OptimizationTolerance = 1e-6f,
            MaximumNumberOfIterations = 500,
            NumberOfThreads = 1,
        });
        var transformer = trainer.Fit(data);
        var linear = transformer.Model.SubModel;
        var calibrator = transformer.Model.Calibrator;
        // ML.NET's Platt calibrator gives p = 1 / (1 + exp(slope·score + offset)); fold it into the weights.
        var scale = -calibrator.Slope;
        var weights = new Dictionary<int, float>();
        var dense = linear.Weights;
        for (var i = 0; i < dense.Count; i++)
        {
            if (dense[i] != 0) weights[i] = (float)(dense[i] * scale);
        }

        var model = new InjectionModel(weights, (float)(linear.Bias * scale - calibrator.Offset), threshold);
        CheckAgainstMlNet(ml, transformer, data, rows, model);
        return model;
    }

    // The shipped scorer must give the probabilities ML.NET gives.
    private static void CheckAgainstMlNet(MLContext ml, ITransformer transformer, IDataView data, List<Row> rows, InjectionModel model)
    {
        var predictions = ml.Data.CreateEnumerable<Prediction>(transformer.Transform(data), reuseRowObject: false).Take(200).ToList();
        for (var i = 0; i < predictions.Count; i++)
        {
            var features = rows[i].Features;
            var score = model.Bias;
            var values = features.GetValues();
            var indices = features.GetIndices();
            for (var k = 0; k < values.Length; k++) score += model.Weight(indices[k]) * values[k];
            var ours = 1 / (1 + Math.Exp(-score));
            if (Math.Abs(ours - predictions[i].Probability) > 1e-3)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"row {i}: shipped scorer {ours:0.0000} vs ML.NET {predictions[i].Probability:0.0000}"));
            }
        }
    }

    private static VBuffer<float> Vector(string text)
    {
        var indices = new List<int>();
        var meta = new List<int>();
        var value = InjectionFeatures.Extract(text, LexicalTypes(text), indices, meta);
        var merged = new SortedDictionary<int, float>();
        foreach (var i in indices) merged[i] = value;
        foreach (var i in meta) merged[i] = merged.GetValueOrDefault(i) + 1f;
        return new VBuffer<float>(InjectionFeatures.Dimension, merged.Count, [.. merged.Values], [.. merged.Keys]);
    }

    private sealed class Row
    {
        public bool Label { get; set; }

        public VBuffer<float> Features { get; set; }

        public float Weight { get; set; }
    }

    private sealed class Prediction
    {
        public float Probability { get; set; }
    }
}
