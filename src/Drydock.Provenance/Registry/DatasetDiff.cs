using System.Globalization;
using System.Text.Json;

namespace Drydock.Provenance.Registry;

/// <summary>One difference between two dataset versions (null: absent on that side).</summary>
public sealed record DatasetChange(string Field, string? From, string? To);

/// <summary>Compares two registered datasets field by field and their manifests' inputs, policy and counts.</summary>
public static class DatasetDiff
{
    /// <summary>The differences, in a stable order.</summary>
    public static IReadOnlyList<DatasetChange> Compare(DatasetRecord from, DatasetRecord to)
    {
        var changes = new List<DatasetChange>();
        void Field(string name, string? a, string? b)
        {
            if (!string.Equals(a, b, StringComparison.Ordinal)) changes.Add(new DatasetChange(name, a, b));
        }

        Field("version", from.Version, to.Version);
        Field("records", from.Records.ToString(CultureInfo.InvariantCulture), to.Records.ToString(CultureInfo.InvariantCulture));
        Field("classification", from.Classification, to.Classification);
        Field("project", from.Project, to.Project);
        Field("useCase", from.UseCase, to.UseCase);
        Field("ledger", from.LedgerSha256, to.LedgerSha256);
        var a = Flatten(from.Manifest);
        var b = Flatten(to.Manifest);
        foreach (var key in a.Keys.Union(b.Keys).Where(k => k.StartsWith("inputs.", StringComparison.Ordinal) || k.StartsWith("policy.", StringComparison.Ordinal) || k.StartsWith("counts.", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            Field(key, a.GetValueOrDefault(key), b.GetValueOrDefault(key));
        }

        return changes;
    }

    // inputs by file name (so reordering is not a change), policy fields and every count, as dotted keys.
    private static Dictionary<string, string> Flatten(string manifest)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        using var doc = JsonDocument.Parse(manifest);
        var root = doc.RootElement;
        if (root.TryGetProperty("inputs", out var inputs))
        {
            foreach (var input in inputs.EnumerateArray())
            {
                var file = input.GetProperty("file").GetString();
                result[$"inputs.{file}"] = $"sha256:{input.GetProperty("sha256").GetString()?[..12]} {input.GetProperty("records").GetInt64()} records";
            }
        }

        foreach (var section in new[] { "policy", "counts" })
        {
            if (root.TryGetProperty(section, out var element)) Walk(element, section, result);
        }

        return result;
    }

    private static void Walk(JsonElement element, string prefix, Dictionary<string, string> result)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject()) Walk(property.Value, $"{prefix}.{property.Name}", result);
        }
        else
        {
            result[prefix] = element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText();
        }
    }
}
