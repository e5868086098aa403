using System.Text.RegularExpressions;
using Drydock.Datasets.Similarity;

namespace Drydock.Gateway.Monitoring;

/// <summary>One key's extraction-abuse score and the signals behind it, each a fraction in [0, 1].</summary>
public sealed record AbuseScore(double Score, double NearDuplicates, double PrefixProbing, double Continuation, double UnusualLength, double Volume)
{
    /// <summary>The signals above zero, for alerts and the audit line.</summary>
    public string Signals => string.Join(",", new[] { ("near-duplicates", NearDuplicates), ("prefix-probing", PrefixProbing), ("continuation", Continuation), ("unusual-length", UnusualLength), ("volume", Volume) }
        .Where(s => s.Item2 > 0).Select(s => $"{s.Item1}={s.Item2:0.00}").ToArray());
}

/// <summary>
/// Watches each key's recent prompts (the last <see cref="Window"/> within ten minutes) for the shape of a
/// training-data extraction attack: bursts of near-duplicate prompts (MinHash, Jaccard ≥ 0.8), systematic prefix
/// probing (many prompts opening with the same 24 characters and differing after), requests for verbatim
/// continuation ("continue", "word for word", "repeat the text"), prompt lengths far from the key's usual ones, and
/// a request rate (this or the last minute) above half the tier's limit. The score is a weighted sum; it counts only once a key has sent
/// <see cref="MinPrompts"/> prompts in the window, so a handful of ordinary requests never scores. Thread-safe.
/// </summary>
public sealed partial class ExtractionMonitor(double threshold = 0.5)
{
    /// <summary>Prompts remembered per key.</summary>
    public const int Window = 40;

    /// <summary>Prompts in the window before a key is scored.</summary>
    public const int MinPrompts = 10;

    private static readonly TimeSpan s_horizon = TimeSpan.FromMinutes(10);
    private readonly Dictionary<string, KeyHistory> _keys = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>The score at or above which a key is alerted on and throttled.</summary>
    public double Threshold { get; } = threshold;

    /// <summary>Records a prompt of <paramref name="keyId"/> and returns the key's score now.</summary>
    public AbuseScore Observe(string keyId, string prompt, int requestsPerMinute)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var now = DateTimeOffset.UtcNow;
        var entry = new Prompt(now, NearDuplicateIndex.Signature(prompt), prompt.Length, Prefix(prompt), Continuation().IsMatch(prompt));
        KeyHistory history;
        lock (_lock)
        {
            if (!_keys.TryGetValue(keyId, out history!)) _keys[keyId] = history = new KeyHistory();
        }

        lock (history) return history.Add(entry, now, requestsPerMinute);
    }

    private static string? Prefix(string prompt)
    {
        var folded = string.Join(' ', prompt.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();
        return folded.Length >= 32 ? folded[..24] : null;
    }

    private sealed record Prompt(DateTimeOffset At, uint[] Signature, int Length, string? Prefix, bool AsksContinuation)
    {
        // True when an earlier prompt in the window nearly duplicates this one (set once, on arrival).
        public bool NearDuplicate { get; set; }
    }

    private sealed class KeyHistory
    {
        private readonly Queue<Prompt> _recent = new();
        private readonly Dictionary<string, int> _prefixCounts = new(StringComparer.Ordinal);

        // The key's usual prompt length, over its whole history (Welford's running mean and variance).
        private long _count;
        private long _minute;
        private int _thisMinute;
        private int _lastMinute;
        private double _mean;
        private double _m2;

        public AbuseScore Add(Prompt prompt, DateTimeOffset now, int requestsPerMinute)
        {
            while (_recent.Count > 0 && (_recent.Count >= Window || now - _recent.Peek().At > s_horizon)) _recent.Dequeue();
            var unusual = _count >= MinPrompts && Math.Abs(prompt.Length - _mean) > 3 * Math.Sqrt(_m2 / (_count - 1)) + 8;
            _count++;
            var delta = prompt.Length - _mean;
            _mean += delta / _count;
            _m2 += delta * (prompt.Length - _mean);
            var minute = now.ToUnixTimeSeconds() / 60;
            if (minute != _minute)
            {
                _lastMinute = minute == _minute + 1 ? _thisMinute : 0;
                _thisMinute = 0;
                _minute = minute;
            }

            _thisMinute++;
            foreach (var p in _recent)
            {
                if (NearDuplicateIndex.Similarity(prompt.Signature, p.Signature) < 0.8) continue;
                prompt.NearDuplicate = true;
                break;
            }

            _recent.Enqueue(prompt);
            if (_recent.Count < MinPrompts) return new AbuseScore(0, 0, 0, 0, 0, 0);

            // One pass over the window: near-duplicates (not counting the first prompt), continuation requests and the
            // most common opening.
            int nearDuplicates = 0, continuations = 0, prefixes = 0, index = 0;
            _prefixCounts.Clear();
            foreach (var p in _recent)
            {
                if (index++ > 0 && p.NearDuplicate) nearDuplicates++;
                if (p.AsksContinuation) continuations++;
                if (p.Prefix is null) continue;
                var n = _prefixCounts[p.Prefix] = _prefixCounts.GetValueOrDefault(p.Prefix) + 1;
                prefixes = Math.Max(prefixes, n);
            }

            var count = (double)_recent.Count;
            var near = nearDuplicates / (count - 1);
            var prefix = prefixes >= 3 ? prefixes / count : 0;
            var continuation = continuations / count;
            var length = unusual ? 1.0 : 0.0;
            var volume = Math.Clamp(((double)Math.Max(_thisMinute, _lastMinute) / Math.Max(1, requestsPerMinute) - 0.5) * 2, 0, 1);
            var score = Math.Clamp((0.35 * near) + (0.3 * prefix) + (0.3 * continuation) + (0.1 * length) + (0.15 * volume), 0, 1);
            return new AbuseScore(Math.Round(score, 2), Math.Round(near, 2), Math.Round(prefix, 2), Math.Round(continuation, 2), length, Math.Round(volume, 2));
        }
    }

    [GeneratedRegex(@"\b(?:continue|complete|finish|repeat|recite|reproduce|verbatim|word[- ]for[- ]word|exactly as|the rest of|what comes next|fortsetzen|continuez|continúa)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Continuation();
}
