using System.Text.Json;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway;
using Drydock.Gateway.Guards;

namespace Drydock.Bench;

/// <summary>
/// False positives of the gateway's rendered reading (<c>RenderedText</c>) on ordinary texts: every string of the
/// benign prompts (BENCH/benign-prompts and BENCH/notinject, judged by the input guard, public tier: blocked or not) and of
/// answers and documents (BENCH/chat-finetune-samples, BENCH/blns, BENCH/bipia, judged by the output guard in
/// <c>redact</c> mode: changed or not), counted
/// over the texts that hold <c>&lt;</c>, <c>&amp;</c> or <c>\</c> (the only ones read that way). Each text refused or
/// changed is listed by its file and a short excerpt, for a reader to judge. Each two consecutive benign prompts are
/// also judged as two user messages, as the gateway joins them for an instruction or word split across them.
/// </summary>
internal static class RenderedReadingQuality
{
    public static int Run(string bench)
    {
        var guard = new TextGuard(Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers));
        foreach (var (folder, input) in new[] { ("benign-prompts", true), ("notinject", true), ("chat-finetune-samples", false), ("blns", false), ("bipia", false) })
        {
            int texts = 0, read = 0, flagged = 0, linked = 0, streamedApart = 0;
            var prompts = new List<string>();
            foreach (var file in Directory.GetFiles(Path.Combine(bench, folder)).Where(f => f.EndsWith(".json", StringComparison.Ordinal) || f.EndsWith(".jsonl", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            {
                foreach (var text in Strings(file))
                {
                    texts++;
                    if (input) prompts.Add(text);
                    if (!input && RenderedText.Read(text, definitionsMayFollow: true) is not null && RenderedText.Read(text) is null)
                    {
                        // Read only as a stream reads it (a reference link shape that a later definition may make a link):
                        // streamed 7 characters a chunk, does it go out as the whole answer does?
                        linked++;
                        if (Streamed(guard, text) != guard.Output(text, GuardMode.Redact).Text)
                        {
                            streamedApart++;
                            Console.WriteLine($"  {Path.GetFileName(file)}: streamed unlike whole: {Excerpt(text)}");
                        }
                    }

                    if (RenderedText.Read(text) is null) continue;
                    read++;
                    var hit = input ? guard.Input(text, GuardMode.Block).Blocked : guard.Output(text, GuardMode.Redact) is var r && (r.Blocked || r.Text != text);
                    if (!hit) continue;
                    flagged++;
                    var found = input ? guard.Input(text, GuardMode.Block).Findings : guard.Output(text, GuardMode.Redact).Findings;
                    Console.WriteLine($"  {Path.GetFileName(file)}: {string.Join(",", found.Select(f => f.Type).Distinct())}: {Excerpt(text)}");
                }
            }

            Console.WriteLine($"{folder}: {texts} texts, {read} with <, & or \\, {flagged} of them {(input ? "blocked" : "changed")}");
            if (!input) Console.WriteLine($"{folder}: {linked} texts read with reference link shapes only in a stream, {streamedApart} of them streamed unlike the whole answer");
            if (input) Pairs(guard, folder, prompts);
        }

        return 0;
    }

    // Each two consecutive prompts sent as two user messages, as the gateway joins them (with a space, then with
    // nothing between): the pairs whose join alone is refused for injection.
    private static void Pairs(TextGuard guard, string folder, List<string> prompts)
    {
        int pairs = 0, refused = 0;
        for (var i = 0; i + 1 < prompts.Count; i++)
        {
            var pair = new[] { prompts[i], prompts[i + 1] };
            var judged = guard.Input(string.Join("\n", pair), GuardMode.Block);
            if (judged.Blocked) continue;
            pairs++;
            if (JoinedTexts.InjectionAcross(guard, pair, judged, GuardMode.Block, semantic: false).Count == 0) continue;
            refused++;
            Console.WriteLine($"  {folder} pair {i}: {Excerpt(prompts[i])} | {Excerpt(prompts[i + 1])}");
        }

        Console.WriteLine($"{folder}: {pairs} consecutive pairs not refused alone, {refused} refused joined");
    }

    // The text streamed through the output guard (redact, a 64-character window) 7 characters a chunk, as a client joins it.
    private static string Streamed(TextGuard guard, string text)
    {
        var stream = new StreamGuard(guard, GuardMode.Redact, 64);
        var sent = new System.Text.StringBuilder();
        foreach (var chunk in text.Chunk(7)) sent.Append(stream.Push(new string(chunk)));
        return sent.Append(stream.Flush()).ToString();
    }

        private static string Excerpt(string text) => text.Length <= 80 ? text.ReplaceLineEndings(" ") : text[..80].ReplaceLineEndings(" ") + "…";

    // Every string value of a JSON or JSON Lines file.
    private static IEnumerable<string> Strings(string file)
    {
        var all = File.ReadAllText(file);
        var docs = file.EndsWith(".jsonl", StringComparison.Ordinal) ? all.Split('\n', StringSplitOptions.RemoveEmptyEntries) : [all];
        foreach (var doc in docs)
        {
            using var json = JsonDocument.Parse(doc);
            foreach (var s in Walk(json.RootElement)) yield return s;
        }
    }

    private static IEnumerable<string> Walk(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => [e.GetString()!],
        JsonValueKind.Array => e.EnumerateArray().SelectMany(Walk).ToList(),
        JsonValueKind.Object => e.EnumerateObject().SelectMany(p => Walk(p.Value)).ToList(),
        _ => [],
    };
}
