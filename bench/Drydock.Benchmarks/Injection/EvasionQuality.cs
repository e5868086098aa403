using System.Globalization;
using System.Text;
using Drydock.Detection;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Bench.Injection;

/// <summary>
/// The first stage (pattern rules and the n-gram classifier, as <c>drydock scan</c> runs them) on the held-out texts as
/// written and after cheap rewrites an attacker can make without changing what a model reads: a line break or a short
/// line after the text, 4,000 characters of prose before it, capitals, Cyrillic look-alike letters, zero-width
/// characters inside words, and line breaks between words. Recall on the held-out attacks (and on the attacks with an
/// optimised adversarial suffix alone), false positives on the held-out benign texts and on BIPIA code.
/// </summary>
internal static class EvasionQuality
{
    private static readonly System.Buffers.SearchValues<char> s_marks = System.Buffers.SearchValues.Create("{}[]\\$`|<>");

    private const string Filler = "The quarterly report covers revenue, hiring and the office move to the new building downtown. ";

    private static readonly (string Name, Func<string, string> Rewrite)[] s_rewrites =
    [
        ("as written", t => t),
        ("+ line break", t => t + "\n"),
        ("+ \"\\nThanks!\"", t => t + "\nThanks!"),
        ("4,000 characters of prose before", t => string.Concat(Enumerable.Repeat(Filler, 4_000 / Filler.Length + 1)) + t),
        ("capitals", t => t.ToUpperInvariant()),
        ("Cyrillic look-alikes (a, e, o, c, p)", LookAlikes),
        ("zero-width space inside words", ZeroWidth),
        ("line break for every third space", LineBreaks),
    ];

    public static int Run(string shared, string? dump = null)
    {
        if (dump is not null) return Dump(shared, dump);

        var detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
        var heldOut = InjectionCorpora.Load(shared).Where(t => t.HeldOut).ToList();
        var suffixed = heldOut.Where(t => t.Attack && SuffixShapeBefore(t.Text)).ToList();
        var attacks = heldOut.Where(t => t.Attack).ToList();
        var benign = heldOut.Where(t => !t.Attack).ToList();
        var code = benign.Where(t => t.Corpus == "bipia-code").ToList();
        var output = new StringBuilder();
        output.AppendLine(CultureInfo.InvariantCulture,
            $"Held-out texts: {attacks.Count} attacks ({suffixed.Count} with the adversarial-suffix shape as written), {benign.Count} benign ({code.Count} BIPIA code).");
        output.AppendLine();
        output.AppendLine("| rewrite | attacks, recall | suffix attacks, recall | benign, FPR | BIPIA code, FPR |");
        output.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var (name, rewrite) in s_rewrites)
        {
            int Flagged(List<LabelledText> texts)
            {
                var n = 0;
                Parallel.ForEach(texts, t =>
                {
                    if (detector.Scan(rewrite(t.Text)).Any(f => f.Category == Categories.Injection)) Interlocked.Increment(ref n);
                });
                return n;
            }

            output.AppendLine(CultureInfo.InvariantCulture,
                $"| {name} | {Rate(Flagged(attacks), attacks.Count)} | {Rate(Flagged(suffixed), suffixed.Count)} | {Rate(Flagged(benign), benign.Count)} | {Rate(Flagged(code), code.Count)} |");
        }

        Console.Write(output);
        return 0;
    }

    // For every held-out text (public corpora and paraphrases): whether the first stage flags it, and whether a scan with
    // a judge sends it to the judge (a judge that records what it is sent and decides nothing: probability between its
    // veto and threshold). Two builds' files differ only on the texts whose routing changed, so only those need encoding
    // to know how the semantic figures move.
    private static int Dump(string shared, string path)
    {
        var first = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
        var recorder = new Recorder();
        var routed = Detector.Create(BuiltInRules.All, BuiltInRules.AnalyzersWith(recorder));
        var analyzer = (Detection.Analyzers.InjectionAnalyzer)BuiltInRules.Analyzers.First(a => a is Detection.Analyzers.InjectionAnalyzer);
        // The held-out texts, then the training part (heldOut false: the texts a routing line may be chosen on).
        var corpora = InjectionCorpora.Load(shared);
        var texts = corpora.Where(t => t.HeldOut)
            .Concat(SemanticTraining.ReadHeldOutParaphrases().Select(p => new LabelledText(p.Attack ? "paraphrase-attacks" : "paraphrase-negatives", p.Text, p.Attack, false)))
            .Select(t => (Text: t, HeldOut: true))
            .Concat(corpora.Where(t => !t.HeldOut).Concat(SemanticTraining.ReadHeldOutParaphrases(SemanticTraining.TrainingFile)
                .Select(p => new LabelledText(p.Attack ? "training-paraphrase-attacks" : "training-paraphrase-negatives", p.Text, p.Attack, true))).Select(t => (Text: t, HeldOut: false)))
            .ToList();
        var lines = new string[texts.Count];
        Parallel.For(0, texts.Count, i =>
        {
            var (t, heldOut) = texts[i];
            var flagged = first.Scan(t.Text).Any(f => f.Category == Categories.Injection);
            var before = Recorder.Calls;
            routed.Scan(t.Text);
            var sent = Recorder.Calls > before;
            var reading = Detection.Analyzers.InjectionAnalyzer.ReadingOf(t.Text);
            var score = Math.Round(analyzer.Score(reading, []), 4);
            var cue = Detection.Analyzers.InjectionAnalyzer.HasCue(reading);
            lines[i] = System.Text.Json.JsonSerializer.Serialize(new { corpus = t.Corpus, heldOut, attack = t.Attack, flagged, cue, sent, score, text = t.Text });
        });
        File.WriteAllLines(path, lines);
        Console.WriteLine($"{texts.Count} texts: {lines.Length} lines written to {path}");
        return 0;
    }

    private sealed class Recorder : Detection.Analyzers.IInjectionJudge
    {
        [ThreadStatic]
        private static int t_calls;

        // The calls made on this thread so far.
        public static int Calls => t_calls;

        public float Threshold => 0.9f;

        public float Veto => 0.1f;

        public Detection.Analyzers.InjectionJudgement Judge(string text)
        {
            t_calls++;
            return new(0.5f, 0, text.Length);
        }
    }

    private static string LookAlikes(string text)
    {
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = chars[i] switch { 'a' => 'а', 'e' => 'е', 'o' => 'о', 'c' => 'с', 'p' => 'р', var c => c };
        }

        return new string(chars);
    }

    private static string ZeroWidth(string text)
    {
        var b = new StringBuilder(text.Length + text.Length / 4);
        var run = 0;
        foreach (var c in text)
        {
            run = char.IsLetter(c) ? run + 1 : 0;
            b.Append(c);
            if (run == 2) b.Append('\u200B');
        }

        return b.ToString();
    }

    private static string LineBreaks(string text)
    {
        var b = new StringBuilder(text.Length);
        var spaces = 0;
        foreach (var c in text)
        {
            b.Append(c == ' ' && ++spaces % 3 == 0 ? '\n' : c);
        }

        return b.ToString();
    }

    // The shape of an optimised adversarial suffix as InjectionAnalyzer judged it until 2026-12-07 (kept here to pick the
    // held-out attacks that carry one): a plain request, then on the same line, to the end of the text, gibberish.
    private static bool SuffixShapeBefore(string text)
    {
        var span = text.AsSpan();
        var first = span.IndexOfAny(s_marks);
        if (first < 30 || span.Length > 4000) return false;
        var rest = span[first..];
        if (rest.Contains('\n') || rest.Contains("```", StringComparison.Ordinal)) return false;
        if (Detection.Analyzers.InjectionFeatures.CountShapes(rest) is { PunctuationRuns: > 0 } or { InnerCapitals: > 0 }) return true;
        var marks = 0;
        var words = 1;
        foreach (var c in rest)
        {
            if (c == ' ') words++;
            else if (s_marks.Contains(c) || c is '"' or '(' or ')' or '!' or '=' or ';' or '^' or '~' or '#' or '_') marks++;
        }

        return marks >= 6 && marks * 2 >= words;
    }

    private static string Rate(int a, int n) => n == 0 ? "n/a" : string.Create(CultureInfo.InvariantCulture, $"{a} ({(double)a / n:0.000})");
}
