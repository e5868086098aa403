using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Drydock.Datasets.Output;

/// <summary>
/// Rewrites string values of a JSON record addressed by the readers' paths (<c>messages[2].content</c>,
/// <c>a["odd key"].b</c>), leaving everything else — key order, numbers, other fields — as it was, and writes the
/// record compactly on one line.
/// </summary>
public static class JsonFieldWriter
{
    private static readonly JsonSerializerOptions s_compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = false };

    /// <summary>The record with each (field path, new text) of <paramref name="changes"/> applied.</summary>
    /// <exception cref="InvalidDataException">A path does not name a value of the record.</exception>
    public static string Rewrite(string json, IReadOnlyList<(string Path, string Text)> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var root = JsonNode.Parse(json) ?? throw new InvalidDataException("empty record");
        foreach (var (path, text) in changes)
        {
            Set(root, path, text);
        }

        return root.ToJsonString(s_compact);
    }

    private static void Set(JsonNode root, string path, string text)
    {
        JsonNode? parent = null;
        object? last = null;
        var node = root;
        var i = 0;
        while (i < path.Length)
        {
            object segment;
            if (path[i] == '.')
            {
                i++;
                continue;
            }

            if (path[i] == '[' && i + 1 < path.Length && path[i + 1] == '"')
            {
                var end = i + 2;
                var name = new System.Text.StringBuilder();
                while (end < path.Length && path[end] != '"')
                {
                    if (path[end] == '\\' && end + 1 < path.Length) end++;
                    name.Append(path[end++]);
                }

                segment = name.ToString();
                i = end + 2; // past "]
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i);
                segment = int.Parse(path.AsSpan(i + 1, end - i - 1), System.Globalization.CultureInfo.InvariantCulture);
                i = end + 1;
            }
            else
            {
                var end = i;
                while (end < path.Length && path[end] is not ('.' or '[')) end++;
                segment = path[i..end];
                i = end;
            }

            parent = node;
            last = segment;
            node = segment is int index ? node!.AsArray()[index] : node!.AsObject()[(string)segment];
            if (node is null) throw new InvalidDataException($"path '{path}' not found in the record");
        }

        if (parent is null || last is null) throw new InvalidDataException($"path '{path}' does not name a value");
        if (last is int position) parent.AsArray()[position] = JsonValue.Create(text);
        else parent.AsObject()[(string)last] = JsonValue.Create(text);
    }
}
