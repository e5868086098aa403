using System.Buffers;
using System.Text.RegularExpressions;

namespace Drydock.Detection.Engine;

/// <summary>
/// Runs a catalogue of <see cref="Rule"/>s over text. A few vectorized multi-literal searches (keywords in
/// groups of at most 16) find every keyword of every rule; each rule's pattern then runs only on small
/// windows around its own hits. A window is widened to the edges of the token it starts or ends in, so a
/// keyword may be a rare inner part of a word ("ntact" for "contact") and the pattern still sees the word.
/// Keyword-less rules run over the whole text when their cheap gate allows. Immutable and thread-safe.
/// </summary>
public sealed class Detector
{
    /// <summary>Shortest run of non-delimiter characters searched for token-shaped keywords.</summary>
    public const int LongTokenLength = 16;

    // Characters that end a token: whitespace, quotes, brackets and list separators.
    private static readonly SearchValues<char> s_delimiters = SearchValues.Create(" \t\r\n\"'`()[]{}<>,;|");

    // Per-thread working memory for Scan (cleared after every call, so it carries no state between scans);
    // pooling it per thread keeps the hot path free of allocations and of locks.
    [ThreadStatic]
    private static Scratch? t_scratch;

    private readonly Rule[] _rules;
    private readonly Analyzer[] _analyzers;
    private readonly int[] _wholeTextRules;
    private readonly bool[] _hasValueGroup;
    private readonly bool _judgesEncoded;
    private readonly Dictionary<Rule, int> _ruleIndex;
    private readonly KeywordIndex? _ignoreCase;
    private readonly KeywordIndex? _ordinal;
    private readonly KeywordIndex? _tokenIgnoreCase;
    private readonly KeywordIndex? _tokenOrdinal;

    private Detector(Rule[] rules, Analyzer[] analyzers)
    {
        _rules = rules;
        _analyzers = analyzers;
        _ruleIndex = new Dictionary<Rule, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < rules.Length; i++)
        {
            _ruleIndex[rules[i]] = i;
        }

        _judgesEncoded = rules.Any(r => r.Category is Categories.Secret or Categories.Pii or Categories.Injection);
        _hasValueGroup = rules.Select(r => r.Pattern.GroupNumberFromName("v") >= 0).ToArray();
        _wholeTextRules = Enumerable.Range(0, rules.Length).Where(i => rules[i].Keywords.Count == 0).ToArray();
        var context = rules.Where(r => !r.KeywordsInLongToken).ToArray();
        var tokens = rules.Where(r => r.KeywordsInLongToken).ToArray();
        _ignoreCase = KeywordIndex.Build(context, this, caseSensitive: false);
        _ordinal = KeywordIndex.Build(context, this, caseSensitive: true);
        _tokenIgnoreCase = KeywordIndex.Build(tokens, this, caseSensitive: false);
        _tokenOrdinal = KeywordIndex.Build(tokens, this, caseSensitive: true);
    }

    /// <summary>The pattern rules this detector runs, in catalogue order.</summary>
    public IReadOnlyList<Rule> Rules => _rules;

    /// <summary>The analyzers this detector runs after its pattern rules.</summary>
    public IReadOnlyList<Analyzer> Analyzers => _analyzers;

    /// <summary>Builds a detector; rule ids (of pattern rules and analyzers' checks together) must be unique.</summary>
    public static Detector Create(IEnumerable<Rule> rules, IEnumerable<Analyzer>? analyzers = null)
    {
        var list = rules.ToArray();
        var analyzerList = analyzers?.ToArray() ?? [];
        var duplicate = list.Cast<RuleInfo>().Concat(analyzerList.SelectMany(a => a.Rules))
            .GroupBy(r => r.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Rule id '{duplicate.Key}' is used more than once.", nameof(rules));
        }

        return new Detector(list, analyzerList);
    }

    /// <summary>Scans one text field and returns its findings ordered by start offset.</summary>
    public IReadOnlyList<Finding> Scan(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length is < 6 or > RepeatMaxLength)
        {
            return ScanOnce(text);
        }

        // A short field that repeats and held nothing (the same system prompt in every record) is not scanned again
        // on this thread. Rules and analyzers are pure functions of the text, so the answer cannot change.
        var memo = t_clean;
        if (memo is null || !ReferenceEquals(memo.Owner, this))
        {
            t_clean = memo = new CleanTexts(this);
        }

        var seen = memo.Texts;
        if (seen.Contains(text))
        {
            return [];
        }

        var result = ScanOnce(text);
        if (result.Count == 0)
        {
            if (seen.Count >= RepeatEntries) seen.Clear();
            seen.Add(text);
        }

        return result;
    }

    private const int RepeatMaxLength = 512;
    private const int RepeatEntries = 1024;

    [ThreadStatic]
    private static CleanTexts? t_clean;

    // Recent short texts in which this detector found nothing.
    private sealed class CleanTexts(Detector owner)
    {
        public Detector Owner { get; } = owner;

        public HashSet<string> Texts { get; } = new(StringComparer.Ordinal);
    }

    private IReadOnlyList<Finding> ScanOnce(string text)
    {
        // Pattern rules read Cyrillic and Greek look-alike letters as the Latin ones they look like (same offsets);
        // analyzers read the text as written (the hidden-text analyzer reports the mixed-script word).
        var folded = LookAlikes.Fold(text);
        var findings = WithCompatibilityForms(text, ScanPatterns(folded));
        var encoded = _judgesEncoded && text.Length >= EncodedText.MinBase64 ? Uncovered(Encoded(folded, 1), findings) : null;
        if ((_analyzers.Length == 0 || text.Length == 0) && encoded is null)
        {
            return findings;
        }

        // Analyzers see the pattern findings (the injection classifier takes them as features) and may add to them.
        var all = findings.Count > 0 ? new List<Finding>(findings) : null;
        foreach (var analyzer in _analyzers)
        {
            analyzer.Analyze(text, ref all);
        }

        if (encoded is not null) (all ??= []).AddRange(encoded);
        if (all is null || all.Count == 0)
        {
            return [];
        }

        // Stable: pattern findings and analyzer findings that start together keep a fixed order.
        return [.. all.OrderBy(f => f.Start).ThenBy(f => f.End).ThenBy(f => f.RuleId, StringComparer.Ordinal)];
    }

    // Fullwidth forms (U+FF01–U+FF5E) and mathematical letters and digits (U+1D400–U+1D7FF, surrogate pairs) are ASCII
    // letters, digits and punctuation in another dress: NFKC reads them as such, and so does the gateway, which matches
    // every text as MatchText reads it. A text holding one is read once more as MatchText reads it (the one normaliser,
    // offsets mapped back to the original), so `scan` and `clean` find `AKIA𝟑…` or `ＡＫＩＡ…` as the gateway does;
    // a finding of that reading counts where no finding of its category already covers the span.
    private IReadOnlyList<Finding> WithCompatibilityForms(string text, IReadOnlyList<Finding> findings)
    {
        var span = text.AsSpan();
        if (span.IndexOfAnyInRange('\uFF01', '\uFF5E') < 0 && span.IndexOf('\uD835') < 0) return findings;
        var read = MatchText.Of(text);
        if (!read.Changed) return findings;
        List<Finding>? all = null;
        foreach (var f in ScanPatterns(LookAlikes.Fold(read.Text)))
        {
            var moved = read.ToOriginal(f);
            if ((all ?? findings).Any(g => g.Category == moved.Category && g.Start < moved.End && moved.Start < g.End)) continue;
            (all ??= [.. findings]).Add(moved);
        }

        return all is null ? findings : [.. all.OrderBy(f => f.Start).ThenBy(f => f.End).ThenBy(f => f.RuleId, StringComparer.Ordinal)];
    }

    // The secrets, personal data and prompt injection of every encoded run of the text (EncodedText: runs that decode to
    // readable text), reported on the run: an instruction written in base64 is an instruction to a model that decodes it.
    private List<Finding>? Encoded(string text, int depth)
    {
        var runs = EncodedText.Find(text);
        if (runs is null) return null;
        List<Finding>? found = null;
        foreach (var run in runs)
        {
            var inner = ScanPatterns(LookAlikes.Fold(run.Decoded)).Where(f => f.Category is Categories.Secret or Categories.Pii or Categories.Injection);
            if (depth < EncodedText.MaxDepth && run.Decoded.Length >= EncodedText.MinBase64 && Encoded(run.Decoded, depth + 1) is { } nested) inner = inner.Concat(nested);
            var first = found?.Count ?? 0;
            foreach (var f in inner)
            {
                if (found is not null && found.FindIndex(first, g => g.RuleId == f.RuleId) >= 0) continue;
                // Overlapping grouped stretches (2024 AKIA Q3EGRL … and AKIA Q3EGRL …) that find the same rule: one finding.
                if (run.Encoding == "grouped" && found is not null && found.Exists(g => g.RuleId == f.RuleId && g.Encoding == "grouped" && g.Start < run.End && g.End > run.Start)) continue;
                var encoding = f.Encoding is null ? run.Encoding : run.Encoding + "+" + f.Encoding;
                (found ??= []).Add(f with
                {
                    Start = run.Start,
                    End = run.End,
                    Excerpt = encoding + ": " + Masking.MaskValue(text.AsSpan(run.Start, run.End - run.Start)),
                    Encoding = encoding,
                });
            }
        }

        return found;
    }

    // The encoded findings whose run no secret or personal-data finding of the text as written already covers (a base64
    // PEM block is a private-key-base64 finding as it is: its decoding adds nothing) or already finds by the same rule;
    // null when none is left.
    private static List<Finding>? Uncovered(List<Finding>? encoded, IReadOnlyList<Finding> direct)
    {
        if (encoded is null) return null;
        var spans = new List<(int Start, int End)>();
        foreach (var f in direct.Where(f => f.Category is Categories.Secret or Categories.Pii).OrderBy(f => f.Start))
        {
            if (spans.Count > 0 && f.Start <= spans[^1].End) spans[^1] = (spans[^1].Start, Math.Max(spans[^1].End, f.End));
            else spans.Add((f.Start, f.End));
        }

        encoded.RemoveAll(e =>
        {
            int lo = 0, hi = spans.Count - 1, at = -1;
            while (lo <= hi)
            {
                var mid = (lo + hi) >>> 1;
                if (spans[mid].Start <= e.Start) { at = mid; lo = mid + 1; } else hi = mid - 1;
            }

            // Covered whole, or the same rule already found inside the run: a grouped run that starts at a word in capitals
            // before a card number (CARD 4539 1488 0343 6467) is that card number. Where the run is made, such a word
            // cannot be told from a group of the value (AKIA GNSU V3QB …); a capitalised word (Card) is left out there.
            return (at >= 0 && spans[at].End >= e.End) || direct.Any(f => f.RuleId == e.RuleId && f.Start < e.End && f.End > e.Start);
        });
        return encoded.Count == 0 ? null : encoded;
    }

    private IReadOnlyList<Finding> ScanPatterns(string text)
    {
        // No rule matches fewer characters than this ("a@b.co"); role names and flags are skipped outright.
        if (text.Length < 6)
        {
            return [];
        }

        List<Candidate>? candidates = null;
        var scratch = t_scratch;
        if (scratch is null || !scratch.Serves(_rules))
        {
            t_scratch = scratch = new Scratch(_rules);
        }

        try
        {
            _ignoreCase?.CollectHits(text, 0, text.Length, scratch);
            _ordinal?.CollectHits(text, 0, text.Length, scratch);
            if (_tokenIgnoreCase is not null || _tokenOrdinal is not null)
            {
                CollectTokenHits(text, scratch);
            }

            foreach (var r in scratch.Used)
            {
                var positions = scratch.Hits[r]!;
                if (_rules[r].KeywordsEnableWholeText)
                {
                    RunRange(r, text, 0, text.Length, ref candidates);
                }
                else
                {
                    RunWindows(r, text, positions, ref candidates);
                }
            }
        }
        finally
        {
            scratch.Clear();
        }

        if (_wholeTextRules.Length > 0)
        {
            var profile = TextProfile.Of(text);
            foreach (var r in _wholeTextRules)
            {
                if (_rules[r].Gate is not { } gate || gate(profile))
                {
                    RunRange(r, text, 0, text.Length, ref candidates);
                }
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
        if (!IsSorted(positions))
        {
            // Hits of one rule can come from both keyword indexes.
            positions.Sort();
        }

        // A pattern anchored at its window's start (\G) matches only there and right after its own matches: windows of
        // such a rule are never merged, or a second keyword inside the first one's window ("my name is …" written twice)
        // would not be read.
        var anchored = rule.Pattern.ToString().StartsWith("\\G", StringComparison.Ordinal);
        var windowStart = -1;
        var windowEnd = -1;
        foreach (var hit in positions)
        {
            var start = Math.Max(0, hit - rule.WindowBefore);
            var end = Math.Min(text.Length, hit + rule.WindowAfter);
            if (windowEnd >= 0 && (anchored ? start == windowStart : start <= windowEnd))
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

    private void CollectTokenHits(string text, Scratch scratch)
    {
        // Most runs are short words: one vectorized look at the next LongTokenLength characters tells whether a
        // delimiter ends the run before it gets long, and the search resumes after that delimiter.
        var span = text.AsSpan();
        var start = 0;
        while (span.Length - start >= LongTokenLength)
        {
            var cut = span.Slice(start, LongTokenLength).IndexOfAny(s_delimiters);
            if (cut >= 0)
            {
                start += cut + 1;
                continue;
            }

            var end = span[start..].IndexOfAny(s_delimiters);
            end = end < 0 ? span.Length : start + end;
            _tokenIgnoreCase?.CollectHits(text, start, end, scratch);
            _tokenOrdinal?.CollectHits(text, start, end, scratch);
            start = end + 1;
        }
    }

    private static bool IsSorted(List<int> positions)
    {
        for (var i = 1; i < positions.Count; i++)
        {
            if (positions[i] < positions[i - 1]) return false;
        }

        return true;
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

            if (NamesThisValue(before, rule.NegativeContextWords))
            {
                confidence -= rule.ContextBoost * 2;
            }
        }

        confidence = Math.Round(Math.Clamp(confidence, 0, 0.99), 2);
        if (confidence < rule.MinConfidence)
        {
            return;
        }

        var end = rule.ExtendEnd is { } extend ? extend(text, start, start + length) : start + length;
        (candidates ??= []).Add(new Candidate(rule, start, end, confidence));
    }

    // A negative context word counts only as a whole word with no other number between it and the value: "order 1182,
    // call (415) 555-2671" names the order's number, not the phone's, and "prefer" is not "ref".
    private static bool NamesThisValue(ReadOnlySpan<char> before, IReadOnlyList<string> words)
    {
        foreach (var word in words)
        {
            var from = 0;
            while (from < before.Length)
            {
                var at = before[from..].IndexOf(word, StringComparison.OrdinalIgnoreCase);
                if (at < 0) break;
                at += from;
                var end = at + word.Length;
                var whole = (at == 0 || !char.IsLetter(before[at - 1])) && (end == before.Length || !char.IsLetter(before[end]));
                if (whole && !before[end..].ContainsAnyInRange('0', '9')) return true;
                from = at + 1;
            }
        }

        return false;
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

    /// <summary>
    /// All keywords of one case mode: multi-character keywords in one <see cref="SearchValues{T}"/> of strings (a
    /// vectorized Teddy search when all are ASCII and at least two characters long) and single-character
    /// keywords in a <see cref="SearchValues{T}"/> of chars, with the rules each keyword serves.
    /// </summary>
    private sealed class KeywordIndex
    {
        // Keywords are searched in sorted groups of at most 16: the vectorized search (Teddy) over one large set
        // matches its buckets too often on ordinary text; a few smaller sets were measured 25% faster end to end
        // (groups of 8 or 32 were slower than 16, see docs/performance.md).
        private const int GroupSize = 16;
        private readonly SearchValues<string>[] _groups;
        private readonly SearchValues<string>[] _nonAsciiGroups;
        private readonly SearchValues<char>? _chars;
        private readonly Dictionary<char, (string Keyword, int[] Rules)[]> _byFirstChar;
        private readonly Dictionary<char, int[]> _byChar;
        private readonly StringComparison _comparison;
        private readonly bool _caseSensitive;

        private KeywordIndex(Dictionary<string, List<int>> map, bool caseSensitive)
        {
            _caseSensitive = caseSensitive;
            _comparison = caseSensitive ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
            var longer = map.Where(kv => kv.Key.Length > 1).ToList();
            var single = map.Where(kv => kv.Key.Length == 1).ToList();
            _byFirstChar = longer
                .GroupBy(kv => Fold(kv.Key[0]))
                .ToDictionary(g => g.Key, g => g.Select(kv => (kv.Key, kv.Value.Distinct().ToArray())).ToArray());
            _byChar = single.ToDictionary(kv => Fold(kv.Key[0]), kv => kv.Value.Distinct().ToArray());
            // Non-ASCII keywords get groups of their own: one of them in a group turns its search from the
            // vectorized ASCII algorithm into a much slower general one.
            // They are searched only in text that has a non-ASCII character at all (one vectorized check).
            _groups = [.. longer.Select(kv => kv.Key).Where(k => System.Text.Ascii.IsValid(k)).Order(StringComparer.Ordinal).Chunk(GroupSize)
                .Select(group => SearchValues.Create(group, _comparison))];
            _nonAsciiGroups = [.. longer.Select(kv => kv.Key).Where(k => !System.Text.Ascii.IsValid(k)).Order(StringComparer.Ordinal).Chunk(GroupSize)
                .Select(group => SearchValues.Create(group, _comparison))];

            if (single.Count > 0)
            {
                var chars = single.Select(kv => kv.Key[0]).ToList();
                if (!caseSensitive) chars.AddRange(chars.Select(char.ToUpperInvariant).ToList());
                _chars = SearchValues.Create(chars.Distinct().ToArray());
            }
        }

        private char Fold(char c) => _caseSensitive ? c : char.ToLowerInvariant(c);

        public static KeywordIndex? Build(Rule[] rules, Detector owner, bool caseSensitive)
        {
            var map = new Dictionary<string, List<int>>(caseSensitive ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase);
            void Add(string keyword, Rule rule)
            {
                if (!map.TryGetValue(keyword, out var list))
                {
                    map[keyword] = list = [];
                }

                list.Add(owner._ruleIndex[rule]);
            }

            foreach (var rule in rules)
            {
                foreach (var keyword in rule.Keywords)
                {
                    // Case-insensitive search stays on the vectorized ASCII path only if every keyword is ASCII;
                    // a non-ASCII keyword is searched case-sensitively in its usual spellings instead.
                    var ascii = System.Text.Ascii.IsValid(keyword);
                    if (rule.CaseSensitiveKeywords || !ascii)
                    {
                        if (!caseSensitive) continue;
                        if (rule.CaseSensitiveKeywords)
                        {
                            Add(keyword, rule);
                            continue;
                        }

                        foreach (var variant in new[] { keyword.ToLowerInvariant(), keyword.ToUpperInvariant(), char.ToUpperInvariant(keyword[0]) + keyword[1..].ToLowerInvariant() }.Distinct())
                        {
                            Add(variant, rule);
                        }
                    }
                    else if (!caseSensitive)
                    {
                        Add(keyword, rule);
                    }
                }
            }

            return map.Count == 0 ? null : new KeywordIndex(map, caseSensitive);
        }

        public void CollectHits(string text, int from, int to, Scratch scratch)
        {
            var span = text.AsSpan(from, to - from);
            var groups = _nonAsciiGroups.Length == 0 || System.Text.Ascii.IsValid(span) ? _groups : [.. _groups, .. _nonAsciiGroups];
            foreach (var values in groups)
            {
                var offset = 0;
                while (offset < span.Length)
                {
                    var found = span[offset..].IndexOfAny(values);
                    if (found < 0) break;
                    var position = offset + found;
                    if (_byFirstChar.TryGetValue(Fold(span[position]), out var entries))
                    {
                        var rest = span[position..];
                        foreach (var (keyword, rules) in entries)
                        {
                            if (rest.StartsWith(keyword, _comparison))
                            {
                                foreach (var r in rules) scratch.Add(r, from + position, text);
                            }
                        }
                    }

                    offset = position + 1;
                }
            }

            if (_chars is not null)
            {
                var offset = 0;
                while (offset < span.Length)
                {
                    var found = span[offset..].IndexOfAny(_chars);
                    if (found < 0) break;
                    var position = offset + found;
                    foreach (var r in _byChar[Fold(span[position])]) scratch.Add(r, from + position, text);
                    offset = position + 1;
                }
            }
        }
    }

    /// <summary>Per-scan working memory, pooled so that scanning millions of fields allocates little.</summary>
    private sealed class Scratch(Rule[] rules)
    {
        private readonly Rule[] _rules = rules;

        public List<int>?[] Hits { get; } = new List<int>?[rules.Length];

        public List<int> Used { get; } = [];

        public bool Serves(Rule[] rules) => ReferenceEquals(rules, _rules);

        public void Add(int rule, int position, string text)
        {
            if (_rules[rule].KeywordHitFilter is { } filter && !filter(text, position))
            {
                return;
            }

            var list = Hits[rule];
            if (list is null)
            {
                Hits[rule] = list = [];
            }

            if (list.Count == 0)
            {
                Used.Add(rule);
            }

            list.Add(position);
        }

        public void Clear()
        {
            foreach (var r in Used)
            {
                Hits[r]!.Clear();
            }

            Used.Clear();
        }
    }
}

/// <summary>A match that passed every check, before overlap resolution and masking.</summary>
internal readonly record struct Candidate(Rule Rule, int Start, int End, double Confidence);
