using System.Globalization;
using System.Text.RegularExpressions;
using Drydock.Detection.Engine;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Drydock.Detection.Rules;

/// <summary>A problem in a rules file, naming file, line and field.</summary>
public sealed class RuleFileException(string file, long line, string field, string message)
    : Exception($"{file}:{line}: {field}: {message}")
{
    /// <summary>The rules file.</summary>
    public string File { get; } = file;

    /// <summary>1-based line of the offending node.</summary>
    public long Line { get; } = line;

    /// <summary>The field at fault, such as <c>rules[2].pattern</c>.</summary>
    public string Field { get; } = field;
}

/// <summary>
/// Loads extra rules from YAML (the <c>rules:</c> list of <c>drydock.yaml</c> or a <c>--rules</c> file).
/// User patterns run with <see cref="RegexOptions.NonBacktracking"/>, so no pattern can take more than linear time;
/// each rule's own examples are checked at load time.
/// </summary>
public static partial class UserRuleLoader
{
    private static readonly TimeSpan s_noTimeout = Regex.InfiniteMatchTimeout;

    /// <summary>Loads the <c>rules</c> list of a YAML file; a file without one yields no rules.</summary>
    public static IReadOnlyList<Rule> Load(string path)
    {
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

    /// <summary>Parses YAML text; <paramref name="path"/> is used in messages.</summary>
    public static IReadOnlyList<Rule> Parse(string path, string text)
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

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            return [];
        }

        var internalDomains = InternalDomains(path, root);
        if (!root.Children.TryGetValue(new YamlScalarNode("rules"), out var rulesNode))
        {
            return internalDomains is null ? [] : [internalDomains];
        }

        if (rulesNode is not YamlSequenceNode sequence)
        {
            throw new RuleFileException(path, rulesNode.Start.Line, "rules", "must be a list of rules");
        }

        var rules = internalDomains is null ? new List<Rule>() : [internalDomains];
        var index = 0;
        foreach (var node in sequence)
        {
            var prefix = $"rules[{index++}]";
            if (node is not YamlMappingNode map)
            {
                throw new RuleFileException(path, node.Start.Line, prefix, "must be a mapping with id, category, type, severity and pattern");
            }

            rules.Add(ParseRule(path, prefix, map));
        }

        var duplicate = rules.GroupBy(r => r.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new RuleFileException(path, sequence.Start.Line, "rules", $"id '{duplicate.Key}' is used more than once");
        }

        return rules;
    }

    // internal-domains: [corp.example.com, ...] becomes one url rule for hosts under those domains.
    private static Rule? InternalDomains(string path, YamlMappingNode root)
    {
        if (!root.Children.TryGetValue(new YamlScalarNode("internal-domains"), out var node))
        {
            return null;
        }

        if (node is not YamlSequenceNode sequence)
        {
            throw new RuleFileException(path, node.Start.Line, "internal-domains", "must be a list of domain names");
        }

        var domains = new List<string>();
        var index = 0;
        foreach (var item in sequence)
        {
            var value = (item as YamlScalarNode)?.Value?.Trim().TrimStart('.');
            if (value is null || !DomainName().IsMatch(value))
            {
                throw new RuleFileException(path, item.Start.Line, $"internal-domains[{index}]", "must be a domain name such as corp.example.com");
            }

            domains.Add(value);
            index++;
        }

        return domains.Count == 0 ? null : UrlRules.ForInternalDomains(domains);
    }

    [GeneratedRegex(@"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){0,8}[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex DomainName();

    private static Rule ParseRule(string path, string prefix, YamlMappingNode map)
    {
        string Required(string key)
        {
            var value = Optional(key);
            return string.IsNullOrWhiteSpace(value)
                ? throw new RuleFileException(path, map.Start.Line, $"{prefix}.{key}", "is required")
                : value;
        }

        string? Optional(string key) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var node)
                ? node is YamlScalarNode scalar ? scalar.Value : throw new RuleFileException(path, node.Start.Line, $"{prefix}.{key}", "must be a single value")
                : null;

        IReadOnlyList<string> List(string key)
        {
            if (!map.Children.TryGetValue(new YamlScalarNode(key), out var node)) return [];
            return node is YamlSequenceNode seq
                ? seq.Select(n => (n as YamlScalarNode)?.Value ?? throw new RuleFileException(path, n.Start.Line, $"{prefix}.{key}", "must be a list of strings")).ToList()!
                : throw new RuleFileException(path, node.Start.Line, $"{prefix}.{key}", "must be a list");
        }

        long LineOf(string key) => map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node.Start.Line : map.Start.Line;

        double? Number(string key, double min, double max)
        {
            var text = Optional(key);
            if (text is null) return null;
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            {
                throw new RuleFileException(path, LineOf(key), $"{prefix}.{key}", $"must be a number from {min} to {max}");
            }

            return value;
        }

        var id = Required("id");
        if (id.StartsWith("DD-", StringComparison.OrdinalIgnoreCase))
        {
            throw new RuleFileException(path, LineOf("id"), $"{prefix}.id", "ids starting with 'DD-' are reserved for built-in rules");
        }

        var category = Required("category");
        if (!Categories.IsKnown(category))
        {
            throw new RuleFileException(path, LineOf("category"), $"{prefix}.category", $"'{category}' is not one of {string.Join(", ", Categories.All)}");
        }

        var severityText = Required("severity");
        if (!SeverityNames.TryParse(severityText, out var severity))
        {
            throw new RuleFileException(path, LineOf("severity"), $"{prefix}.severity", $"'{severityText}' is not one of low, medium, high, critical");
        }

        var patternText = Required("pattern");
        Regex pattern;
        try
        {
            pattern = new Regex(patternText, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, s_noTimeout);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new RuleFileException(path, LineOf("pattern"), $"{prefix}.pattern", $"not a usable pattern (NonBacktracking engine): {e.Message}");
        }

        var keywords = List("keywords");
        if (keywords.Any(k => k.Length == 0))
        {
            throw new RuleFileException(path, LineOf("keywords"), $"{prefix}.keywords", "keywords must not be empty");
        }

        var rule = new Rule
        {
            Id = id,
            Category = category,
            Type = Required("type"),
            Severity = severity,
            Description = Optional("description") ?? id,
            Pattern = pattern,
            Keywords = keywords,
            WindowBefore = (int)(Number("windowBefore", 0, 4096) ?? 64),
            WindowAfter = (int)(Number("windowAfter", 1, 65536) ?? 256),
            Confidence = Number("confidence", 0.01, 1) ?? 0.8,
            MinEntropy = Number("minEntropy", 0, 8),
            ContextWords = List("contextWords"),
            RequiresContext = string.Equals(Optional("requiresContext"), "true", StringComparison.OrdinalIgnoreCase),
            RejectPlaceholders = !string.Equals(Optional("allowPlaceholders"), "true", StringComparison.OrdinalIgnoreCase) && category == Categories.Secret,
            Priority = 15,
            Examples = List("examples"),
            CounterExamples = List("counterExamples"),
        };

        // A rule proves itself: each example must be found and each counter-example must not.
        var detector = Detector.Create([rule]);
        foreach (var example in rule.Examples)
        {
            if (detector.Scan(example).Count == 0)
            {
                throw new RuleFileException(path, LineOf("examples"), $"{prefix}.examples", $"the rule does not find its own example «{Masking.MaskValue(example, 4)}»");
            }
        }

        foreach (var example in rule.CounterExamples)
        {
            if (detector.Scan(example).Count > 0)
            {
                throw new RuleFileException(path, LineOf("counterExamples"), $"{prefix}.counterExamples", $"the rule reports its own counter-example «{Masking.MaskValue(example, 4)}»");
            }
        }

        return rule;
    }
}
