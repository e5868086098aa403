using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Cli.Infrastructure;
using Drydock.Detection.Configuration;

namespace Drydock.Cli.Tests;

/// <summary>
/// docs/schemas/drydock.schema.json and the reader cannot drift: every key the reader accepts is in the schema and
/// every key of the schema is accepted, at every level, with the same shape, choices, bounds and required keys.
/// </summary>
public sealed class ProjectFileSchemaTests
{
    [Fact]
    public void Schema_DeclaresExactlyWhatTheReaderAccepts()
    {
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "drydock.schema.json")))!.AsObject();
        var problems = new List<string>();
        Compare(schema, schema, ProjectFile.Shape, "(file)", problems);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Compare_FindsADrift()
    {
        // The comparison itself can fail: a schema missing one key and declaring another is caught both ways.
        var schema = JsonNode.Parse("""{"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}, "c": {"type": "string"}}}""")!.AsObject();
        var problems = new List<string>();
        Compare(schema, schema, ConfigShape.Map(("a", ConfigShape.Text), ("b", ConfigShape.Boolean)), "(file)", problems);
        Assert.Equal(2, problems.Count);
    }

    private static JsonObject Resolve(JsonObject root, JsonObject node) =>
        node["$ref"] is { } reference ? root["$defs"]![((string)reference!).Split('/')[^1]]!.AsObject() : node;

    private static string Join(string at, string key) => at == "(file)" ? key : $"{at}.{key}";

    private static void Compare(JsonObject root, JsonObject node, ConfigShape shape, string at, List<string> problems)
    {
        node = Resolve(root, node);
        switch (shape)
        {
            case MapShape map:
            {
                if ((string?)node["type"] != "object") problems.Add($"{at}: the reader wants a mapping, the schema's type is {node["type"]}");
                var properties = node["properties"]?.AsObject() ?? [];
                var schemaKeys = properties.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
                foreach (var key in map.Fields.Keys.Except(schemaKeys)) problems.Add($"{Join(at, key)}: the reader accepts it, the schema does not declare it");
                foreach (var key in schemaKeys.Except(map.Fields.Keys)) problems.Add($"{Join(at, key)}: the schema declares it, the reader refuses it");
                foreach (var key in map.Fields.Keys.Intersect(schemaKeys)) Compare(root, properties[key]!.AsObject(), map.Fields[key], Join(at, key), problems);
                var additional = node["additionalProperties"];
                if (map.AnyKey is null)
                {
                    if (additional is null || additional.GetValueKind() != JsonValueKind.False) problems.Add($"{at}: the reader refuses unknown keys, the schema allows them (additionalProperties is not false)");
                }
                else if (additional is JsonObject any)
                {
                    Compare(root, any, map.AnyKey, at + ".*", problems);
                }
                else
                {
                    problems.Add($"{at}: the reader takes keys of the user's choosing, the schema does not");
                }

                var required = node["required"]?.AsArray().Select(r => (string)r!).ToHashSet(StringComparer.Ordinal) ?? [];
                if (!required.SetEquals(map.Required)) problems.Add($"{at}: required keys differ: schema [{string.Join(", ", required)}], reader [{string.Join(", ", map.Required)}]");
                break;
            }

            case ListShape list:
                if ((string?)node["type"] != "array" || node["items"] is not JsonObject items) problems.Add($"{at}: the reader wants a list, the schema does not say array with items");
                else Compare(root, items, list.Item, at + "[]", problems);
                break;
            case ValueShape value:
                CompareValue(node, value, at, problems);
                break;
        }
    }

    private static void CompareValue(JsonObject node, ValueShape value, string at, List<string> problems)
    {
        static string? Text(JsonNode? n) => n is null ? null : n.GetValueKind() == JsonValueKind.String ? (string)n! : n.ToJsonString();
        var choices = node["enum"]?.AsArray().Select(Text).ToHashSet(StringComparer.Ordinal) ?? (node["const"] is { } c ? [Text(c)] : null);
        switch (value.Kind)
        {
            case ValueKind.Choice:
                if (choices is null || !choices.SetEquals(value.Choices)) problems.Add($"{at}: choices differ: schema [{string.Join(", ", choices ?? [])}], reader [{string.Join(", ", value.Choices)}]");
                return;
            case ValueKind.NumberOrChoice:
                var options = node["oneOf"]?.AsArray().Select(o => o!.AsObject()).ToList() ?? [];
                var number = options.FirstOrDefault(o => (string?)o["type"] == "number");
                var words = options.Where(o => o["const"] is not null).Select(o => Text(o["const"])).ToHashSet(StringComparer.Ordinal);
                if (number is null || !words.SetEquals(value.Choices)) problems.Add($"{at}: the reader takes a number or [{string.Join(", ", value.Choices)}], the schema does not say so");
                else CompareBounds(number, value, at, problems);
                return;
        }

        var type = value.Kind switch { ValueKind.Integer => "integer", ValueKind.Number => "number", ValueKind.Boolean => "boolean", _ => "string" };
        if ((string?)node["type"] != type) problems.Add($"{at}: the reader wants {type}, the schema says {node["type"]?.ToJsonString() ?? "nothing"}");
        if (value.Kind is ValueKind.Integer or ValueKind.Number) CompareBounds(node, value, at, problems);
    }

    private static void CompareBounds(JsonObject node, ValueShape value, string at, List<string> problems)
    {
        static double? Number(JsonNode? n) => n is null ? null : double.Parse(n.ToJsonString(), CultureInfo.InvariantCulture);
        var min = Number(node["minimum"]) ?? Number(node["exclusiveMinimum"]);
        var max = Number(node["maximum"]);
        var readerMax = value.Max == int.MaxValue ? null : value.Max;
        if (min != value.Min || max != readerMax) problems.Add($"{at}: bounds differ: schema {min}..{max}, reader {value.Min}..{readerMax}");
    }
}
