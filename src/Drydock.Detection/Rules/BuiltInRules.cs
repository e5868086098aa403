using Drydock.Detection.Engine;

namespace Drydock.Detection.Rules;

/// <summary>The catalogue of built-in rules shipped with Drydock.</summary>
public static class BuiltInRules
{
    private static readonly Lazy<IReadOnlyList<Rule>> s_all = new(() => [.. PiiRules.All(), .. SecretRules.All()]);

    /// <summary>Every built-in rule, PII first then secrets, each group in id order.</summary>
    public static IReadOnlyList<Rule> All => s_all.Value;
}
