using Drydock.Detection.Configuration;

namespace Drydock.Provenance.ThreatModels;

/// <summary>
/// A project's threat model (YAML): what is at stake, who attacks, how sensitive the data is, who uses the model and
/// the damage if it leaks, lies or obeys malicious instructions. Approval of datasets for training needs one.
/// </summary>
public static class ThreatModel
{
    /// <summary>The sections every threat model fills in.</summary>
    public static readonly IReadOnlyList<string> Required = ["project", "assets", "attackers", "data-sensitivity", "users", "damage.leak", "damage.lie", "damage.obey"];

    /// <summary>A starter file with every section, each marked TODO.</summary>
    public static string Template(string project) => $"""
        # Threat model for {project}. Fill in every TODO, then: drydock threat-model approve threat-model.yaml
        project: {project}
        # What the fine-tuned model and its data expose (records, systems, credentials, reputation).
        assets:
          - TODO e.g. customer support history (names, emails, order numbers)
        # Who would attack it and how (curious users, competitors, insiders, poisoned data suppliers).
        attackers:
          - TODO e.g. an API user extracting training records
        # The highest classification in the training data: public, internal, confidential, regulated, highly-sensitive.
        data-sensitivity: TODO
        # Who uses the model, and through what.
        users:
          - TODO e.g. support agents through the helpdesk, behind the gateway
        # The damage if the model...
        damage:
          leak: TODO what a leaked record or secret costs
          lie: TODO what a confident wrong answer costs
          obey: TODO what obeying an instruction hidden in a document or prompt costs
        # How each is contained (filters, tiers, rate limits, review, kill switch).
        mitigations:
          - TODO
        """ + "\n";

    /// <summary>The shape of a threat model file: its sections (anything else is an error naming file, line and field).</summary>
    public static MapShape Shape { get; } = ConfigShape.Map(
        ("project", ConfigShape.Text),
        ("assets", ConfigShape.ListOf(ConfigShape.Text)),
        ("attackers", ConfigShape.ListOf(ConfigShape.Text)),
        ("data-sensitivity", ConfigShape.Text),
        ("users", ConfigShape.ListOf(ConfigShape.Text)),
        ("damage", ConfigShape.Map(("leak", ConfigShape.Text), ("lie", ConfigShape.Text), ("obey", ConfigShape.Text))),
        ("mitigations", ConfigShape.ListOf(ConfigShape.Text)));

    /// <summary>Validates a threat model; returns its project, or throws naming the file, line and field.</summary>
    public static string Validate(string path, string text)
    {
        ConfigNode root;
        try
        {
            root = ConfigReader.Parse(path, text, Shape);
        }
        catch (ConfigFileException e)
        {
            throw new ThreatModelException(e.Message);
        }

        foreach (var field in Required)
        {
            var parts = field.Split('.');
            var parent = parts.Length == 2 ? root[parts[0]] : root;
            var node = parent?[parts[^1]];
            var line = node?.Line ?? parent?.Line ?? 1;
            var values = node is null ? [] : node.Value is { } one ? [one] : node.Items.Select(i => i.Value ?? "").ToList();
            if (values.Count == 0 || values.All(v => string.IsNullOrWhiteSpace(v))) throw new ThreatModelException($"{path}:{line}: field {field} is missing or empty");
            if (values.Any(v => v.TrimStart().StartsWith("TODO", StringComparison.Ordinal))) throw new ThreatModelException($"{path}:{line}: field {field} still says TODO");
        }

        if (Classifications.Rank(root.Text("data-sensitivity")!) < 0)
        {
            throw new ThreatModelException($"{path}:{root["data-sensitivity"]!.Line}: field data-sensitivity must be one of {string.Join(", ", Classifications.Ordered.ToArray())}");
        }

        return root.Text("project")!;
    }
}

/// <summary>An invalid threat model (exit code 2).</summary>
public sealed class ThreatModelException(string message) : Exception(message);
