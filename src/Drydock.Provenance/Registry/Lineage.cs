using System.Text.Json;

namespace Drydock.Provenance.Registry;

/// <summary>One node of a lineage tree: a dataset, model, source, ledger, approval or threat model.</summary>
public sealed record LineageNode(string Kind, string Id, string Label, IReadOnlyDictionary<string, string> Facts, IReadOnlyList<LineageNode> Children);

/// <summary>
/// Lineage: for a dataset, where it came from (sources, parent datasets, ledger), who approved it and which models
/// used it; for a model, which datasets (with their sources and ledgers) made it and who approved it.
/// </summary>
public static class Lineage
{
    /// <summary>The lineage tree of a dataset or model id.</summary>
    public static LineageNode Of(ProvenanceRegistry registry, string id, IReadOnlyList<string> requiredRoles)
    {
        if (id.StartsWith("mv-", StringComparison.Ordinal)) return Model(registry, registry.GetModel(id), requiredRoles);
        if (registry.FindDataset(id) is { } dataset) return Dataset(registry, dataset, requiredRoles, withModels: true, depth: 0);
        if (registry.FindModel(id) is { } model) return Model(registry, model, requiredRoles);
        throw new RegistryException($"no dataset or model '{id}' in the registry");
    }

    /// <summary>Writes a tree as JSON.</summary>
    public static void WriteJson(Utf8JsonWriter w, LineageNode node)
    {
        w.WriteStartObject();
        w.WriteString("kind", node.Kind);
        w.WriteString("id", node.Id);
        w.WriteString("label", node.Label);
        foreach (var (key, value) in node.Facts) w.WriteString(key, value);
        w.WriteStartArray("children");
        foreach (var child in node.Children) WriteJson(w, child);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Renders a tree with box-drawing branches.</summary>
    public static void WriteTree(TextWriter output, LineageNode node, string indent = "", bool last = true, bool root = true)
    {
        var facts = node.Facts.Count == 0 ? "" : "  " + string.Join("  ", node.Facts.Select(f => $"{f.Key}={f.Value}").ToArray());
        output.WriteLine(root ? $"{node.Kind} {node.Id}  {node.Label}{facts}" : $"{indent}{(last ? "└─ " : "├─ ")}{node.Kind} {node.Id}  {node.Label}{facts}");
        var childIndent = root ? "" : indent + (last ? "   " : "│  ");
        for (var i = 0; i < node.Children.Count; i++)
        {
            WriteTree(output, node.Children[i], childIndent, i == node.Children.Count - 1, root: false);
        }
    }

    private static LineageNode Dataset(ProvenanceRegistry registry, DatasetRecord d, IReadOnlyList<string> roles, bool withModels, int depth)
    {
        var children = new List<LineageNode>();
        foreach (var s in registry.Sources(d.Sources))
        {
            children.Add(new LineageNode("source", s.Id, s.Path, new Dictionary<string, string> { ["classification"] = s.Classification, ["trust"] = s.Trust, ["owner"] = s.Owner ?? "-" }, []));
        }

        foreach (var parent in d.Parents)
        {
            // Parents are older than their children, so this terminates; the depth cap guards a hand-edited registry.
            children.Add(depth < 32 && registry.FindDataset(parent) is { } p ? Dataset(registry, p, roles, withModels: false, depth + 1) : new LineageNode("dataset", parent, "(not found)", new Dictionary<string, string>(), []));
        }

        children.Add(new LineageNode("ledger", d.LedgerSha256[..12], "ledger", new Dictionary<string, string> { ["sha256"] = d.LedgerSha256 }, []));
        children.AddRange(Approvals(registry, "dataset", d.Id));
        if (withModels)
        {
            foreach (var m in registry.ModelsUsing(d.Id))
            {
                children.Add(new LineageNode("model", m.Id, m.Name, new Dictionary<string, string> { ["status"] = registry.Status("model", m.Id, roles).State, ["digest"] = m.Digest }, []));
            }
        }

        var status = registry.Status("dataset", d.Id, roles);
        return new LineageNode("dataset", d.Id, d.Name, new Dictionary<string, string>
        {
            ["version"] = "sha256:" + d.Version, ["records"] = d.Records.ToString(System.Globalization.CultureInfo.InvariantCulture), ["classification"] = d.Classification,
            ["project"] = d.Project, ["status"] = status.State, ["registeredBy"] = d.RegisteredBy, ["registeredAt"] = d.RegisteredAt,
        }, children);
    }

    private static LineageNode Model(ProvenanceRegistry registry, ModelRecord m, IReadOnlyList<string> roles)
    {
        var children = new List<LineageNode>();
        foreach (var datasetId in m.Datasets)
        {
            children.Add(Dataset(registry, registry.GetDataset(datasetId), roles, withModels: false, depth: 0));
        }

        children.AddRange(Approvals(registry, "model", m.Id));
        var facts = new Dictionary<string, string>
        {
            ["digest"] = m.Digest, ["status"] = registry.Status("model", m.Id, roles).State, ["registeredBy"] = m.RegisteredBy, ["registeredAt"] = m.RegisteredAt,
        };
        if (m.BaseModel is not null) facts["baseModel"] = m.BaseModel;
        return new LineageNode("model", m.Id, m.Name, facts, children);
    }

    private static IEnumerable<LineageNode> Approvals(ProvenanceRegistry registry, string kind, string id) =>
        registry.Approvals(kind, id).Select(a => new LineageNode("approval", a.Id, $"{a.Decision} by {a.Actor} as {a.Role}",
            a.Comment is { Length: > 0 } c ? new Dictionary<string, string> { ["at"] = a.At, ["comment"] = c } : new Dictionary<string, string> { ["at"] = a.At }, []));
}
