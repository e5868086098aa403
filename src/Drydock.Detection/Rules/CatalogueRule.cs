using System.Text.RegularExpressions;
using Drydock.Detection.Engine;

namespace Drydock.Detection.Rules;

/// <summary>
/// Builds a built-in rule from its catalogue line. The category factories (<c>Pii</c>, <c>Injection</c>,
/// <c>Malware</c>, <c>Url</c>, <c>Secret</c>) differ only in their category and defaults; every default here is <see cref="Rule"/>'s own.
/// </summary>
internal static class CatalogueRule
{
    public static Rule Create(string category, string id, string type, string description, Regex pattern, string[] keywords, string[] examples,
        string[] counterExamples, Severity severity, double confidence, int windowBefore, int windowAfter, bool show, CandidateValidator? validator = null,
        bool caseSensitive = false, Func<TextProfile, bool>? gate = null, string[]? context = null, string[]? negativeContext = null,
        bool requiresContext = false, int priority = 10, int contextWindow = 48, double minConfidence = 0.3, bool keywordsEnableWholeText = false,
        Func<string, int, bool>? keywordHitFilter = null, bool keywordsInLongToken = false, double? minEntropy = null, bool rejectPlaceholders = false,
        int revealPrefix = 0, Func<string, int, int, int>? extendEnd = null) => new()
    {
        Id = id,
        Category = category,
        Type = type,
        Severity = severity,
        Description = description,
        Pattern = pattern,
        Keywords = keywords,
        CaseSensitiveKeywords = caseSensitive,
        KeywordsInLongToken = keywordsInLongToken,
        Gate = gate,
        Confidence = confidence,
        Validator = validator,
        ContextWords = context ?? [],
        NegativeContextWords = negativeContext ?? [],
        RequiresContext = requiresContext,
        WindowBefore = windowBefore,
        WindowAfter = windowAfter,
        Priority = priority,
        ContextWindow = contextWindow,
        MinConfidence = minConfidence,
        KeywordsEnableWholeText = keywordsEnableWholeText,
        KeywordHitFilter = keywordHitFilter,
        MinEntropy = minEntropy,
        RejectPlaceholders = rejectPlaceholders,
        RevealPrefix = revealPrefix,
        ExtendEnd = extendEnd,
        ShowValue = show,
        Examples = examples,
        CounterExamples = counterExamples,
    };
}
