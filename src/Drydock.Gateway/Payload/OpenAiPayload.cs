using System.Text.Json.Nodes;

namespace Drydock.Gateway.Payload;

/// <summary>The shapes of the OpenAI API the guards read and write: the texts of a request and of an answer's choices.</summary>
internal static class OpenAiPayload
{
    /// <summary>The prompt proper (message contents, or the prompt): what the extraction monitor compares across requests.</summary>
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
            // A message or a part of another shape (a string, a list) has no content here: every string of the request
            // is still read by the input guard, and such a request is never a 500.
            var content = (message as JsonObject)?["content"];
            if (content is JsonValue v && v.TryGetValue<string>(out var text)) yield return text;
            if (content is JsonArray parts) foreach (var part in parts) if ((part as JsonObject)?["text"] is JsonValue pv && pv.TryGetValue<string>(out var pt)) yield return pt;
        }
    }

    /// <summary>The texts a user wrote: the contents of the messages whose role is <c>user</c>, or the prompt.</summary>
    public static IEnumerable<string> UserTexts(JsonObject request, bool chat)
    {
        if (!chat) return PromptTexts(request, chat);
        var users = new JsonArray();
        foreach (var message in request["messages"] as JsonArray ?? [])
        {
            if (message is JsonObject m && m["role"] is JsonValue r && r.TryGetValue<string>(out var role) && role == "user") users.Add(m.DeepClone());
        }

        return PromptTexts(new JsonObject { ["messages"] = users }, chat);
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
}
