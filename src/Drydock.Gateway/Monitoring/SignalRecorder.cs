using System.Globalization;
using System.Text.Json;
using Drydock.Detection;
using Drydock.Evaluation.Judges;
using Drydock.Gateway.Audit;

namespace Drydock.Gateway.Monitoring;

/// <summary>What one request gave the signal log (counts, types and scores; the prompt's text is read only for its length and template id).</summary>
internal readonly record struct SignalSample(
    string Alias,
    string Tier,
    string Key,
    double Milliseconds,
    long Tokens,
    bool UpstreamError,
    IReadOnlyList<Finding>? Input,
    bool InputBlocked,
    IReadOnlyList<Finding>? Output,
    bool OutputBlocked,
    bool Canary,
    string? Answer,
    double Abuse,
    string? Prompt,
    int PromptLength);

/// <summary>
/// The gateway's signals over time: per model alias, tier and key id, in buckets of <see cref="MonitorSettings.BucketSeconds"/>,
/// the counts of <see cref="SignalCounts"/>. A request adds to its bucket under one short lock (the refusal judge and the
/// template sketch run before it); a timer swaps the buckets out every <see cref="MonitorSettings.FlushSeconds"/> and
/// appends them as JSON lines to <c>signals-YYYY-MM-DD.jsonl</c> beside the request log, so no request waits on the
/// disk. A bucket flushed in parts is several rows with the same start: readers sum them. Files older than the
/// request log's retention are deleted at start and every hour.
/// </summary>
public sealed class SignalRecorder : IDisposable
{
    private static readonly JsonWriterOptions s_json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly string _folder;
    private readonly int _retentionDays;
    private readonly MonitorSettings _settings;
    private readonly double _abuseThreshold;
    private readonly TemplateSketch _templates;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Lock _writing = new();
    private readonly ITimer _flush;
    private readonly ITimer _purge;
    private Dictionary<(long At, string Alias, string Tier, string Key), SignalCounts> _buckets = [];

    /// <summary>Keeps signals in <paramref name="folder"/>; <paramref name="templateKey"/> keys the template ids.</summary>
    public SignalRecorder(string folder, int retentionDays, MonitorSettings settings, double abuseThreshold, byte[] templateKey, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _folder = folder;
        _retentionDays = retentionDays;
        _settings = settings;
        _abuseThreshold = abuseThreshold;
        _templates = new TemplateSketch(templateKey);
        _time = time ?? TimeProvider.System;
        OwnerOnly.Folder(folder);
        _flush = _time.CreateTimer(_ => Flush(), null, TimeSpan.FromSeconds(settings.FlushSeconds), TimeSpan.FromSeconds(settings.FlushSeconds));
        _purge = _time.CreateTimer(_ => Purge(_time.GetUtcNow()), null, TimeSpan.Zero, TimeSpan.FromHours(1));
    }

    /// <summary>The signal log files in <paramref name="folder"/> with their days.</summary>
    public static IEnumerable<(string File, DateOnly Day)> Files(string folder)
    {
        if (!Directory.Exists(folder)) yield break;
        foreach (var file in Directory.EnumerateFiles(folder, "signals-*.jsonl"))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (DateOnly.TryParseExact(name["signals-".Length..], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)) yield return (file, day);
        }
    }

    /// <summary>Adds one request to its bucket.</summary>
    internal void Record(in SignalSample sample)
    {
        // Text is read here, before the lock, and nothing of it is kept but a length, a verdict and a hashed id.
        var refusal = sample.Answer is { Length: > 0 } answer ? RefusalJudge.IsRefusal(answer) : (bool?)null;
        var template = sample.Prompt is null ? null : _templates.Cluster(sample.Prompt);
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var at = now - (now % _settings.BucketSeconds);
        lock (_lock)
        {
            var key = (at, sample.Alias, sample.Tier, sample.Key);
            if (!_buckets.TryGetValue(key, out var c)) _buckets[key] = c = new SignalCounts();
            c.Requests++;
            c.Tokens += sample.Tokens;
            c.LatencyMs += (long)Math.Round(sample.Milliseconds);
            c.Latency[SignalCounts.Bin(sample.Milliseconds)]++;
            if (sample.UpstreamError) c.UpstreamErrors++;
            if (sample.Canary) c.CanaryHits++;
            if (refusal is { } r)
            {
                c.Answers++;
                if (r) c.Refusals++;
            }

            if (sample.Abuse > 0) c.ExtractionScored++;
            if (sample.Abuse >= _abuseThreshold) c.ExtractionHigh++;
            c.ExtractionMax = Math.Max(c.ExtractionMax, sample.Abuse);
            if (sample.Prompt is not null) c.PromptLength[SignalCounts.Bin(sample.PromptLength)]++;
            if (sample.Input is { Count: > 0 }) _ = sample.InputBlocked ? c.InputBlockedRequests++ : c.InputFlaggedRequests++;
            else if (sample.InputBlocked) c.InputBlockedRequests++;
            if (sample.OutputBlocked) c.OutputBlockedRequests++;
            else if (sample.Output is { Count: > 0 }) c.OutputRedactedRequests++;
            if (template is not null) c.Templates[template] = c.Templates.GetValueOrDefault(template) + 1;
            Types(sample.InputBlocked ? c.InputBlocked : c.InputFlagged, sample.Input);
            Types(sample.OutputBlocked ? c.OutputBlocked : c.OutputRedacted, sample.Output);
        }
    }

    private static void Types(Dictionary<string, long> into, IReadOnlyList<Finding>? findings)
    {
        if (findings is null || findings.Count == 0) return;
        // Each type once per request: the rate of requests with it, not of matches.
        for (var i = 0; i < findings.Count; i++)
        {
            var type = findings[i].Type;
            var seen = false;
            for (var j = 0; j < i && !seen; j++) seen = findings[j].Type == type;
            if (!seen) into[type] = into.GetValueOrDefault(type) + 1;
        }
    }

    /// <summary>Writes every bucket held so far to the signal log (a write that fails keeps nothing back from serving: it is retried with the next).</summary>
    public void Flush()
    {
        lock (_writing)
        {
            Dictionary<(long At, string Alias, string Tier, string Key), SignalCounts> buckets;
            lock (_lock)
            {
                if (_buckets.Count == 0) return;
                buckets = _buckets;
                _buckets = [];
            }

            try
            {
                foreach (var day in buckets.GroupBy(b => DateTimeOffset.FromUnixTimeSeconds(b.Key.At).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)))
                {
                    var batch = new System.Buffers.ArrayBufferWriter<byte>(16 * 1024);
                    using (var w = new Utf8JsonWriter(batch, s_json))
                    {
                        foreach (var ((at, alias, tier, key), counts) in day)
                        {
                            counts.Write(w, at, alias, tier, key);
                            w.Flush();
                            w.Reset();
                            "\n"u8.CopyTo(batch.GetSpan(1));
                            batch.Advance(1);
                        }
                    }

                    using var file = OwnerOnly.Append(Path.Combine(_folder, $"signals-{day.Key}.jsonl"));
                    var locked = OwnerOnly.LockForAppend(file);
                    try
                    {
                        file.Seek(0, SeekOrigin.End);
                        file.Write(batch.WrittenSpan);
                    }
                    finally
                    {
                        if (locked) OwnerOnly.Unlock(file);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Put back, to be written with the next flush.
                lock (_lock)
                {
                    foreach (var (k, v) in buckets)
                    {
                        if (_buckets.TryGetValue(k, out var held)) held.Add(v);
                        else _buckets[k] = v;
                    }
                }

                LastError = e.Message;
            }
        }
    }

    /// <summary>Why the last write of the signal log failed, or null.</summary>
    public string? LastError { get; private set; }

    /// <summary>Deletes signal files older than the retention; returns how many.</summary>
    public int Purge(DateTimeOffset now)
    {
        var oldest = DateOnly.FromDateTime(now.UtcDateTime).AddDays(-_retentionDays + 1);
        var deleted = 0;
        foreach (var (file, day) in Files(_folder))
        {
            if (day >= oldest) continue;
            File.Delete(file);
            deleted++;
        }

        return deleted;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _flush.Dispose();
        _purge.Dispose();
        Flush();
    }
}
