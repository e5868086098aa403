using System.Globalization;
using Drydock.Detection;
using Drydock.Detection.Rules;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Drydock.Curation.Policy;

/// <summary>
/// Reads the policy part of <c>drydock.yaml</c>. Every key is optional; an unknown key or a bad value is an error
/// naming file, line and field (<see cref="RuleFileException"/>), so a typo never silently weakens a policy.
/// </summary>
public static class PolicyLoader
{
    private static readonly HashSet<string> s_topLevel = new(StringComparer.Ordinal)
    {
        "version", "project", "registry", "approvals", "untrusted", "poisoning", "gateway", "gate", "training", "use-case", "sources", "actions", "types", "redaction", "thresholds", "normalization", "dedup", "internal-domains", "rules",
    };

    /// <summary>Loads <paramref name="path"/>, or returns the defaults when it is null.</summary>
    public static CleaningPolicy Load(string? path)
    {
        if (path is null) return new CleaningPolicy();
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RuleFileException(path, 0, "file", $"cannot read: {e.Message}");
        }

        return Parse(path, text);
    }

    /// <summary>Parses policy YAML; <paramref name="path"/> is used in messages.</summary>
    public static CleaningPolicy Parse(string path, string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new RuleFileException(path, e.Start.Line, "yaml", e.InnerException?.Message ?? e.Message);
        }

        var policy = new CleaningPolicy();
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            return policy;
        }

        foreach (var (keyNode, _) in root.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? "";
            if (!s_topLevel.Contains(key)) throw new RuleFileException(path, keyNode.Start.Line, key, $"unknown setting; known: {string.Join(", ", s_topLevel.Order(StringComparer.Ordinal))}");
        }

        var reader = new Reader(path);
        policy = policy with
        {
            Project = reader.Scalar(root, "project", "project") ?? policy.Project,
            Registry = reader.Scalar(root, "registry", "registry"),
        };
        if (reader.Map(root, "approvals") is { } approvals && reader.Sequence(approvals, "required-roles") is { } roles)
        {
            var list = new List<string>();
            foreach (var node in roles)
            {
                var role = (node as YamlScalarNode)?.Value ?? "";
                if (!CleaningPolicy.Roles.Contains(role)) throw new RuleFileException(path, node.Start.Line, "approvals.required-roles", $"unknown role '{role}'; known: {string.Join(", ", CleaningPolicy.Roles.ToArray())}");
                list.Add(role);
            }

            policy = policy with { RequiredApprovalRoles = list };
        }

        if (reader.Map(root, "use-case") is { } useCase)
        {
            policy = policy with
            {
                UseCase = reader.Scalar(useCase, "name", "use-case.name") ?? policy.UseCase,
                MaxClassification = reader.Enum(useCase, "max-classification", "use-case.max-classification", ParseClassification) ?? policy.MaxClassification,
            };
        }

        if (reader.Sequence(root, "sources") is { } sources)
        {
            var list = new List<SourcePolicy>();
            var i = 0;
            foreach (var node in sources)
            {
                var field = $"sources[{i++}]";
                if (node is not YamlMappingNode source) throw new RuleFileException(path, node.Start.Line, field, "must be a mapping with path, classification, trust and owner");
                var sourcePath = reader.Scalar(source, "path", $"{field}.path") ?? throw new RuleFileException(path, source.Start.Line, $"{field}.path", "is required");
                list.Add(new SourcePolicy(sourcePath,
                    reader.Enum(source, "classification", $"{field}.classification", ParseClassification) ?? Classification.Internal,
                    reader.Enum<bool>(source, "trust", $"{field}.trust", t => t switch { "trusted" => true, "untrusted" => false, _ => (bool?)null }) ?? true,
                    reader.Scalar(source, "owner", $"{field}.owner")));
            }

            policy = policy with { Sources = list };
        }

        if (reader.Map(root, "actions") is { } actions)
        {
            var map = new Dictionary<string, CleanAction>(policy.CategoryActions, StringComparer.Ordinal);
            foreach (var (keyNode, valueNode) in actions.Children)
            {
                var category = ((YamlScalarNode)keyNode).Value ?? "";
                if (!Categories.IsKnown(category)) throw new RuleFileException(path, keyNode.Start.Line, $"actions.{category}", $"unknown category; known: {string.Join(", ", Categories.All)}");
                map[category] = reader.ActionValue(valueNode, $"actions.{category}");
            }

            policy = policy with { CategoryActions = map };
        }

        if (reader.Map(root, "types") is { } types)
        {
            var typeActions = new Dictionary<string, CleanAction>(StringComparer.Ordinal);
            var typeRedaction = new Dictionary<string, RedactionMode>(policy.TypeRedaction, StringComparer.Ordinal);
            foreach (var (keyNode, valueNode) in types.Children)
            {
                var type = ((YamlScalarNode)keyNode).Value ?? "";
                if (valueNode is not YamlMappingNode settings) throw new RuleFileException(path, valueNode.Start.Line, $"types.{type}", "must be a mapping with action and/or redaction");
                if (settings.Children.ContainsKey(new YamlScalarNode("action"))) typeActions[type] = reader.ActionValue(settings.Children[new YamlScalarNode("action")], $"types.{type}.action");
                if (reader.Enum(settings, "redaction", $"types.{type}.redaction", ParseRedaction) is { } mode) typeRedaction[type] = mode;
            }

            policy = policy with { TypeActions = typeActions, TypeRedaction = typeRedaction };
        }

        if (reader.Map(root, "redaction") is { } redaction)
        {
            policy = policy with { DefaultRedaction = reader.Enum(redaction, "default", "redaction.default", ParseRedaction) ?? policy.DefaultRedaction };
        }

        if (reader.Map(root, "untrusted") is { } untrusted && untrusted.Children.TryGetValue(new YamlScalarNode("action"), out var untrustedAction))
        {
            policy = policy with { UntrustedAction = reader.ActionValue(untrustedAction, "untrusted.action") };
        }

        if (reader.Map(root, "poisoning") is { } poisoning)
        {
            policy = policy with
            {
                PoisoningAnalyze = reader.Bool(poisoning, "analyze", "poisoning.analyze") ?? policy.PoisoningAnalyze,
                PoisoningMinSeverity = reader.Enum<Severity>(poisoning, "min-severity", "poisoning.min-severity", s => SeverityNames.TryParse(s, out var v) ? v : null) ?? policy.PoisoningMinSeverity,
                PoisoningAction = poisoning.Children.TryGetValue(new YamlScalarNode("action"), out var a) ? reader.ActionValue(a, "poisoning.action") : policy.PoisoningAction,
            };
            if (policy.PoisoningAction == CleanAction.Redact) throw new RuleFileException(path, a!.Start.Line, "poisoning.action", "a poisoned record cannot be redacted: use quarantine, drop or allow");
        }

        if (reader.Map(root, "thresholds") is { } thresholds)
        {
            policy = policy with
            {
                MinSeverity = reader.Enum<Severity>(thresholds, "min-severity", "thresholds.min-severity", s => SeverityNames.TryParse(s, out var v) ? v : null) ?? policy.MinSeverity,
                MinConfidence = reader.Number(thresholds, "min-confidence", "thresholds.min-confidence") ?? policy.MinConfidence,
                UntrustedMinConfidence = reader.Number(thresholds, "untrusted-min-confidence", "thresholds.untrusted-min-confidence") ?? policy.UntrustedMinConfidence,
            };
        }

        if (reader.Map(root, "normalization") is { } normalization)
        {
            policy = policy with
            {
                Unicode = reader.Enum(normalization, "unicode", "normalization.unicode", u => u switch { "nfkc" => UnicodeForm.Nfkc, "nfc" => UnicodeForm.Nfc, "none" => UnicodeForm.None, _ => (UnicodeForm?)null }) ?? policy.Unicode,
                StripInvisible = reader.Bool(normalization, "strip-invisible", "normalization.strip-invisible") ?? policy.StripInvisible,
                StripHiddenMarkup = reader.Bool(normalization, "strip-hidden-markup", "normalization.strip-hidden-markup") ?? policy.StripHiddenMarkup,
                TidyWhitespace = reader.Bool(normalization, "tidy-whitespace", "normalization.tidy-whitespace") ?? policy.TidyWhitespace,
            };
        }

        if (reader.Map(root, "dedup") is { } dedup)
        {
            policy = policy with
            {
                ExactDedup = reader.Bool(dedup, "exact", "dedup.exact") ?? policy.ExactDedup,
                NearDedup = reader.Bool(dedup, "near", "dedup.near") ?? policy.NearDedup,
                NearDuplicateThreshold = reader.Number(dedup, "threshold", "dedup.threshold") ?? policy.NearDuplicateThreshold,
            };
        }

        if (reader.Sequence(root, "internal-domains") is { } domains)
        {
            policy = policy with { InternalDomains = [.. domains.Select(d => (d as YamlScalarNode)?.Value ?? "")] };
        }

        return policy;
    }

    private static Classification? ParseClassification(string value) => value switch
    {
        "public" => Classification.Public,
        "internal" => Classification.Internal,
        "confidential" => Classification.Confidential,
        "regulated" => Classification.Regulated,
        "highly-sensitive" => Classification.HighlySensitive,
        _ => null,
    };

    private static RedactionMode? ParseRedaction(string value) => value switch
    {
        "placeholder" => RedactionMode.Placeholder,
        "pseudonym" => RedactionMode.Pseudonym,
        "fake" => RedactionMode.Fake,
        _ => null,
    };

    /// <summary>The report name of a classification.</summary>
    public static string Name(this Classification classification) => classification switch
    {
        Classification.Public => "public",
        Classification.Internal => "internal",
        Classification.Confidential => "confidential",
        Classification.Regulated => "regulated",
        _ => "highly-sensitive",
    };

    /// <summary>The report name of an action.</summary>
    public static string Name(this CleanAction action) => action.ToString().ToLowerInvariant();

    private sealed class Reader(string path)
    {
        public YamlMappingNode? Map(YamlMappingNode parent, string key) => Child(parent, key) switch
        {
            null => null,
            YamlMappingNode map => map,
            var other => throw new RuleFileException(path, other.Start.Line, key, "must be a mapping"),
        };

        public YamlSequenceNode? Sequence(YamlMappingNode parent, string key) => Child(parent, key) switch
        {
            null => null,
            YamlSequenceNode seq => seq,
            var other => throw new RuleFileException(path, other.Start.Line, key, "must be a list"),
        };

        public string? Scalar(YamlMappingNode parent, string key, string field) => Child(parent, key) switch
        {
            null => null,
            YamlScalarNode scalar => scalar.Value,
            var other => throw new RuleFileException(path, other.Start.Line, field, "must be a single value"),
        };

        public T? Enum<T>(YamlMappingNode parent, string key, string field, Func<string, T?> parse) where T : struct
        {
            var value = Scalar(parent, key, field);
            if (value is null) return null;
            return parse(value.Trim().ToLowerInvariant()) ?? throw new RuleFileException(path, Child(parent, key)!.Start.Line, field, $"'{value}' is not an accepted value");
        }

        public double? Number(YamlMappingNode parent, string key, string field)
        {
            var value = Scalar(parent, key, field);
            if (value is null) return null;
            return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= 1
                ? n : throw new RuleFileException(path, Child(parent, key)!.Start.Line, field, "must be a number from 0 to 1");
        }

        public bool? Bool(YamlMappingNode parent, string key, string field) =>
            Enum(parent, key, field, v => v switch { "true" or "yes" or "on" => true, "false" or "no" or "off" => false, _ => (bool?)null });

        public CleanAction ActionValue(YamlNode node, string field) => (node as YamlScalarNode)?.Value?.Trim().ToLowerInvariant() switch
        {
            "allow" => CleanAction.Allow,
            "redact" => CleanAction.Redact,
            "quarantine" => CleanAction.Quarantine,
            "drop" => CleanAction.Drop,
            _ => throw new RuleFileException(path, node.Start.Line, field, "must be one of allow, redact, quarantine, drop"),
        };

        private static YamlNode? Child(YamlMappingNode parent, string key) =>
            parent.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;
    }
}
