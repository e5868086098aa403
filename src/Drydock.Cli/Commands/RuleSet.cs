using Drydock.Detection;
using Drydock.Detection.Configuration;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Cli.Commands;

/// <summary>The pattern rules and analyzers a run uses, after any category filter.</summary>
internal sealed record RuleSet(IReadOnlyList<Rule> Rules, IReadOnlyList<Analyzer> Analyzers)
{
    /// <summary>Every check, pattern rules first, in catalogue order.</summary>
    public IEnumerable<RuleInfo> Catalogue => Rules.Cast<RuleInfo>().Concat(Analyzers.SelectMany(a => a.Rules));

    /// <summary>Only the given categories (all when null).</summary>
    public RuleSet Only(IReadOnlySet<string>? categories) => categories is null
        ? this
        : new RuleSet([.. Rules.Where(r => categories.Contains(r.Category))], [.. Analyzers.Where(a => categories.Contains(a.Category))]);

    /// <summary>The same rules with the semantic second stage for injection (before any category filter).</summary>
    public RuleSet WithInjectionJudge(Detection.Analyzers.IInjectionJudge judge) => this with { Analyzers = BuiltInRules.AnalyzersWith(judge) };

    /// <summary>A detector running this set.</summary>
    public Detector CreateDetector() => Detector.Create(Rules, Analyzers);

    /// <summary>
    /// The built-in catalogue plus the rules of the project file (checked drydock.yaml, or null for none) and of
    /// --rules files; throws <see cref="ConfigFileException"/> naming file, line and field on a bad rule.
    /// </summary>
    public static RuleSet Load(ConfigNode? project, IEnumerable<string> ruleFiles)
    {
        ArgumentNullException.ThrowIfNull(ruleFiles);
        var rules = new List<Rule>(BuiltInRules.All);
        if (project is not null) rules.AddRange(UserRuleLoader.Read(project));
        foreach (var file in ruleFiles) rules.AddRange(UserRuleLoader.Load(file));
        var clash = rules.GroupBy(r => r.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
        {
            throw new RuleFileException(ruleFiles.LastOrDefault() ?? project?.File ?? "rules", 0, "id", $"rule id '{clash.Key}' is defined more than once");
        }

        return new RuleSet(rules, BuiltInRules.Analyzers);
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
