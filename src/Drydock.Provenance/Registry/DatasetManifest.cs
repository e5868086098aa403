using System.Text.Json;

namespace Drydock.Provenance.Registry;

/// <summary>One input of a cleaned dataset, with its declared source.</summary>
public sealed record ManifestSource(string File, string Sha256, long Records, string Path, string Classification, string Trust, string? Owner);

/// <summary>What the registry needs from a <c>drydock clean</c> manifest.</summary>
public sealed record DatasetManifest(
    string Version, string Output, long Records, string LedgerFile, string LedgerSha256, string? HoldoutFile, string? HoldoutSha256,
    string Project, string UseCase, string MaxClassification, IReadOnlyList<ManifestSource> Inputs)
{
    /// <summary>
    /// The highest classification of data the output can hold: the most sensitive source among those within the use
    /// case's limit (clean quarantines a source above the limit whole).
    /// </summary>
    public string Classification =>
        Inputs.Where(i => Classifications.Rank(i.Classification) <= Classifications.Rank(MaxClassification)).MaxBy(i => Classifications.Rank(i.Classification))?.Classification ?? "public";

    /// <summary>Parses manifest JSON; errors name the file and the field.</summary>
    public static DatasetManifest Parse(string path, byte[] json)
    {
        JsonDocument doc;
        if (!System.Text.Unicode.Utf8.IsValid(json)) throw new RegistryException($"{path}: not valid UTF-8");
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new RegistryException($"{path}:{(e.LineNumber ?? 0) + 1}: not JSON: {e.Message}");
        }

        using (doc)
        {
            var root = doc.RootElement;
            string Str(JsonElement e, string name, string field) =>
                e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new RegistryException($"{path}: field {field} is missing or not a string (is this a drydock clean manifest?)");
            long Num(JsonElement e, string name, string field) =>
                e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.TryGetInt64(out var n) ? n : throw new RegistryException($"{path}: field {field} is missing or not an integer");
            JsonElement Obj(JsonElement e, string name, string field) =>
                e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? v : throw new RegistryException($"{path}: field {field} is missing or not an object");

            var version = Str(root, "datasetVersion", "datasetVersion");
            if (!version.StartsWith("sha256:", StringComparison.Ordinal) || version.Length != 71) throw new RegistryException($"{path}: field datasetVersion is not sha256:<64 hex digits>");
            var output = Obj(root, "output", "output");
            var ledger = Obj(root, "ledger", "ledger");
            var policy = Obj(root, "policy", "policy");
            string? holdoutFile = null, holdoutSha = null;
            if (root.TryGetProperty("holdout", out var holdout) && holdout.ValueKind == JsonValueKind.Object)
            {
                holdoutFile = Str(holdout, "file", "holdout.file");
                holdoutSha = Str(holdout, "sha256", "holdout.sha256");
            }

            var inputs = new List<ManifestSource>();
            if (!root.TryGetProperty("inputs", out var inputArray) || inputArray.ValueKind != JsonValueKind.Array) throw new RegistryException($"{path}: field inputs is missing or not an array");
            var i = 0;
            foreach (var input in inputArray.EnumerateArray())
            {
                var field = $"inputs[{i++}]";
                var source = Obj(input, "source", field + ".source");
                var classification = Str(source, "classification", field + ".source.classification");
                if (Classifications.Rank(classification) < 0) throw new RegistryException($"{path}: field {field}.source.classification: unknown classification '{classification}'");
                inputs.Add(new ManifestSource(Str(input, "file", field + ".file"), Str(input, "sha256", field + ".sha256"), Num(input, "records", field + ".records"),
                    Str(source, "path", field + ".source.path"), classification, Str(source, "trust", field + ".source.trust"),
                    source.TryGetProperty("owner", out var owner) && owner.ValueKind == JsonValueKind.String ? owner.GetString() : null));
            }

            var max = Str(policy, "maxClassification", "policy.maxClassification");
            if (Classifications.Rank(max) < 0) throw new RegistryException($"{path}: field policy.maxClassification: unknown classification '{max}'");
            return new DatasetManifest(version["sha256:".Length..], Str(output, "file", "output.file"), Num(output, "records", "output.records"),
                Str(ledger, "file", "ledger.file"), Str(ledger, "sha256", "ledger.sha256"), holdoutFile, holdoutSha,
                Str(policy, "project", "policy.project"), Str(policy, "useCase", "policy.useCase"), max, inputs);
        }
    }
}
