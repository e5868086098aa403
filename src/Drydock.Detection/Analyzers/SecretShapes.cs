using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Detection.Analyzers;

/// <summary>
/// Every span a secret pattern rule matches, of any length, blanked (offsets kept): what the semantic judge reads
/// instead of the key. The rules' validators and placeholder checks are not applied, so an example key
/// ("AKIAIOSFODNN7EXAMPLE", 20 characters, shorter than the 40 that <see cref="InjectionFeatures.WithoutNoise"/> blanks)
/// is blanked as a real one is: the words around a key are judged, never the key.
/// </summary>
internal static class SecretShapes
{
    private static readonly Rule[] s_rules = [.. SecretRules.All()];

    /// <summary>The text with every secret-shaped span replaced by spaces; the same instance when there is none.</summary>
    public static string Blank(string text)
    {
        char[]? chars = null;
        foreach (var rule in s_rules)
        {
            if (rule.Keywords.Count > 0 && !HasKeyword(text, rule.Keywords)) continue;
            for (var match = rule.Pattern.Match(text); match.Success; match = match.NextMatch())
            {
                var value = match.Groups["v"] is { Success: true } group ? group : match;
                if (value.Length == 0) continue;
                chars ??= text.ToCharArray();
                for (var k = value.Index; k < value.Index + value.Length; k++)
                {
                    if (chars[k] is not ('\r' or '\n')) chars[k] = ' ';
                }
            }
        }

        return chars is null ? text : new string(chars);
    }

    private static bool HasKeyword(string text, IReadOnlyList<string> keywords)
    {
        foreach (var keyword in keywords)
        {
            if (text.Contains(keyword, StringComparison.OrdinalIgnoreCase)) return true;
        }

        return false;
    }
}
