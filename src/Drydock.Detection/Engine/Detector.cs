using System.Buffers;
using System.Text.RegularExpressions;

namespace Drydock.Detection.Engine;

/// <summary>
/// Runs a catalogue of <see cref="Rule"/>s over text. One pass of a multi-literal search finds every
/// keyword of every rule; each rule's pattern then runs only on small windows around its own hits.
/// Keyword-less rules run over the whole text when their cheap gate allows. Immutable and thread-safe.
/// </summary>
public sealed class Detector
{
    private readonly Rule[] _rules;
    private readonly Rule[] _wholeTextRules;
    private readonly KeywordIndex? _ignoreCase;
    private readonly KeywordIndex? _ordinal;
    private readonly bool[] _hasValueGroup;
    private readonly Dictionary<Rule, int> _ruleIndex;

    private Detector(Rule[] rules)
    {
        _rules = rules;
        _ruleIndex = new Dictionary<Rule, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < rules.Length; i++)
        {
            _ruleIndex[rules[i]] = i;
        }

        _hasValueGroup = rules.Select(r => r.Pattern.GroupNumberFromName("v") >= 0).ToArray();
        _wholeTextRules = rules.Where(r => r.Keywords.Count == 0).ToArray();
        _ignoreCase = KeywordIndex.Build(rules, this, caseSensitive: false);
        _ordinal = KeywordIndex.Build(rules, this, caseSensitive: true);
    }

    /// <summary>The rules this detector runs, in catalogue order.</summary>
    public IReadOnlyList<Rule> Rules => _rules;

    /// <summary>Builds a detector; rule ids must be unique.</summary>
    public static Detector Create(IEnumerable<Rule> rules)
    {
        var list = rules.ToArray();
        var duplicate = list.GroupBy(r => r.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Rule id '{duplicate.Key}' is used more than once.", nameof(rules));
        }

        return new Detector(list);
    }

    /// <summary>A detector over a subset of this one's rules (for example some categories only).</summary>
    public Detector Where(Func<Rule, bool> predicate) => new(_rules.Where(predicate).ToArray());

    /// <summary>Scans one text field and returns its findings ordered by start offset.</summary>
    public IReadOnlyList<Finding> Scan(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0)
        {
            return [];
        }

        List<Candidate>? candidates = null;
        List<int>?[]? hits = null;
        _ignoreCase?.CollectHits(text, ref hits, _rules.Length);
        _ordinal?.CollectHits(text, ref hits, _rules.Length);
        if (hits is not null)
        {
            for (var r = 0; r < hits.Length; r++)
            {
                if (hits[r] is { } positions)
                {
                    RunWindows(r, text, positions, ref candidates);
                }
            }
        }

        foreach (var rule in _wholeTextRules)
        {
            if (rule.Gate is null || rule.Gate(text))
            {
                RunRange(_ruleIndex[rule], text, 0, text.Length, ref candidates);
            }
        }

        if (candidates is null)
        {
            return [];
        }

        var kept = Overlaps.Resolve(candidates);
        return Masking.BuildFindings(text, kept);
    }

    private void RunWindows(int ruleIndex, string text, List<int> positions, ref List<Candidate>? candidates)
    {
        var rule = _rules[ruleIndex];
        var windowStart = -1;
        var windowEnd = -1;
        foreach (var hit in positions)
        {
            var start = Math.Max(0, hit - rule.WindowBefore);
            var end = Math.Min(text.Length, hit + rule.WindowAfter);
            if (windowEnd >= 0 && start <= windowEnd)
            {
                windowEnd = Math.Max(windowEnd, end);
                continue;
            }

            if (windowEnd >= 0)
            {
                RunWindow(ruleIndex, text, windowStart, windowEnd, ref candidates);
            }

            windowStart = start;
            windowEnd = end;
        }

        if (windowEnd >= 0)
        {
            RunWindow(ruleIndex, text, windowStart, windowEnd, ref candidates);
        }
    }

    private void RunWindow(int ruleIndex, string text, int start, int end, ref List<Candidate>? candidates)
    {
        // Widen the window to token edges so that a pattern's own boundary checks see real edges.
        var limit = Math.Max(0, start - 64);
        while (start > limit && IsTokenChar(text[start - 1]))
        {
            start--;
        }

        limit = Math.Min(text.Length, end + 256);
        while (end < limit && IsTokenChar(text[end]))
        {
            end++;
        }

        RunRange(ruleIndex, text, start, end, ref candidates);
    }

    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '+' or '/' or '=' or '.' or '%';

    private void RunRange(int ruleIndex, string text, int start, int end, ref List<Candidate>? candidates)
    {
        var rule = _rules[ruleIndex];
        if (_hasValueGroup[ruleIndex])
        {
            var match = rule.Pattern.Match(text, start, end - start);
            while (match.Success)
            {
                var group = match.Groups["v"];
                if (group.Success && group.Length > 0)
                {
                    Consider(rule, text, group.Index, group.Length, ref candidates);
                }

                match = match.NextMatch();
            }

            return;
        }

        foreach (var m in rule.Pattern.EnumerateMatches(text.AsSpan(start, end - start)))
        {
            if (m.Length > 0)
            {
                Consider(rule, text, start + m.Index, m.Length, ref candidates);
            }
        }
    }

    private static void Consider(Rule rule, string text, int start, int length, ref List<Candidate>? candidates)
    {
        var value = text.Substring(start, length);
        if (rule.MinEntropy is { } floor && Entropy.Shannon(value) < floor)
        {
            return;
        }

        if (rule.RejectPlaceholders && Placeholders.IsPlaceholder(value))
        {
            return;
        }

        var confidence = rule.Confidence;
        if (rule.Validator is not null)
        {
            confidence = rule.Validator(value, text, start);
            if (confidence <= 0)
            {
                return;
            }
        }

        if (rule.ContextWords.Count > 0 || rule.NegativeContextWords.Count > 0)
        {
            var windowStart = Math.Max(0, start - rule.ContextWindow);
            var windowEnd = Math.Min(text.Length, start + length + 16);
            var before = text.AsSpan(windowStart, start - windowStart);
            var after = text.AsSpan(start + length, windowEnd - start - length);
            var positive = ContainsAny(before, rule.ContextWords) || ContainsAny(after, rule.ContextWords);
            if (rule.RequiresContext && !positive)
            {
                return;
            }

            if (positive)
            {
                confidence += rule.ContextBoost;
            }

            if (ContainsAny(before, rule.NegativeContextWords))
            {
                confidence -= rule.ContextBoost * 2;
            }
        }

        confidence = Math.Round(Math.Clamp(confidence, 0, 0.99), 2);
        if (confidence < rule.MinConfidence)
        {
            return;
        }

        (candidates ??= []).Add(new Candidate(rule, start, start + length, confidence));
    }

    private static bool ContainsAny(ReadOnlySpan<char> text, IReadOnlyList<string> words)
    {
        foreach (var word in words)
        {
            if (text.Contains(word, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>All keywords of one case mode in one <see cref="SearchValues{T}"/>, with the rules each keyword serves.</summary>
    private sealed class KeywordIndex
    {
        private readonly SearchValues<string> _values;
        private readonly Dictionary<char, (string Keyword, int[] Rules)[]> _byFirstChar;
        private readonly StringComparison _comparison;
        private readonly bool _caseSensitive;

        private KeywordIndex(SearchValues<string> values, Dictionary<char, (string, int[])[]> byFirstChar, bool caseSensitive)
        {
            _values = values;
            _byFirstChar = byFirstChar;
            _caseSensitive = caseSensitive;
            _comparison = caseSensitive ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        }

        public static KeywordIndex? Build(Rule[] rules, Detector owner, bool caseSensitive)
        {
            var map = new Dictionary<string, List<int>>(caseSensitive ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase);
            foreach (var rule in rules.Where(r => r.CaseSensitiveKeywords == caseSensitive))
            {
                foreach (var keyword in rule.Keywords)
                {
                    if (!map.TryGetValue(keyword, out var list))
                    {
                        map[keyword] = list = [];
                    }

                    list.Add(owner._ruleIndex[rule]);
                }
            }

            if (map.Count == 0)
            {
                return null;
            }

            var byFirst = map
                .GroupBy(kv => caseSensitive ? kv.Key[0] : char.ToLowerInvariant(kv.Key[0]))
                .ToDictionary(g => g.Key, g => g.Select(kv => (kv.Key, kv.Value.Distinct().ToArray())).ToArray());
            var values = SearchValues.Create(map.Keys.ToArray(), caseSensitive ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
            return new KeywordIndex(values, byFirst, caseSensitive);
        }

        public void CollectHits(string text, ref List<int>?[]? hits, int ruleCount)
        {
            var span = text.AsSpan();
            var offset = 0;
            while (offset < span.Length)
            {
                var found = span[offset..].IndexOfAny(_values);
                if (found < 0)
                {
                    return;
                }

                var position = offset + found;
                var first = _caseSensitive ? span[position] : char.ToLowerInvariant(span[position]);
                if (_byFirstChar.TryGetValue(first, out var entries))
                {
                    var rest = span[position..];
                    foreach (var (keyword, rules) in entries)
                    {
                        if (rest.StartsWith(keyword, _comparison))
                        {
                            hits ??= new List<int>?[ruleCount];
                            foreach (var r in rules)
                            {
                                var list = hits[r] ??= [];
                                list.Add(position);
                            }
                        }
                    }
                }

                offset = position + 1;
            }
        }
    }
}

/// <summary>A match that passed every check, before overlap resolution and masking.</summary>
internal readonly record struct Candidate(Rule Rule, int Start, int End, double Confidence);
