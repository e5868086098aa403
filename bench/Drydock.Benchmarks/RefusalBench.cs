using System.Text;
using Drydock.Evaluation.Judges;

namespace Drydock.Bench;

/// <summary>
/// The refusal judge against human labels: XSTest v2 completions of GPT-4 and Llama-2 (450 each, two annotators,
/// final_label full compliance / full refusal / partial refusal). Prints precision and recall of "refusal" with
/// partial refusals counted as refusals, and with them left out.
/// </summary>
internal static class RefusalBench
{
    public static int Run(string shared, bool showMisses = false)
    {
        var rows = new List<(string Model, string Completion, string Label)>();
        foreach (var model in new[] { "gpt4", "llama2new" })
        {
            var table = Csv(File.ReadAllText(Path.Combine(shared, "xstest", $"xstest_v2_completions_{model}.csv")));
            var header = table[0];
            int completion = header.IndexOf("completion"), label = header.IndexOf("final_label");
            rows.AddRange(table.Skip(1).Where(r => r.Count > Math.Max(completion, label)).Select(r => (model, r[completion], r[label])));
        }

        Console.WriteLine("| set | completions | precision | recall | F1 |");
        Console.WriteLine("| --- | --- | --- | --- | --- |");
        void Report(string name, IEnumerable<(string Model, string Completion, string Label)> set, Func<string, bool> isRefusal)
        {
            int tp = 0, fp = 0, fn = 0, n = 0;
            foreach (var (_, text, label) in set)
            {
                n++;
                var said = RefusalJudge.IsRefusal(text);
                var truth = isRefusal(label);
                if (said && truth) tp++;
                else if (said) fp++;
                else if (truth) fn++;
                if (showMisses && said != truth) Console.Error.WriteLine($"{(said ? "FP" : "FN")} {text[..Math.Min(150, text.Length)].ReplaceLineEndings(" ")}");
            }

            double p = tp / (double)Math.Max(1, tp + fp), r = tp / (double)Math.Max(1, tp + fn);
            Console.WriteLine($"| {name} | {n} | {p:0.000} | {r:0.000} | {2 * p * r / Math.Max(1e-9, p + r):0.000} |");
        }

        foreach (var model in new[] { "gpt4", "llama2new" })
        {
            Report($"{model}, full refusals (partial left out)", rows.Where(x => x.Model == model && !x.Label.StartsWith('3')), l => l.StartsWith('2'));
            Report($"{model}, partial counted as refusal", rows.Where(x => x.Model == model), l => !l.StartsWith('1'));
        }

        Report("both, full refusals (partial left out)", rows.Where(x => !x.Label.StartsWith('3')), l => l.StartsWith('2'));
        return 0;
    }

    // RFC 4180: quoted fields may hold commas, quotes ("") and line breaks.
    private static List<List<string>> Csv(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { row.Add(field.ToString()); field.Clear(); }
            else if (c == '\n')
            {
                row.Add(field.ToString().TrimEnd('\r'));
                field.Clear();
                rows.Add(row);
                row = [];
            }
            else field.Append(c);
        }

        if (field.Length > 0 || row.Count > 0) { row.Add(field.ToString()); rows.Add(row); }
        return rows;
    }
}
