using System.Globalization;
using System.Text.Json.Nodes;

namespace Drydock.Gateway.Payload;

/// <summary>The shapes of the OpenAI API the guards read and write: the texts of a request and of an answer's choices.</summary>
internal static class OpenAiPayload
{
    /// <summary>The texts of a request that the input guard reads.</summary>
    public static IEnumerable<string> PromptTexts(JsonObject request, bool chat)
    {
        if (!chat)
        {
            if (request["prompt"] is JsonValue p && p.TryGetValue<string>(out var text)) yield return text;
            if (request["prompt"] is JsonArray prompts) foreach (var item in prompts) if (item is JsonValue v && v.TryGetValue<string>(out var t)) yield return t;
            yield break;
        }

        foreach (var message in request["messages"] as JsonArray ?? [])
        {
            var content = message?["content"];
            if (content is JsonValue v && v.TryGetValue<string>(out var text)) yield return text;
            if (content is JsonArray parts) foreach (var part in parts) if (part?["text"] is JsonValue pv && pv.TryGetValue<string>(out var pt)) yield return pt;
        }
    }

    /// <summary>
    /// The texts a model writes in one choice (its message, or a stream's delta): the content, a refusal, and the
    /// arguments of tool and function calls, each with a slot name (a stream keeps one hold-back guard per slot).
    /// </summary>
    public static IEnumerable<(string Slot, JsonObject Holder, string Field)> AnswerTexts(JsonObject choice, bool chat)
    {
        if (!chat)
        {
            yield return ("text", choice, "text");
            yield break;
        }

        if ((choice["message"] ?? choice["delta"]) is not JsonObject message) yield break;
        yield return ("content", message, "content");
        if (message["content"] is JsonArray parts)
        {
            // Content given as parts (some servers answer so): each part's text.
            for (var p = 0; p < parts.Count; p++)
            {
                if (parts[p] is JsonObject part) yield return ($"part:{p}", part, "text");
            }
        }

        yield return ("refusal", message, "refusal");
        if (message["tool_calls"] is JsonArray calls)
        {
            var position = 0;
            foreach (var call in calls)
            {
                var index = call?["index"] is JsonValue iv && iv.TryGetValue<int>(out var i) ? i : position;
                position++;
                if (call?["function"] is JsonObject function) yield return ($"tool:{index}", function, "arguments");
            }
        }

        if (message["function_call"] is JsonObject legacy) yield return ("function_call", legacy, "arguments");
    }

    /// <summary>Adds text to one slot of a stream delta (or a completions choice), creating what the slot needs.</summary>
    public static void Place(JsonObject holder, string slot, string text)
    {
        JsonObject target;
        var field = "arguments";
        if (slot.StartsWith("tool:", StringComparison.Ordinal))
        {
            var index = int.Parse(slot[5..], CultureInfo.InvariantCulture);
            var calls = holder["tool_calls"] as JsonArray ?? [];
            holder["tool_calls"] = calls;
            var call = calls.OfType<JsonObject>().FirstOrDefault(c => c["index"] is JsonValue v && v.TryGetValue<int>(out var i) && i == index);
            if (call is null) calls.Add((JsonNode)(call = new JsonObject { ["index"] = index }));
            target = call["function"] as JsonObject ?? [];
            call["function"] = target;
        }
        else if (slot == "function_call")
        {
            target = holder["function_call"] as JsonObject ?? [];
            holder["function_call"] = target;
        }
        else
        {
            target = holder;
            field = slot;
        }

        target[field] = (target[field] is JsonValue v2 && v2.TryGetValue<string>(out var before) ? before : "") + text;
    }

    /// <summary>The chunk as it goes out: with several choices in one upstream chunk, each is sent on its own (one may be blocked).</summary>
    public static JsonObject SingleChoice(JsonObject chunk, JsonObject choice)
    {
        if (chunk["choices"] is JsonArray { Count: 1 }) return chunk;
        var single = new JsonObject();
        foreach (var (name, value) in chunk)
        {
            if (name != "choices") single[name] = value?.DeepClone();
        }

        single["choices"] = new JsonArray(choice.DeepClone());
        return single;
    }

    /// <summary>A chunk of one choice carrying <paramref name="text"/> in <paramref name="slot"/>, shaped like <paramref name="template"/>.</summary>
    public static JsonObject Chunk(JsonObject template, int index, bool chat, string slot, string text, string? finish)
    {
        var chunk = template.DeepClone().AsObject();
        chunk.Remove("usage");
        var choice = new JsonObject { ["index"] = index, ["finish_reason"] = finish };
        var holder = chat ? new JsonObject() : choice;
        if (chat) choice["delta"] = holder;
        Place(holder, slot, text);
        chunk["choices"] = new JsonArray(choice);
        return chunk;
    }
}
