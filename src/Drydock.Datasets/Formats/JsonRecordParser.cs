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
    private readonly (string Key, JsonTokenType Kind)[] _required;

    // Per-thread working memory (cleared on every call): the path being built and the container stack.
    [ThreadStatic]
    private static StringBuilder? t_path;

    [ThreadStatic]
    private static Frame[]? t_frames;

    [ThreadStatic]
    private static KeySet? t_keys;

    public JsonRecordParser(DatasetFormat format, int maxDepth)
    {
        _format = format;
        _options = new JsonReaderOptions { MaxDepth = maxDepth, CommentHandling = JsonCommentHandling.Disallow };
        _required = format switch
        {
            DatasetFormat.Chat => [("messages", JsonTokenType.StartArray)],
            DatasetFormat.ShareGpt => [("conversations", JsonTokenType.StartArray)],
            DatasetFormat.PromptCompletion => [("prompt", JsonTokenType.String), ("completion", JsonTokenType.String)],
            DatasetFormat.Alpaca => [("instruction", JsonTokenType.String), ("output", JsonTokenType.String)],
            _ => [],
        };
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

        var path = t_path ??= new StringBuilder(128);
        path.Clear();
        var frames = t_frames ??= new Frame[16];
        var keys = t_keys ??= new KeySet();
        keys.Reset();
        var objects = 0;
        string? duplicate = null;
        var depth = 0;
        frames[0] = new Frame(false, 0, objects);
        var fields = new List<TextField>();
        string? id = null;
        Span<JsonTokenType> requiredSeen = stackalloc JsonTokenType[_required.Length];
        requiredSeen.Clear();
        var pendingTopKey = -2; // -2: no top-level key pending; -1: a key we do not track; >= 0: index into _required
        var pendingId = false;

        while (reader.Read())
        {
            var token = reader.TokenType;
            if (token == JsonTokenType.PropertyName)
            {
                path.Length = frames[depth].PathLength;
                AppendName(path, ref reader);
                if (!keys.Add(frames[depth].Object, ref reader))
                {
                    duplicate ??= path.ToString();
                }

                if (depth == 0)
                {
                    pendingTopKey = -1;
                    pendingId = reader.ValueTextEquals("id"u8);
                    for (var k = 0; k < _required.Length; k++)
                    {
                        if (reader.ValueTextEquals(_required[k].Key)) pendingTopKey = k;
                    }
                }

                continue;
            }

            if (token is JsonTokenType.EndObject or JsonTokenType.EndArray)
            {
                depth--;
                continue;
            }

            // A value: inside an array it gets the next index.
            ref var current = ref frames[depth];
            if (current.IsArray)
            {
                current.Index++;
                path.Length = current.PathLength;
                path.Append('[').Append(current.Index).Append(']');
            }

            if (depth == 0 && pendingTopKey != -2)
            {
                if (pendingTopKey >= 0) requiredSeen[pendingTopKey] = token;
                if (pendingId && token is JsonTokenType.String or JsonTokenType.Number)
                {
                    id = token == JsonTokenType.String ? reader.GetString() : Encoding.UTF8.GetString(reader.ValueSpan);
                }

                pendingTopKey = -2;
                pendingId = false;
            }

            switch (token)
            {
                case JsonTokenType.StartObject:
                case JsonTokenType.StartArray:
                    if (++depth == frames.Length)
                    {
                        Array.Resize(ref frames, frames.Length * 2);
                        t_frames = frames;
                    }

                    frames[depth] = new Frame(token == JsonTokenType.StartArray, path.Length, token == JsonTokenType.StartObject ? ++objects : -1);
                    break;
                case JsonTokenType.String:
                    if (reader.ValueSpan.Length > 0)
                    {
                        fields.Add(new TextField(path.ToString(), reader.GetString()!));
                    }

                    break;
            }
        }

        for (var k = 0; k < _required.Length; k++)
        {
            var (key, kind) = _required[k];
            if (requiredSeen[k] == JsonTokenType.None)
            {
                var needs = _required.Length == 1 ? $"a '{key}' {Describe(kind)[3..]}" : string.Join(" and ", _required.Select(r => $"'{r.Key}'"));
                return new ReadResult(null, new MalformedRecord(file, line, $"field '{key}' is missing ({_format.Name()} format needs {needs})"));
            }

            if (requiredSeen[k] != kind)
            {
                return new ReadResult(null, new MalformedRecord(file, line, $"field '{key}' should be {Describe(kind)}, found {Describe(requiredSeen[k])}"));
            }
        }

        if (duplicate is not null)
        {
            // Parsers disagree on which of two values of one key counts (the first, the last, an error): the record
            // means different things to the scanner, the cleaner and the trainer. Every value is still scanned.
            var reason = $"duplicate key '{duplicate}' (JSON parsers disagree on which value counts)";
            repaired = new MalformedRecord(file, line, repaired is null ? reason : $"{repaired.Reason}; {reason}");
        }

        return new ReadResult(new DatasetRecord(file, line, id, fields), repaired);
    }

    // Appends ".name" (or ["name"] for names that are not identifiers) without allocating for plain ASCII names.
    private static void AppendName(StringBuilder path, ref Utf8JsonReader reader)
    {
        var raw = reader.ValueSpan;
        var simple = !reader.ValueIsEscaped && raw.Length > 0 && raw.Length <= 128 && (char.IsAsciiLetter((char)raw[0]) || raw[0] == '_');
        if (simple)
        {
            foreach (var b in raw)
            {
                if (!(char.IsAsciiLetterOrDigit((char)b) || b == '_' || b == '-'))
                {
                    simple = false;
                    break;
                }
            }
        }

        if (simple)
        {
            if (path.Length > 0) path.Append('.');
            foreach (var b in raw) path.Append((char)b);
            return;
        }

        var name = reader.GetString()!;
        path.Append("[\"").Append(name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append("\"]");
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
        var message = e.Message.StartsWith("Expected depth to be zero", StringComparison.Ordinal)
            ? "the record ends before its object or array is closed"
            : e.Message;
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

    private struct Frame(bool isArray, int pathLength, int objectNumber)
    {
        public readonly bool IsArray = isArray;
        public readonly int PathLength = pathLength;
        public readonly int Object = objectNumber;
        public int Index = -1;
    }

    // The key names seen in each object of one record (unescaped UTF-8 in one buffer), so that a duplicate is found
    // in linear time whatever the number of keys; reused per thread, without an allocation per key.
    private sealed class KeySet : IEqualityComparer<(int Object, int Offset, int Length)>
    {
        private readonly HashSet<(int Object, int Offset, int Length)> _seen;
        private byte[] _names = new byte[4096];
        private int _used;

        public KeySet() => _seen = new HashSet<(int, int, int)>(this);

        public void Reset()
        {
            // Clearing costs the set's capacity: after a record with very many keys, start afresh instead.
            if (_seen.Count > 1 << 16) _seen.TrimExcess();
            _seen.Clear();
            _used = 0;
        }

        // False when this object already has the key the reader is on.
        public bool Add(int objectNumber, ref Utf8JsonReader reader)
        {
            var most = reader.ValueSpan.Length;
            if (_names.Length - _used < most) Array.Resize(ref _names, Math.Max(_names.Length * 2, _used + most));
            var length = reader.ValueIsEscaped ? reader.CopyString(_names.AsSpan(_used)) : Copy(reader.ValueSpan);
            if (!_seen.Add((objectNumber, _used, length))) return false;
            _used += length;
            return true;
        }

        public bool Equals((int Object, int Offset, int Length) x, (int Object, int Offset, int Length) y) =>
            x.Object == y.Object && _names.AsSpan(x.Offset, x.Length).SequenceEqual(_names.AsSpan(y.Offset, y.Length));

        public int GetHashCode((int Object, int Offset, int Length) key)
        {
            var hash = default(HashCode);
            hash.Add(key.Object);
            hash.AddBytes(_names.AsSpan(key.Offset, key.Length));
            return hash.ToHashCode();
        }

        private int Copy(ReadOnlySpan<byte> name)
        {
            name.CopyTo(_names.AsSpan(_used));
            return name.Length;
        }
    }
}
