using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Drydock.Datasets.Formats;

/// <summary>
/// Parses one JSON record (a JSONL line or a JSON array element) into text fields with JSON paths.
/// Every string value is a field, so nothing hidden in metadata escapes a scan; the format only decides
/// which keys a record must have.
/// </summary>
internal sealed class JsonRecordParser
{
    private readonly DatasetFormat _format;
    private readonly JsonReaderOptions _options;

    public JsonRecordParser(DatasetFormat format, int maxDepth)
    {
        _format = format;
        _options = new JsonReaderOptions { MaxDepth = maxDepth, CommentHandling = JsonCommentHandling.Disallow };
    }

    public ReadResult Parse(string file, long line, ReadOnlySpan<byte> json)
    {
        try
        {
            return Parse(file, line, json, repaired: null);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or FormatException)
        {
            if (Utf8.IsValid(json))
            {
                return new ReadResult(null, new MalformedRecord(file, line, Describe(e)));
            }

            // Invalid UTF-8: report it, and still read the record with U+FFFD in place of the bad bytes,
            // so that nothing in it goes unscanned.
            var offset = FirstInvalidUtf8(json);
            var problem = new MalformedRecord(file, line, $"invalid UTF-8 at byte {offset + 1} of the line (read with U+FFFD replacements)");
            var repaired = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(json));
            try
            {
                return Parse(file, line, repaired, problem);
            }
            catch (Exception inner) when (inner is JsonException or InvalidOperationException or ArgumentException or FormatException)
            {
                return new ReadResult(null, new MalformedRecord(file, line, $"invalid UTF-8 at byte {offset + 1}, and {Describe(inner)}"));
            }
        }
    }

    private ReadResult Parse(string file, long line, ReadOnlySpan<byte> json, MalformedRecord? repaired)
    {
        var reader = new Utf8JsonReader(json, _options);
        if (!reader.Read())
        {
            return new ReadResult(null, new MalformedRecord(file, line, "empty record"));
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return new ReadResult(null, new MalformedRecord(file, line, $"expected a JSON object, found {Describe(reader.TokenType)}"));
        }

        var fields = new List<TextField>();
        var path = new StringBuilder(64);
        var frames = new Stack<Frame>();
        frames.Push(new Frame(false, 0));
        string? id = null;
        var topLevel = new List<string>(8);
        var topLevelKinds = new Dictionary<string, JsonTokenType>(StringComparer.Ordinal);
        string? pendingTopKey = null;

        while (reader.Read())
        {
            var token = reader.TokenType;
            switch (token)
            {
                case JsonTokenType.PropertyName:
                {
                    var frame = frames.Peek();
                    path.Length = frame.PathLength;
                    var name = reader.GetString()!;
                    AppendName(path, name);
                    if (frames.Count == 1)
                    {
                        topLevel.Add(name);
                        pendingTopKey = name;
                    }

                    continue;
                }

                case JsonTokenType.EndObject:
                case JsonTokenType.EndArray:
                    frames.Pop();
                    continue;
            }

            // A value: inside an array it gets the next index.
            var current = frames.Peek();
            if (current.IsArray)
            {
                current.Index++;
                path.Length = current.PathLength;
                path.Append('[').Append(current.Index).Append(']');
            }

            if (pendingTopKey is not null && frames.Count == 1)
            {
                topLevelKinds[pendingTopKey] = token;
                if (pendingTopKey == "id" && token is JsonTokenType.String or JsonTokenType.Number)
                {
                    id = token == JsonTokenType.String ? reader.GetString() : Encoding.UTF8.GetString(reader.ValueSpan);
                }

                pendingTopKey = null;
            }

            switch (token)
            {
                case JsonTokenType.StartObject:
                    frames.Push(new Frame(false, path.Length));
                    break;
                case JsonTokenType.StartArray:
                    frames.Push(new Frame(true, path.Length));
                    break;
                case JsonTokenType.String:
                    var text = reader.GetString()!;
                    if (text.Length > 0)
                    {
                        fields.Add(new TextField(path.ToString(), text));
                    }

                    break;
            }
        }

        var missing = MissingKeys(topLevelKinds);
        if (missing is not null)
        {
            return new ReadResult(null, new MalformedRecord(file, line, missing));
        }

        return new ReadResult(new DatasetRecord(file, line, id, fields) { Bytes = json.Length + 1 }, repaired);
    }

    private string? MissingKeys(Dictionary<string, JsonTokenType> keys)
    {
        string? Require(string key, JsonTokenType kind, string what) =>
            !keys.TryGetValue(key, out var found) ? $"field '{key}' is missing ({_format.Name()} format needs {what})" :
            found != kind ? $"field '{key}' should be {Describe(kind)}, found {Describe(found)}" : null;

        return _format switch
        {
            DatasetFormat.Chat => Require("messages", JsonTokenType.StartArray, "a 'messages' array"),
            DatasetFormat.ShareGpt => Require("conversations", JsonTokenType.StartArray, "a 'conversations' array"),
            DatasetFormat.PromptCompletion => Require("prompt", JsonTokenType.String, "'prompt' and 'completion'") ??
                                              Require("completion", JsonTokenType.String, "'prompt' and 'completion'"),
            DatasetFormat.Alpaca => Require("instruction", JsonTokenType.String, "'instruction' and 'output'") ??
                                    Require("output", JsonTokenType.String, "'instruction' and 'output'"),
            _ => null,
        };
    }

    private static void AppendName(StringBuilder path, string name)
    {
        var simple = name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') &&
                     name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_' || c == '-');
        if (simple)
        {
            if (path.Length > 0) path.Append('.');
            path.Append(name);
        }
        else
        {
            path.Append("[\"").Append(name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append("\"]");
        }
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    private static string Describe(Exception e)
    {
        var message = e.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut > 0) message = message[..cut];
        if (e is JsonException { BytePositionInLine: { } position })
        {
            return $"invalid JSON at byte {position + 1}: {message.TrimEnd('.', ' ')}";
        }

        return $"invalid JSON: {message.TrimEnd('.', ' ')}";
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        var status = Utf8.ToUtf16(bytes, new char[bytes.Length], out var read, out _, replaceInvalidSequences: false);
        return status == System.Buffers.OperationStatus.InvalidData ? read : 0;
    }

    private sealed class Frame(bool isArray, int pathLength)
    {
        public bool IsArray { get; } = isArray;
        public int PathLength { get; } = pathLength;
        public int Index { get; set; } = -1;
    }
}
