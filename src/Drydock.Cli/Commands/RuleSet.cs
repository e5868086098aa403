using Drydock.Detection;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Cli.Commands;

/// <summary>The rules a run uses: the built-in catalogue plus rules from drydock.yaml and --rules files.</summary>
internal static class RuleSet
{
    public const string DefaultConfig = "drydock.yaml";

    /// <summary>Loads rules; throws <see cref="RuleFileException"/> naming file, line and field on a bad rule.</summary>
    public static IReadOnlyList<Rule> Load(string? configPath, IEnumerable<string> ruleFiles)
    {
        var rules = new List<Rule>(BuiltInRules.All);
        var config = configPath ?? (File.Exists(DefaultConfig) ? DefaultConfig : null);
        if (config is not null)
        {
            if (!File.Exists(config))
            {
                throw new RuleFileException(config, 0, "file", "no such file");
            }

            rules.AddRange(UserRuleLoader.Load(config));
        }

        foreach (var file in ruleFiles)
        {
            if (!File.Exists(file))
            {
                throw new RuleFileException(file, 0, "file", "no such file");
            }

            rules.AddRange(UserRuleLoader.Load(file));
        }

        var clash = rules.GroupBy(r => r.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
        {
            throw new RuleFileException(configPath ?? ruleFiles.LastOrDefault() ?? DefaultConfig, 0, "id", $"rule id '{clash.Key}' is defined more than once");
        }

        return rules;
    }

    /// <summary>Parses <c>--categories a,b</c>; unknown names are an error.</summary>
    public static HashSet<string>? ParseCategories(string? list, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(list)) return null;
        var names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        var unknown = names.Where(n => !Categories.IsKnown(n)).ToList();
        if (unknown.Count > 0)
        {
            error = $"unknown categor{(unknown.Count == 1 ? "y" : "ies")} '{string.Join("', '", unknown)}'; known: {string.Join(", ", Categories.All)}";
            return null;
        }

        return names;
    }
}
