using System.Text.Json;
using System.Text.Json.Nodes;

namespace Drydock.Gateway.Guards;

/// <summary>
/// A choice's <c>index</c> is structure: a whole number a client reads to tell choices apart. Anything else there (an
/// object, a string, a list) is a shape the guard cannot read: its strings would be copied into the blocked notice's
/// choice or read as choice 0, so an answer or a chunk with one is refused.
/// </summary>
internal static class ChoiceIndexes
{
    /// <summary>True when every choice of <paramref name="choices"/> has no <c>index</c> or a whole number from 0 there.</summary>
    public static bool Readable(JsonArray choices) => choices.All(c => c is not JsonObject o || o["index"] is not { } index || IsIndex(index));

    private static bool IsIndex(JsonNode index) =>
        index is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var n) && n >= 0;
}
