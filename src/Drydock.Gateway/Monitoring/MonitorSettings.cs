using Drydock.Detection.Configuration;

namespace Drydock.Gateway.Monitoring;

/// <summary>
/// The <c>monitor:</c> section of drydock.yaml: how the gateway keeps its signals (bucket and flush), which periods
/// <c>drydock monitor</c> compares by default, how much baseline it needs, and the threshold of each test.
/// </summary>
public sealed record MonitorSettings
{
    /// <summary>The gateway keeps its signal log (default); false: none is kept, and the gateway says so at start.</summary>
    public bool Signals { get; init; } = true;

    /// <summary>Seconds per signal bucket.</summary>
    public int BucketSeconds { get; init; } = 60;

    /// <summary>Seconds between writes of the signal log (off the request path).</summary>
    public int FlushSeconds { get; init; } = 10;

    /// <summary>The gateway: seconds between its writes of the hourly signal summaries to the registry (0: it writes none).</summary>
    public int PublishSeconds { get; init; } = 300;

    /// <summary>The writer of the registry's signal summaries deletes those of hours older than this many days.</summary>
    public int SummaryRetentionDays { get; init; } = 400;

    /// <summary>The window compared: the last this many hours.</summary>
    public int WindowHours { get; init; } = 24;

    /// <summary>The baseline: this many days before the window.</summary>
    public int BaselineDays { get; init; } = 7;

    /// <summary>Fewer baseline requests than this: no test runs, the report says the baseline is too small.</summary>
    public long MinBaselineRequests { get; init; } = 500;

    /// <summary>Fewer window requests than this: no test runs, the report says the window is too small.</summary>
    public long MinWindowRequests { get; init; } = 50;

    /// <summary>Population stability index at or above which a distribution (finding mix, prompt length) has drifted.</summary>
    public double Psi { get; init; } = 0.25;

    /// <summary>Kolmogorov–Smirnov distance at or above which a distribution (prompt length, latency) has drifted.</summary>
    public double Ks { get; init; } = 0.2;

    /// <summary>Latency shifts while both medians stay under this many milliseconds do not alert (scheduling noise, not a regression).</summary>
    public int LatencyFloorMs { get; init; } = 50;

    /// <summary>Chi-square p-value below which a rate's change is significant.</summary>
    public double PValue { get; init; } = 0.001;

    /// <summary>The change of a rate (absolute) that must also be reached, so a tiny shift over much traffic does not alert.</summary>
    public double RateChange { get; init; } = 0.02;

    /// <summary>Share of window requests in template clusters the baseline never had (above the baseline's own novelty).</summary>
    public double NewTemplates { get; init; } = 0.2;

    /// <summary>Requests per hour this many times the baseline's (or below its inverse).</summary>
    public double VolumeRatio { get; init; } = 3;

    /// <summary>Canary hits in the window that alert (any, by default).</summary>
    public long CanaryHits { get; init; } = 1;

    /// <summary><c>drydock monitor --watch</c>: the URL its alerts are posted to (JSON), or null.</summary>
    public Uri? Webhook { get; init; }

    /// <summary>The environment variable holding the webhook URL (a URL that carries a token stays out of drydock.yaml), or null.</summary>
    public string? WebhookEnv { get; init; }

    /// <summary>Retries of a webhook POST that failed (backoff 1 s, 2 s, 4 s, …).</summary>
    public int WebhookRetries { get; init; } = 4;

    /// <summary><c>drydock monitor --watch</c> opens an incident (drift, abuse, regression) in the registry for each alert.</summary>
    public bool Incidents { get; init; }

    /// <summary><c>drydock monitor evaluate</c>: the rise of an attack success rate over the gate's baseline that is a regression.</summary>
    public double EvaluateRegression { get; init; } = 0.05;

    /// <summary><c>drydock monitor evaluate</c> on a regression: off, disable (kill switch) or revert the alias.</summary>
    public string Contain { get; init; } = "off";

    /// <summary>The shape of the <c>monitor:</c> section.</summary>
    public static MapShape Shape { get; } = ConfigShape.Map(
        ("signals", ConfigShape.Boolean),
        ("bucket-seconds", ConfigShape.Integer(1, 3600)),
        ("flush-seconds", ConfigShape.Integer(1, 3600)),
        ("publish-seconds", ConfigShape.Integer(0, 86400)),
        ("summary-retention-days", ConfigShape.Integer(1, 3660)),
        ("window-hours", ConfigShape.Integer(1, 24 * 366)),
        ("baseline-days", ConfigShape.Integer(1, 366)),
        ("min-baseline-requests", ConfigShape.Integer(1)),
        ("min-window-requests", ConfigShape.Integer(1)),
        ("psi", ConfigShape.Number(0)),
        ("ks", ConfigShape.Number(0, 1)),
        ("latency-floor-ms", ConfigShape.Integer(0)),
        ("p-value", ConfigShape.Number(0, 1)),
        ("rate-change", ConfigShape.Number(0, 1)),
        ("new-templates", ConfigShape.Number(0, 1)),
        ("volume-ratio", ConfigShape.Number(1)),
        ("canary-hits", ConfigShape.Integer(1)),
        ("webhook", ConfigShape.Text),
        ("webhook-env", ConfigShape.Text),
        ("webhook-retries", ConfigShape.Integer(0, 10)),
        ("incidents", ConfigShape.Boolean),
        ("evaluate-regression", ConfigShape.Number(0, 1)),
        ("contain", ConfigShape.OneOf("off", "disable", "revert")));

    /// <summary>The settings of a checked <c>monitor:</c> section (null: the defaults).</summary>
    public static MonitorSettings Read(ConfigNode? monitor)
    {
        var d = new MonitorSettings();
        if (monitor is null) return d;
        if (monitor.Number("psi") is <= 0) throw monitor.Error("psi", "must be above 0");
        if (monitor.Number("p-value") is <= 0) throw monitor.Error("p-value", "must be above 0");
        Uri? webhook = null;
        if (monitor.Text("webhook") is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out webhook) || webhook.Scheme is not ("http" or "https")))
        {
            throw monitor.Error("webhook", "must be an http(s) URL");
        }

        if (webhook is not null && monitor.Has("webhook-env")) throw monitor.Error("webhook-env", "give webhook or webhook-env, not both");
        var retention = monitor.Integer("summary-retention-days") ?? d.SummaryRetentionDays;
        var compared = (monitor.Integer("window-hours") ?? d.WindowHours) + (24L * (monitor.Integer("baseline-days") ?? d.BaselineDays));
        if (retention * 24L < compared)
        {
            throw monitor.Error(monitor.Has("summary-retention-days") ? "summary-retention-days" : "baseline-days", $"the registry's summaries would be deleted before the default periods ({compared} h: window-hours + baseline-days) are compared: keep summary-retention-days at least {(compared + 23) / 24}");
        }

        return new MonitorSettings
        {
            PublishSeconds = monitor.Integer("publish-seconds") ?? d.PublishSeconds,
            SummaryRetentionDays = retention,
            Webhook = webhook,
            WebhookEnv = monitor.Text("webhook-env"),
            WebhookRetries = monitor.Integer("webhook-retries") ?? d.WebhookRetries,
            Incidents = monitor.Boolean("incidents") ?? d.Incidents,
            EvaluateRegression = monitor.Number("evaluate-regression") ?? d.EvaluateRegression,
            Contain = monitor.Text("contain") ?? d.Contain,
            Signals = monitor.Boolean("signals") ?? d.Signals,
            BucketSeconds = monitor.Integer("bucket-seconds") ?? d.BucketSeconds,
            FlushSeconds = monitor.Integer("flush-seconds") ?? d.FlushSeconds,
            WindowHours = monitor.Integer("window-hours") ?? d.WindowHours,
            BaselineDays = monitor.Integer("baseline-days") ?? d.BaselineDays,
            MinBaselineRequests = monitor.Integer("min-baseline-requests") ?? d.MinBaselineRequests,
            MinWindowRequests = monitor.Integer("min-window-requests") ?? d.MinWindowRequests,
            Psi = monitor.Number("psi") ?? d.Psi,
            Ks = monitor.Number("ks") ?? d.Ks,
            LatencyFloorMs = monitor.Integer("latency-floor-ms") ?? d.LatencyFloorMs,
            PValue = monitor.Number("p-value") ?? d.PValue,
            RateChange = monitor.Number("rate-change") ?? d.RateChange,
            NewTemplates = monitor.Number("new-templates") ?? d.NewTemplates,
            VolumeRatio = monitor.Number("volume-ratio") ?? d.VolumeRatio,
            CanaryHits = monitor.Integer("canary-hits") ?? d.CanaryHits,
        };
    }
}
