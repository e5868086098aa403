using System.Globalization;
using System.Text.RegularExpressions;
using Drydock.Detection.Engine;
using Drydock.Detection.Configuration;

namespace Drydock.Detection.Rules;

/// <summary>A problem in a rules file, naming file, line and field.</summary>
public sealed class RuleFileException(string file, long line, string field, string message) : ConfigFileException(file, line, field, message);

/// <summary>
/// Loads extra rules from YAML (the <c>rules:</c> list of <c>drydock.yaml</c> or a <c>--rules</c> file).
/// User patterns run with <see cref="RegexOptions.NonBacktracking"/>, so no pattern can take more than linear time;
/// each rule's own examples are checked at load time.
/// </summary>
public static partial class UserRuleLoader
{
    private static readonly TimeSpan s_noTimeout = Regex.InfiniteMatchTimeout;

    /// <summary>The rule keys: each rule is a mapping of exactly these (<c>rules:</c> in drydock.yaml or a rules file).</summary>
    public static MapShape RuleShape { get; } = ConfigShape.Map(
        ("id", ConfigShape.Text),
        ("category", ConfigShape.OneOf([.. Categories.All])),
        ("type", ConfigShape.Text),
        ("severity", ConfigShape.OneOf("low", "medium", "high", "critical")),
        ("description", ConfigShape.Text),
        ("pattern", ConfigShape.Text),
        ("keywords", ConfigShape.ListOf(ConfigShape.Text)),
        ("minEntropy", ConfigShape.Number(0, 8)),
        ("contextWords", ConfigShape.ListOf(ConfigShape.Text)),
        ("requiresContext", ConfigShape.Boolean),
        ("allowPlaceholders", ConfigShape.Boolean),
        ("windowBefore", ConfigShape.Integer(0, 4096)),
        ("windowAfter", ConfigShape.Integer(1, 65536)),
        ("confidence", ConfigShape.Number(0.01, 1)),
        ("examples", ConfigShape.ListOf(ConfigShape.Text)),
        ("counterExamples", ConfigShape.ListOf(ConfigShape.Text))).Requires("id", "category", "type", "severity", "pattern");

    /// <summary>The keys this loader owns in drydock.yaml, which are also all a rules file may hold: <c>rules</c> and <c>internal-domains</c>.</summary>
    public static IReadOnlyDictionary<string, ConfigShape> Sections { get; } = new Dictionary<string, ConfigShape>(StringComparer.Ordinal)
    {
        ["internal-domains"] = ConfigShape.ListOf(ConfigShape.Text),
        ["rules"] = ConfigShape.ListOf(RuleShape),
    };

    private static readonly MapShape s_fileShape = ConfigShape.Map().With(Sections);

    /// <summary>Loads a rules file (<c>rules</c> and <c>internal-domains</c> only; any other key is an error).</summary>
    public static IReadOnlyList<Rule> Load(string path) => Read(ConfigReader.Load(path, s_fileShape));

    /// <summary>Parses a rules file's text; <paramref name="path"/> is used in messages.</summary>
    public static IReadOnlyList<Rule> Parse(string path, string text) => Read(ConfigReader.Parse(path, text, s_fileShape));

    /// <summary>The rules of a checked file whose shape includes <see cref="Sections"/> (drydock.yaml or a rules file).</summary>
    public static IReadOnlyList<Rule> Read(ConfigNode root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var rules = new List<Rule>();
        if (InternalDomains(root) is { } internalDomains) rules.Add(internalDomains);
        if (root["rules"] is not { } sequence) return rules;
        foreach (var item in sequence.Items) rules.Add(ParseRule(item));
        var duplicate = rules.GroupBy(r => r.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new RuleFileException(root.File, sequence.Line, "rules", $"id '{duplicate.Key}' is used more than once");
        }

        return rules;
    }

    // internal-domains: [corp.example.com, ...] becomes one url rule for hosts under those domains.
    private static Rule? InternalDomains(ConfigNode root)
    {
        if (root["internal-domains"] is not { } list) return null;
        var domains = new List<string>();
        foreach (var item in list.Items)
        {
            var value = item.Value?.Trim().TrimStart('.');
            if (value is null || !DomainName().IsMatch(value))
            {
                throw new RuleFileException(item.File, item.Line, item.Field, "must be a domain name such as corp.example.com");
            }

            domains.Add(value);
        }

        return domains.Count == 0 ? null : UrlRules.ForInternalDomains(domains);
    }

    [GeneratedRegex(@"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){0,8}[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex DomainName();

    private static Rule ParseRule(ConfigNode map)
    {
        var path = map.File;
        var prefix = map.Field;
        string Required(string key) => map.Text(key) is { } value && !string.IsNullOrWhiteSpace(value) ? value : throw map.Error(key, "is required");
        string? Optional(string key) => map.Text(key);
        IReadOnlyList<string> List(string key) => map.Texts(key) ?? [];
        long LineOf(string key) => map[key]?.Line ?? map.Line;
        double? Number(string key) => map.Number(key);

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
            WindowBefore = (int)(Number("windowBefore") ?? 64),
            WindowAfter = (int)(Number("windowAfter") ?? 256),
            Confidence = Number("confidence") ?? 0.8,
            MinEntropy = Number("minEntropy"),
            ContextWords = List("contextWords"),
            RequiresContext = map.Boolean("requiresContext") ?? false,
            RejectPlaceholders = map.Boolean("allowPlaceholders") != true && category == Categories.Secret,
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
