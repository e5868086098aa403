using System.Text.Json;

namespace Drydock.Cli.Reporting;

/// <summary>Fields that JSON reports of several verbs write the same way.</summary>
internal static class JsonFields
{
    /// <summary>A named array of strings.</summary>
    public static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
