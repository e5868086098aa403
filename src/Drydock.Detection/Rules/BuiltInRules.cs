using Drydock.Detection.Analyzers;
using Drydock.Detection.Engine;

namespace Drydock.Detection.Rules;

/// <summary>The catalogue of built-in rules and analyzers shipped with Drydock.</summary>
public static class BuiltInRules
{
    private static readonly Lazy<IReadOnlyList<Rule>> s_all = new(() =>
        [.. PiiRules.All(), .. SecretRules.All(), .. InjectionRules.All(), .. UrlRules.All(), .. MalwareRules.All()]);

    private static readonly Lazy<IReadOnlyList<Analyzer>> s_analyzers = new(() =>
    {
        var injection = new InjectionAnalyzer(InjectionModel.LoadBuiltIn());
        return [injection, new HiddenTextAnalyzer(injection.LooksLikeInjection), new MarkupAnalyzer(injection.LooksLikeInjection)];
    });

    /// <summary>Every built-in pattern rule, in category order (pii, secret, injection, url, malware), each group in id order.</summary>
    public static IReadOnlyList<Rule> All => s_all.Value;

    /// <summary>The built-in analyzers: the injection classifier, hidden-text and markup analysis.</summary>
    public static IReadOnlyList<Analyzer> Analyzers => s_analyzers.Value;

    /// <summary>
    /// The built-in analyzers with a second stage for injection (<see cref="IInjectionJudge"/>, the semantic encoder):
    /// a new list, the shared one is left as it is.
    /// </summary>
    public static IReadOnlyList<Analyzer> AnalyzersWith(IInjectionJudge judge) => AnalyzersWith(judge, InjectionAnalyzer.JudgeBand);

    // With another classifier band for routing to the judge (bench quality-semantic measures the trade).
    internal static IReadOnlyList<Analyzer> AnalyzersWith(IInjectionJudge judge, float judgeBand)
    {
        ArgumentNullException.ThrowIfNull(judge);
        var injection = new InjectionAnalyzer(InjectionModel.LoadBuiltIn(), judge, judgeBand);
        return [injection, new HiddenTextAnalyzer(injection.LooksLikeInjection), new MarkupAnalyzer(injection.LooksLikeInjection)];
    }

    /// <summary>Every built-in check, pattern rules and analyzers' checks together.</summary>
    public static IEnumerable<RuleInfo> Catalogue => All.Cast<RuleInfo>().Concat(Analyzers.SelectMany(a => a.Rules));
}
