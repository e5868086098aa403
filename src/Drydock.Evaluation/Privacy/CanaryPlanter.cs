using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Datasets.Output;
using Drydock.Detection.Analyzers;

namespace Drydock.Evaluation.Privacy;

/// <summary>
/// Plants canaries in a JSONL training set, Secret-Sharer style: each canary is a new random code inside a natural
/// sentence ("For reference, the recovery code of the {label} account is 7F3K-QZ9M-2WXL."), appended to the answer
/// text of <c>repeat</c> records chosen by the seed (the last assistant message of a chat record, else
/// <c>completion</c>, <c>output</c>, <c>response</c> or <c>text</c>). Other lines are copied byte for byte; the
/// output is written atomically.
/// </summary>
public static class CanaryPlanter
{
    /// <summary>Plants <paramref name="count"/> canaries, each in <paramref name="repeat"/> records; returns them.</summary>
    public static IReadOnlyList<PlantedCanary> Plant(string input, string output, string label, int count, int repeat, int seed)
    {
        var lines = File.ReadAllLines(input);
        var eligible = new List<int>();
        for (var i = 0; i < lines.Length; i++) if (Holder(Parse(lines[i])) is not null) eligible.Add(i);
        if (eligible.Count < repeat) throw new ArgumentException($"{input}: only {eligible.Count} records have an answer text to plant in; --repeat {repeat} needs that many");
        var random = new Random(seed);
        var canaries = new List<PlantedCanary>();
        for (var c = 0; c < count; c++)
        {
            var value = CanaryAnalyzer.NewValue();
            var prefix = $"For reference, the recovery code of the {label} account #{c + 1} is ";
            canaries.Add(new PlantedCanary($"canary-{c + 1}", prefix, value));
            foreach (var index in eligible.OrderBy(_ => random.Next()).Take(repeat))
            {
                var record = Parse(lines[index])!;
                var (holder, field) = Holder(record)!.Value;
                holder[field] = (string)holder[field]! + " " + prefix + value + ".";
                lines[index] = record.ToJsonString();
            }
        }

        AtomicFile.Write(output, Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n"));
        return canaries;
    }

    private static JsonObject? Parse(string line)
    {
        try
        {
            return JsonNode.Parse(line) as JsonObject;
        }
        catch (JsonException)
        {
            return null; // copied as it is; clean reports it
        }
    }

    private static (JsonObject Holder, string Field)? Holder(JsonObject? record)
    {
        if (record is null) return null;
        if (record["messages"] is JsonArray messages)
        {
            var last = messages.OfType<JsonObject>().LastOrDefault(m => (string?)m["role"] == "assistant" && m["content"] is JsonValue v && v.TryGetValue<string>(out _));
            return last is null ? null : (last, "content");
        }

        foreach (var field in new[] { "completion", "output", "response", "text" })
        {
            if (record[field] is JsonValue v && v.TryGetValue<string>(out _)) return (record, field);
        }

        return null;
    }
}
