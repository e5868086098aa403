using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Drydock.Gateway.Payload;

/// <summary>What a string of a JSON document is: a text value, a structural field's value, a property name, a byte array read as UTF-8, or text parts joined.</summary>
internal enum LeafKind
{
    Text,
    Structure,
    Name,
    Bytes,
    Joined,

    /// <summary>A number outside the structural numeric fields, read as its JSON text (it cannot be redacted in place).</summary>
    Number,
}

/// <summary>One string of a JSON document, where it is (a path), what it is, and how to replace it (text and structural values only).</summary>
internal readonly record struct StringLeaf(string Path, JsonNode Parent, string? Property, int Item, string Value, LeafKind Kind = LeafKind.Text)
{
    /// <summary>Replaces the value in its document.</summary>
    public void Set(string value)
    {
        if (Kind is not (LeafKind.Text or LeafKind.Structure)) throw new InvalidOperationException("only a string value can be replaced");
        if (Property is not null) ((JsonObject)Parent)[Property] = value;
        else ((JsonArray)Parent)[Item] = value;
    }
}

/// <summary>
/// Every string of a JSON document, for the guards: nothing is read by name except an explicit allow-list of
/// structural fields whose values are not text (ids, object types, roles, finish reasons, model names), and those must
/// hold only their structure (<see cref="Fits"/>). Property names are text too, and so is an array of numbers that can
/// be bytes (an answer's <c>bytes</c>, read as UTF-8); other numbers, booleans and nulls carry no text. A path names an
/// array element by its <c>index</c> property when it has one (<c>delta.tool_calls[#0].function.arguments</c>), so the
/// chunks of one stream name the same text alike.
/// </summary>
internal static class JsonStrings
{
    /// <summary>Fields of an answer (body, chunk, error or model list) that are structure, not text.</summary>
    public static readonly FrozenSet<string> AnswerStructure = FrozenSet.ToFrozenSet(
        ["id", "object", "role", "finish_reason", "model", "type", "system_fingerprint", "service_tier", "tool_call_id"], StringComparer.Ordinal);

    /// <summary>
    /// Numeric fields of an answer that are structure (positions, times, counts, probabilities); any other number is read
    /// as its JSON text: a card number sent as a number is found there, and the answer is refused.
    /// </summary>
    public static readonly FrozenSet<string> AnswerNumbers = FrozenSet.ToFrozenSet(
    [
        "index", "created", "logprob", "prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens", "reasoning_tokens",
        "audio_tokens", "text_tokens", "image_tokens", "accepted_prediction_tokens", "rejected_prediction_tokens", "text_offset",
    ], StringComparer.Ordinal);

    /// <summary>
    /// Whether a structural numeric field holds what its structure allows: an index a small whole number (below 2^16),
    /// <c>created</c> a Unix time from 2015 to a day from now, a count or an offset a whole number below 2^31, a log
    /// probability from -10^5 to 0. Any other value (a card number as an <c>index</c>) is read as its JSON text.
    /// </summary>
    public static bool Plausible(string name, JsonValue value)
    {
        if (name == "logprob") return value.TryGetValue<double>(out var p) && p is >= -100_000 and <= 0;
        if (!value.TryGetValue<long>(out var n) || n < 0) return false;
        return name switch
        {
            "index" => n < 65_536,
            "created" => n >= 1_420_070_400 && n <= DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 86_400,
            _ => n < int.MaxValue,
        };
    }

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

    private static readonly FrozenSet<string> s_roles = FrozenSet.ToFrozenSet(["system", "user", "assistant", "tool", "function", "developer"], StringComparer.Ordinal);

    // A byte array read as UTF-8: a byte that is not UTF-8 becomes U+FFFD, which the guard reports as invalid encoding.
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>The text values under <paramref name="node"/>, in document order, less the fields in <paramref name="structure"/>.</summary>
    public static List<StringLeaf> Collect(JsonNode? node, IReadOnlySet<string> structure)
    {
        var leaves = new List<StringLeaf>();
        Walk(node, "", new Reading(structure, null, Bytes: false, Parts: false), leaves);
        return leaves.FindAll(l => l.Kind == LeafKind.Text);
    }

    /// <summary>
    /// The text values of <paramref name="root"/> outside its own <paramref name="skip"/> field (the <c>choices</c> list a
    /// guard reads on its own), by structure: a top-level field whose name only reads like a path into it
    /// (<c>"choices[0]"</c>) is outside, and its strings are collected.
    /// </summary>
    public static List<StringLeaf> CollectOutside(JsonObject root, string skip, IReadOnlySet<string> structure)
    {
        var leaves = new List<StringLeaf>();
        var reading = new Reading(structure, null, Bytes: false, Parts: false);
        foreach (var (name, value) in root)
        {
            if (string.Equals(name, skip, StringComparison.Ordinal)) continue;
            if (value is JsonValue v && v.TryGetValue<string>(out var s)) leaves.Add(new StringLeaf(name, root, name, 0, s, structure.Contains(name) ? LeafKind.Structure : LeafKind.Text));
            else Walk(value, name, reading, leaves);
        }

        return leaves.FindAll(l => l.Kind == LeafKind.Text);
    }

    /// <summary>
    /// Every string of an answer: text values, structural values (which the guard checks with <see cref="Fits"/>), every
    /// property name, and every array of numbers that can be bytes, read as UTF-8.
    /// </summary>
    public static List<StringLeaf> Answer(JsonNode? node)
    {
        var leaves = new List<StringLeaf>();
        Walk(node, "", new Reading(AnswerStructure, FrozenSet<string>.Empty, Bytes: true, Parts: false, Numbers: true), leaves);
        return leaves;
    }

    /// <summary>
    /// Every text of a request: its string values, the field names the OpenAI API does not define, and the joined text of
    /// each list of content parts (a value split across two parts is whole there). A structural field's string must hold
    /// what its structure allows (<see cref="Fits"/>); <paramref name="invalid"/> names the first one that does not (the
    /// request is refused). Structural strings are read as text as well (a key fits an id's shape), and so is a
    /// structural name with a value that is not a string; the top-level <c>model</c> is skipped (checked on its own).
    /// </summary>
    public static List<string> RequestTexts(JsonObject request, out int count, out string? invalid)
    {
        var leaves = new List<StringLeaf>();
        Walk(request, "", new Reading(RequestStructure, s_requestFields, Bytes: false, Parts: true), leaves);
        leaves.RemoveAll(l => l.Kind == LeafKind.Structure && l.Path == "model");
        invalid = leaves.FirstOrDefault(l => l.Kind == LeafKind.Structure && !Fits(l.Property!, l.Value)).Property;
        count = leaves.Count;
        return leaves.ConvertAll(l => l.Value);
    }

    /// <summary>
    /// Whether a structural field's string holds only what its structure allows: a role of the API; an id, model or
    /// fingerprint of <c>[A-Za-z0-9_.:/@+-]{1,256}</c>; a <c>format</c> of <c>[a-z0-9_-]{1,32}</c>; any other (an object
    /// type, a type, a finish reason, a detail) a short identifier of <c>[A-Za-z_.]{1,64}</c>.
    /// </summary>
    public static bool Fits(string name, string value) => name switch
    {
        "role" => s_roles.Contains(value),
        "id" or "tool_call_id" or "model" or "system_fingerprint" => Shape(value, 256, c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or ':' or '/' or '@' or '+' or '-'),
        "format" => Shape(value, 32, c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-'),
        _ => Shape(value, 64, c => char.IsAsciiLetter(c) || c is '_' or '.'),
    };

    private static bool Shape(string value, int most, Func<char, bool> allowed) => value.Length >= 1 && value.Length <= most && value.All(allowed);

    // How a document is read: which fields are structure, which property names are not text (null: none are read),
    // whether arrays of numbers are bytes, whether lists of content parts are also read joined.
    private sealed record Reading(IReadOnlySet<string> Structure, IReadOnlySet<string>? KnownNames, bool Bytes, bool Parts, bool Numbers = false);

    private static void Walk(JsonNode? node, string path, Reading reading, List<StringLeaf> leaves)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, value) in o)
                {
                    var at = path.Length == 0 ? name : path + "." + name;
                    if (reading.KnownNames is not null && !reading.KnownNames.Contains(name)) leaves.Add(new StringLeaf(at, o, name, 0, name, LeafKind.Name));
                    if (value is JsonValue v && v.TryGetValue<string>(out var s)) leaves.Add(new StringLeaf(at, o, name, 0, s, reading.Structure.Contains(name) ? LeafKind.Structure : LeafKind.Text));
                    else if (reading.Numbers && value is JsonValue n && n.GetValueKind() == JsonValueKind.Number)
                    {
                        if (!AnswerNumbers.Contains(name) || !Plausible(name, n)) leaves.Add(new StringLeaf(at, o, name, 0, NumberText(n), LeafKind.Number));
                    }
                    else Walk(value, at, reading, leaves);
                }

                break;
            case JsonArray a:
                var asBytes = reading.Bytes ? AsBytes(a) : null;
                if (asBytes is { } bytes) leaves.Add(new StringLeaf(path, a, null, 0, s_utf8.GetString(bytes), LeafKind.Bytes));
                if (reading.Parts && a.Count > 1 && a.All(e => e is JsonObject p && p["text"] is JsonValue t && t.GetValueKind() == JsonValueKind.String))
                {
                    leaves.Add(new StringLeaf(path, a, null, 0, string.Concat(a.Select(e => (string)e!["text"]!)), LeafKind.Joined));
                }

                for (var i = 0; i < a.Count; i++)
                {
                    var item = a[i];
                    var at = path + (item is JsonObject e && e["index"] is JsonValue iv && iv.TryGetValue<int>(out var index) ? $"[#{index.ToString(CultureInfo.InvariantCulture)}]" : $"[{i.ToString(CultureInfo.InvariantCulture)}]");
                    if (item is JsonValue v && v.TryGetValue<string>(out var s)) leaves.Add(new StringLeaf(at, a, null, i, s));
                    else if (reading.Numbers && asBytes is null && item is JsonValue n && n.GetValueKind() == JsonValueKind.Number) leaves.Add(new StringLeaf(at, a, null, i, NumberText(n), LeafKind.Number));
                    else Walk(item, at, reading, leaves);
                }

                break;
        }
    }

    /// <summary>
    /// A number as the guard reads it: its JSON text without the sign (a card number sent as <c>-4539148803436467</c> is
    /// the card number to whoever drops the sign), and, when written with an exponent, also written out in full
    /// (<c>4.539148803436467e15</c> is <c>4539148803436467</c> to every client that parses it).
    /// </summary>
    public static string NumberText(JsonValue number)
    {
        var text = number.ToJsonString().TrimStart('-');
        if (text.AsSpan().IndexOfAny('e', 'E') < 0) return text;
        return decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? text + " " + value.ToString(CultureInfo.InvariantCulture)
            : text;
    }

    /// <summary>
    /// Whether every string and property name of a parsed document can be read as text: JSON can escape what is not
    /// (a lone surrogate, <c>\ud800</c>), which the reader only refuses when the string is read.
    /// </summary>
    public static bool IsText(JsonNode? node)
    {
        try
        {
            Read(node);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }

        static void Read(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (_, value) in o) Read(value);
                    break;
                case JsonArray a:
                    foreach (var item in a) Read(item);
                    break;
                case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                    _ = v.GetValue<string>();
                    break;
            }
        }
    }

    /// <summary>
    /// The path of the first <c>bytes</c> field (as in log probabilities) that is not null or a list of integers from 0
    /// to 255 written as integers (<c>104.0</c>, <c>1e2</c>, <c>-1</c>, <c>256</c>, a string): a client decodes such a
    /// list as text the guard would not have read, so the answer is refused as unreadable; null when there is none.
    /// </summary>
    public static string? MalformedBytes(JsonNode? node, string path = "")
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, value) in o)
                {
                    var at = path.Length == 0 ? name : path + "." + name;
                    if (name == "bytes" && value is not null && (value is not JsonArray list || (list.Count > 0 && AsBytes(list) is null))) return at;
                    if (MalformedBytes(value, at) is { } found) return found;
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    if (MalformedBytes(a[i], path + "[" + i.ToString(CultureInfo.InvariantCulture) + "]") is { } found) return found;
                }

                break;
        }

        return null;
    }

    // A non-empty array whose every element is an integer from 0 to 255: bytes a client may decode as text.
    private static byte[]? AsBytes(JsonArray a)
    {
        if (a.Count == 0) return null;
        var bytes = new byte[a.Count];
        for (var i = 0; i < a.Count; i++)
        {
            if (a[i] is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue<int>(out var b) || b is < 0 or > 255) return null;
            bytes[i] = (byte)b;
        }

        return bytes;
    }

    /// <summary>
    /// Appends <paramref name="text"/> to the string at <paramref name="path"/> under <paramref name="root"/>, creating what the
    /// path needs (objects, and array elements named by their <c>index</c>). False, with nothing changed above the point
    /// reached, when the path cannot be read or the document has another shape there (a number where the path needs an
    /// object): an upstream's malformed stream, which the caller ends as malformed.
    /// </summary>
    public static bool TryAppend(JsonObject root, string path, string text)
    {
        JsonNode current = root;
        if (Segments(path) is not { Count: > 0 } segments) return false;
        for (var s = 0; s < segments.Count; s++)
        {
            var (name, index, byIndex) = segments[s];
            var last = s == segments.Count - 1;
            if (name is not null)
            {
                if (current is not JsonObject o) return false;
                if (last)
                {
                    var before = o[name];
                    if (before is not null && !(before is JsonValue v && v.TryGetValue<string>(out _))) return false;
                    o[name] = (before is null ? "" : before.GetValue<string>()) + text;
                    return true;
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
                if (current is not JsonArray a) return false;
                JsonNode? element = byIndex
                    ? a.OfType<JsonObject>().FirstOrDefault(e => e["index"] is JsonValue v && v.TryGetValue<int>(out var i) && i == index)
                    : index < a.Count ? a[index] : null;
                if (last)
                {
                    // A string element by position (a list of strings).
                    if (byIndex || (element is not null && !(element is JsonValue v && v.TryGetValue<string>(out _)))) return false;
                    while (a.Count <= index) a.Add((JsonNode?)null);
                    a[index] = (element is null ? "" : element.GetValue<string>()) + text;
                    return true;
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

        return false;
    }

    /// <summary>
    /// Whether every property name under <paramref name="node"/> can stand in a path: none empty or holding <c>.</c>,
    /// <c>[</c> or <c>]</c>, which a path could not tell from its own separators.
    /// </summary>
    public static bool PathNames(JsonNode? node) => node switch
    {
        JsonObject o => o.All(p => p.Key.Length > 0 && p.Key.IndexOfAny(['.', '[', ']']) < 0 && PathNames(p.Value)),
        JsonArray a => a.All(PathNames),
        _ => true,
    };

    // The segments of a path (a name, or an array element by position or by its index); null when it cannot be read.
    private static List<(string? Name, int Index, bool ByIndex)>? Segments(string path)
    {
        var result = new List<(string?, int, bool)>();
        var i = 0;
        while (i < path.Length)
        {
            if (result.Count > 0 && path[i] == '.') i++;
            if (i >= path.Length) return null;
            if (path[i] == '[')
            {
                var close = path.IndexOf(']', i);
                if (close < 0) return null;
                var byIndex = i + 1 < close && path[i + 1] == '#';
                var digits = path.AsSpan(byIndex ? i + 2 : i + 1, close - i - (byIndex ? 2 : 1));
                if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var number)) return null;
                result.Add((null, number, byIndex));
                i = close + 1;
                continue;
            }

            var end = path.IndexOfAny(['.', '[', ']'], i);
            if (end < 0) end = path.Length;
            if (end == i || (end < path.Length && path[end] == ']')) return null;
            result.Add((path[i..end], 0, false));
            i = end;
        }

        return result;
    }
}
