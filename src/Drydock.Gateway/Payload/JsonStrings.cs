using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Drydock.Gateway.Payload;

/// <summary>One string value of a JSON document, where it is (a path), and how to replace it.</summary>
internal readonly record struct StringLeaf(string Path, JsonNode Parent, string? Property, int Item, string Value)
{
    /// <summary>Replaces the value in its document.</summary>
    public void Set(string value)
    {
        if (Property is not null) ((JsonObject)Parent)[Property] = value;
        else ((JsonArray)Parent)[Item] = value;
    }
}

/// <summary>
/// Every string of a JSON document, for the guards: nothing is read by name except an explicit allow-list of
/// structural fields whose values are not text (ids, object types, roles, finish reasons, model names). Numbers,
/// booleans and nulls carry no text. A path names an array element by its <c>index</c> property when it has one
/// (<c>delta.tool_calls[#0].function.arguments</c>), so the chunks of one stream name the same text alike.
/// </summary>
internal static class JsonStrings
{
    /// <summary>Fields of an answer (body, chunk or error) that are structure, not text.</summary>
    public static readonly FrozenSet<string> AnswerStructure = FrozenSet.ToFrozenSet(
        ["id", "object", "role", "finish_reason", "model", "type", "system_fingerprint", "service_tier", "tool_call_id"], StringComparer.Ordinal);

    /// <summary>Fields of a request that are structure, not text (the model string is checked on its own).</summary>
    public static readonly FrozenSet<string> RequestStructure = FrozenSet.ToFrozenSet(
        ["role", "type", "tool_call_id", "id", "model", "detail", "format", "reasoning_effort", "service_tier"], StringComparer.Ordinal);

    // The field names of the OpenAI request API. Any other name (a provider extension, a property of a tool's parameter
    // schema) is itself text the input guard reads.
    private static readonly FrozenSet<string> s_requestFields = FrozenSet.ToFrozenSet(
    [
        "messages", "role", "content", "name", "tool_calls", "tool_call_id", "function_call", "function", "functions", "arguments",
        "type", "text", "image_url", "url", "detail", "input_audio", "data", "format", "file", "file_id", "file_data", "filename",
        "refusal", "audio", "id", "model", "prompt", "suffix", "stream", "stream_options", "include_usage", "max_tokens",
        "max_completion_tokens", "n", "temperature", "top_p", "stop", "presence_penalty", "frequency_penalty", "logit_bias",
        "logprobs", "top_logprobs", "user", "seed", "tools", "tool_choice", "parallel_tool_calls", "response_format",
        "json_schema", "schema", "strict", "description", "parameters", "properties", "required", "items", "enum", "echo",
        "best_of", "modalities", "reasoning_effort", "metadata", "store", "service_tier", "prediction", "additionalProperties",
        "minimum", "maximum", "default", "title", "$defs", "definitions", "anyOf", "oneOf", "allOf", "$ref", "const", "pattern",
    ], StringComparer.Ordinal);

    /// <summary>The string values under <paramref name="node"/>, in document order, less the fields in <paramref name="structure"/>.</summary>
    public static List<StringLeaf> Collect(JsonNode? node, IReadOnlySet<string> structure)
    {
        var leaves = new List<StringLeaf>();
        Walk(node, "", structure, leaves, null);
        return leaves;
    }

    /// <summary>
    /// Every text of a request: its string values (less structure) and the field names the OpenAI API does not define.
    /// A structural field's string must hold what its structure allows (a role of the API, a short identifier for a
    /// type, detail or format, a short token for an id); <paramref name="invalid"/> names the first one that does not
    /// (the request is refused). Structural strings are read as text as well (a key fits an id's shape), and so is a
    /// structural name with a value that is not a string; <c>model</c> is skipped only at the top (checked on its own).
    /// </summary>
    public static List<string> RequestTexts(JsonObject request, out int count, out string? invalid)
    {
        var leaves = new List<StringLeaf>();
        var names = new List<string>();
        var bad = new List<string>();
        Walk(request, "", RequestStructure, leaves, names, bad);
        count = leaves.Count + names.Count;
        invalid = bad.Count > 0 ? bad[0] : null;
        return [.. leaves.Select(l => l.Value), .. names];
    }

    private static readonly FrozenSet<string> s_roles = FrozenSet.ToFrozenSet(["system", "user", "assistant", "tool", "function", "developer"], StringComparer.Ordinal);

    // Whether a structural request field's string holds only what its structure allows.
    private static bool Structural(string name, string value) => name switch
    {
        "role" => s_roles.Contains(value),
        "id" or "tool_call_id" => value.Length is >= 1 and <= 128 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or ':' or '-'),
        "format" => value.Length is >= 1 and <= 32 && value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-'),
        _ => value.Length is >= 1 and <= 32 && value.All(c => char.IsAsciiLetterLower(c) || c == '_'),
    };

    private static void Walk(JsonNode? node, string path, IReadOnlySet<string> structure, List<StringLeaf> leaves, List<string>? names, List<string>? bad = null)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, value) in o)
                {
                    if (names is not null && !s_requestFields.Contains(name)) names.Add(name);
                    var at = path.Length == 0 ? name : path + "." + name;
                    var isString = value is JsonValue sv && sv.TryGetValue<string>(out _);
                    if (structure.Contains(name))
                    {
                        if (bad is null) continue;
                        if (name == "model" && path.Length == 0) continue;
                        if (isString && !Structural(name, (string)value!)) bad.Add(name);
                    }

                    if (value is JsonValue v && v.TryGetValue<string>(out var s)) leaves.Add(new StringLeaf(at, o, name, 0, s));
                    else Walk(value, at, structure, leaves, names, bad);
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    var item = a[i];
                    var at = path + (item is JsonObject e && e["index"] is JsonValue iv && iv.TryGetValue<int>(out var index) ? $"[#{index.ToString(CultureInfo.InvariantCulture)}]" : $"[{i.ToString(CultureInfo.InvariantCulture)}]");
                    if (item is JsonValue v && v.TryGetValue<string>(out var s)) leaves.Add(new StringLeaf(at, a, null, i, s));
                    else Walk(item, at, structure, leaves, names, bad);
                }

                break;
        }
    }

    /// <summary>
    /// Appends <paramref name="text"/> to the string at <paramref name="path"/> under <paramref name="root"/>, creating what the
    /// path needs (objects, and array elements named by their <c>index</c>).
    /// </summary>
    public static void Append(JsonObject root, string path, string text)
    {
        JsonNode current = root;
        var segments = Segments(path);
        for (var s = 0; s < segments.Count; s++)
        {
            var (name, index, byIndex) = segments[s];
            var last = s == segments.Count - 1;
            if (name is not null)
            {
                var o = (JsonObject)current;
                if (last)
                {
                    o[name] = (o[name] is JsonValue v && v.TryGetValue<string>(out var before) ? before : "") + text;
                    return;
                }

                var next = o[name];
                if (next is null)
                {
                    next = segments[s + 1].Name is null ? new JsonArray() : new JsonObject();
                    o[name] = next;
                }

                current = next;
            }
            else
            {
                var a = (JsonArray)current;
                JsonNode? element = byIndex
                    ? a.OfType<JsonObject>().FirstOrDefault(e => e["index"] is JsonValue v && v.TryGetValue<int>(out var i) && i == index)
                    : index < a.Count ? a[index] : null;
                if (last)
                {
                    // A string element by position (a list of strings).
                    while (a.Count <= index) a.Add((JsonNode?)null);
                    a[index] = (a[index] is JsonValue v && v.TryGetValue<string>(out var before) ? before : "") + text;
                    return;
                }

                if (element is null)
                {
                    element = byIndex ? new JsonObject { ["index"] = index } : new JsonObject();
                    if (byIndex) a.Add(element);
                    else
                    {
                        while (a.Count < index) a.Add((JsonNode)new JsonObject());
                        a.Add(element);
                    }
                }

                current = element;
            }
        }
    }

    private static List<(string? Name, int Index, bool ByIndex)> Segments(string path)
    {
        var result = new List<(string?, int, bool)>();
        var i = 0;
        while (i < path.Length)
        {
            if (path[i] == '.') i++;
            if (path[i] == '[')
            {
                var close = path.IndexOf(']', i);
                var byIndex = path[i + 1] == '#';
                result.Add((null, int.Parse(path.AsSpan(byIndex ? i + 2 : i + 1, close - i - (byIndex ? 2 : 1)), CultureInfo.InvariantCulture), byIndex));
                i = close + 1;
                continue;
            }

            var end = path.IndexOfAny(['.', '['], i);
            if (end < 0) end = path.Length;
            result.Add((path[i..end], 0, false));
            i = end;
        }

        return result;
    }
}
