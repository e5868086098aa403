using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

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

    /// <summary>Validates a threat model; returns its project, or throws naming the file, line and field.</summary>
    public static string Validate(string path, string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new ThreatModelException($"{path}:{e.Start.Line}: yaml: {e.InnerException?.Message ?? e.Message}");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root) throw new ThreatModelException($"{path}:1: the threat model must be a mapping");
        foreach (var field in Required)
        {
            YamlNode? node = root;
            foreach (var part in field.Split('.'))
            {
                node = node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(part), out var child) ? child : null;
            }

            var line = node?.Start.Line ?? root.Start.Line;
            var values = node switch
            {
                YamlScalarNode s => [s.Value ?? ""],
                YamlSequenceNode seq => seq.Children.Select(c => (c as YamlScalarNode)?.Value ?? c.ToString()).ToList(),
                YamlMappingNode => ["(mapping)"],
                _ => new List<string>(),
            };
            if (values.Count == 0 || values.All(v => string.IsNullOrWhiteSpace(v))) throw new ThreatModelException($"{path}:{line}: field {field} is missing or empty");
            if (values.Any(v => v.TrimStart().StartsWith("TODO", StringComparison.Ordinal))) throw new ThreatModelException($"{path}:{line}: field {field} still says TODO");
        }

        var sensitivityNode = root.Children[new YamlScalarNode("data-sensitivity")];
        if (sensitivityNode is not YamlScalarNode { Value: { } sensitivity } || Classifications.Rank(sensitivity) < 0)
        {
            throw new ThreatModelException($"{path}:{sensitivityNode.Start.Line}: field data-sensitivity must be one of {string.Join(", ", Classifications.Ordered.ToArray())}");
        }

        var projectNode = root.Children[new YamlScalarNode("project")];
        return projectNode is YamlScalarNode { Value: { } project } ? project : throw new ThreatModelException($"{path}:{projectNode.Start.Line}: field project must be a name");
    }
}

/// <summary>An invalid threat model (exit code 2).</summary>
public sealed class ThreatModelException(string message) : Exception(message);
