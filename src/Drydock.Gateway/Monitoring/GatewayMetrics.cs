using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Drydock.Gateway.Monitoring;

/// <summary>
/// The gateway's metrics, kept once and published twice: as OpenTelemetry instruments (meter and activity source
/// <c>Drydock.Gateway</c>, for any OpenTelemetry SDK or collector in the process) and in the Prometheus text format
/// at <c>/metrics</c>. Labels carry no key, prompt or value: endpoint, status, stage, category.
/// </summary>
public sealed class GatewayMetrics : IDisposable
{
    /// <summary>The name of the meter and of the activity source.</summary>
    public const string Name = "Drydock.Gateway";

    private static readonly double[] s_buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    private readonly ConcurrentDictionary<(string Endpoint, int Status), long> _requests = new();
    private readonly ConcurrentDictionary<string, long> _blocked = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _findings = new(StringComparer.Ordinal);
    private readonly long[] _bucketCounts = new long[s_buckets.Length + 1];
    private readonly Meter _meter = new(Name);
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _requestCounter;
    private readonly Counter<long> _blockedCounter;
    private long _durationCount;
    private long _durationMicros;
    private long _tokens;
    private long _abuseAlerts;
    private long _canaryTrips;

    /// <summary>Creates the instruments.</summary>
    public GatewayMetrics()
    {
        _duration = _meter.CreateHistogram<double>("drydock.gateway.request.duration", "s", "Time from request to the last byte of the answer");
        _requestCounter = _meter.CreateCounter<long>("drydock.gateway.requests", description: "Requests by endpoint and status");
        _blockedCounter = _meter.CreateCounter<long>("drydock.gateway.blocked", description: "Requests or answers refused, by stage");
        _meter.CreateObservableCounter("drydock.gateway.tokens", () => Interlocked.Read(ref _tokens), description: "Tokens used (reported by the upstream, else estimated)");
        _meter.CreateObservableCounter("drydock.gateway.canary.trips", () => Interlocked.Read(ref _canaryTrips), description: "Answers that carried a registered canary");
        _meter.CreateObservableCounter("drydock.gateway.abuse.alerts", () => Interlocked.Read(ref _abuseAlerts), description: "Keys alerted on and throttled for extraction abuse");
    }

    /// <summary>The source of the gateway's spans (one per request; free when nothing listens).</summary>
    public static ActivitySource Activities { get; } = new(Name);

    /// <summary>Counts a finished request.</summary>
    public void Request(string endpoint, int status, double seconds)
    {
        _requests.AddOrUpdate((endpoint, status), 1, (_, n) => n + 1);
        _requestCounter.Add(1, new KeyValuePair<string, object?>("endpoint", endpoint), new KeyValuePair<string, object?>("status", status));
        _duration.Record(seconds);
        var bucket = Array.BinarySearch(s_buckets, seconds);
        Interlocked.Increment(ref _bucketCounts[bucket < 0 ? ~bucket : bucket]);
        Interlocked.Increment(ref _durationCount);
        Interlocked.Add(ref _durationMicros, (long)(seconds * 1_000_000));
    }

    /// <summary>Counts a refusal at <paramref name="stage"/> (auth, rate, input, output, canary, disabled).</summary>
    public void Blocked(string stage)
    {
        _blocked.AddOrUpdate(stage, 1, (_, n) => n + 1);
        _blockedCounter.Add(1, new KeyValuePair<string, object?>("stage", stage));
    }

    /// <summary>Counts findings by category.</summary>
    public void Findings(IEnumerable<string> categories)
    {
        foreach (var c in categories) _findings.AddOrUpdate(c, 1, (_, n) => n + 1);
    }

    /// <summary>Adds used tokens.</summary>
    public void Tokens(long tokens) => Interlocked.Add(ref _tokens, tokens);

    /// <summary>Counts a canary trip.</summary>
    public void CanaryTrip() => Interlocked.Increment(ref _canaryTrips);

    /// <summary>Counts an abuse alert.</summary>
    public void AbuseAlert() => Interlocked.Increment(ref _abuseAlerts);

    /// <summary>The Prometheus text exposition (format 0.0.4).</summary>
    public string Prometheus()
    {
        var b = new StringBuilder();
        void Line(string text) => b.Append(text).Append('\n');
        string N(double v) => v.ToString("0.######", CultureInfo.InvariantCulture);
        Line("# HELP drydock_gateway_requests_total Requests by endpoint and status.");
        Line("# TYPE drydock_gateway_requests_total counter");
        foreach (var ((endpoint, status), n) in _requests.OrderBy(r => r.Key.Endpoint, StringComparer.Ordinal).ThenBy(r => r.Key.Status)) Line($"drydock_gateway_requests_total{{endpoint=\"{endpoint}\",status=\"{status}\"}} {n}");
        Line("# HELP drydock_gateway_blocked_total Requests or answers refused, by stage.");
        Line("# TYPE drydock_gateway_blocked_total counter");
        foreach (var (stage, n) in _blocked.OrderBy(r => r.Key, StringComparer.Ordinal)) Line($"drydock_gateway_blocked_total{{stage=\"{stage}\"}} {n}");
        Line("# HELP drydock_gateway_findings_total Guard findings by category.");
        Line("# TYPE drydock_gateway_findings_total counter");
        foreach (var (category, n) in _findings.OrderBy(r => r.Key, StringComparer.Ordinal)) Line($"drydock_gateway_findings_total{{category=\"{category}\"}} {n}");
        Line("# HELP drydock_gateway_tokens_total Tokens used (reported by the upstream, else estimated).");
        Line("# TYPE drydock_gateway_tokens_total counter");
        Line($"drydock_gateway_tokens_total {Interlocked.Read(ref _tokens)}");
        Line("# HELP drydock_gateway_canary_trips_total Answers that carried a registered canary.");
        Line("# TYPE drydock_gateway_canary_trips_total counter");
        Line($"drydock_gateway_canary_trips_total {Interlocked.Read(ref _canaryTrips)}");
        Line("# HELP drydock_gateway_abuse_alerts_total Keys alerted on and throttled for extraction abuse.");
        Line("# TYPE drydock_gateway_abuse_alerts_total counter");
        Line($"drydock_gateway_abuse_alerts_total {Interlocked.Read(ref _abuseAlerts)}");
        Line("# HELP drydock_gateway_request_duration_seconds Time from request to the last byte of the answer.");
        Line("# TYPE drydock_gateway_request_duration_seconds histogram");
        long cumulative = 0;
        for (var i = 0; i < s_buckets.Length; i++)
        {
            cumulative += Interlocked.Read(ref _bucketCounts[i]);
            Line($"drydock_gateway_request_duration_seconds_bucket{{le=\"{N(s_buckets[i])}\"}} {cumulative}");
        }

        cumulative += Interlocked.Read(ref _bucketCounts[^1]);
        Line($"drydock_gateway_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}");
        Line($"drydock_gateway_request_duration_seconds_sum {N(Interlocked.Read(ref _durationMicros) / 1e6)}");
        Line($"drydock_gateway_request_duration_seconds_count {Interlocked.Read(ref _durationCount)}");
        return b.ToString();
    }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
