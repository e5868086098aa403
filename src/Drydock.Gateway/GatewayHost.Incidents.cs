using Drydock.Detection;
using Drydock.Gateway.Guards;
using Drydock.Gateway.Monitoring;
using Drydock.Gateway.Pipeline;
using Drydock.Provenance.Registry;

namespace Drydock.Gateway;

// Incidents the request path opens: extraction abuse (the key is throttled) and a canary in an answer.
public sealed partial class GatewayHost
{
    // Feeds the extraction monitor; at the threshold, throttles the key, alerts and opens an incident. A key already
    // throttled (by this or another instance sharing the state) is not alerted on again.
    private async Task WatchAsync(Exchange exchange)
    {
        var key = exchange.Key;
        var score = _monitor.Observe(key.Id, exchange.Prompt, exchange.Tier.RequestsPerMinute);
        exchange.Abuse = score.Score;
        if (score.Score > 0) exchange.Audit["abuse"] = score.Score;
        if (score.Score < _monitor.Threshold || exchange.Admission.Throttled) return;
        await _state.ThrottleAsync(key.Id, _options.ThrottleFor).ConfigureAwait(false);
        Metrics.AbuseAlert();
        var incident = Record(() => _operations.OpenIncident("extraction-abuse", "high", $"key:{key.Id}", $"abuse score {score.Score:0.00} ({score.Signals}) on model {exchange.LoggedModel}; key throttled for {_options.ThrottleFor.TotalMinutes:0} min"));
        exchange.Audit["alert"] = "extraction-abuse";
        GatewayLog.Abuse(_log, key.Id, score.Score, score.Signals, incident);
    }

    // A registered canary appeared in an answer (already blocked): alert, and open an incident on the model.
    private void CanaryTripped(Exchange exchange, GuardedAnswer guarded)
    {
        Metrics.CanaryTrip();
        exchange.Audit["alert"] = "canary";
        var rules = string.Join(",", guarded.Findings.Where(f => f.Category == Categories.Canary).Select(f => f.Excerpt).ToArray());
        var incident = Record(() => _operations.OpenIncident("canary-leak", "critical", $"model:{exchange.LoggedModel}", $"a registered canary ({rules}) appeared in an answer to key {exchange.Key.Id}; the answer was blocked"));
        exchange.Audit["incident"] = incident;
        GatewayLog.CanaryTripped(_log, exchange.LoggedModel, exchange.Key.Id, incident);
    }

    // An answer repeated a training record (flagged, redacted or blocked as the tier says): alert, count, and open an
    // incident naming the model version, the dataset versions and the record ids (never the text).
    private void Regurgitated(Exchange exchange, RegurgitationGuard tripwire)
    {
        var records = string.Join(",", tripwire.Hits.Select(h => h.Record).Distinct(StringComparer.Ordinal).ToArray());
        var action = tripwire.Mode switch { RegurgitationMode.Block => "blocked", RegurgitationMode.Redact => "redacted", _ => "flagged" };
        var longest = tripwire.Hits.Max(h => h.Grams);
        exchange.Audit["regurgitation"] = tripwire.Hits.Count;
        if (exchange.Audit["alert"] is null) exchange.Audit["alert"] = "regurgitation";
        var incident = Record(() => _operations.OpenIncident("regurgitation", "high", $"model:{exchange.LoggedModel}",
            $"an answer to key {exchange.Key.Id} repeated training record {records} (model version {tripwire.Index.ModelVersion}, dataset versions {string.Join(",", tripwire.Index.Datasets)}; {longest} word {tripwire.Index.N}-grams in a row); the answer was {action}"));
        if (exchange.Audit["incident"] is null) exchange.Audit["incident"] = incident;
        else exchange.Audit["regurgitationIncident"] = incident;
        GatewayLog.Regurgitation(_log, exchange.LoggedModel, exchange.Key.Id, records, action, incident);
    }

    // Registry writes from the request path: a failure is logged, never turned into a passed answer.
    private string? Record(Func<string?> write)
    {
        try
        {
            return write();
        }
        catch (Exception e) when (e is System.Data.Common.DbException or RegistryException or InvalidOperationException)
        {
            GatewayLog.RecordFailed(_log, e.Message);
            return null;
        }
    }
}
