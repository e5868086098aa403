using System.Globalization;
using System.Text.Json.Nodes;
using Drydock.Gateway.Limits;
using Drydock.Gateway.Pipeline;

namespace Drydock.Gateway;

// Stage 2: what the key may ask for and how much: the model (its tier and the key's own list), the deployment
// (503 when what the name serves is contained), streaming, every field that bounds the answer's tokens, and the rate
// limits (429 with Retry-After), with the request's most tokens reserved.
public sealed partial class GatewayHost
{
    private async Task<int?> LimitAsync(Exchange exchange)
    {
        var context = exchange.Context;
        var request = exchange.Request;
        var key = exchange.Key;
        var tier = exchange.Tier;
        var audit = exchange.Audit;
        // A model server serves its default model for an empty name, so a request that names none (missing, null, not a
        // string, blank) would reach whatever it serves, a contained model too: refused before anything else.
        if (request["model"] is not JsonValue named || named.GetValueKind() != System.Text.Json.JsonValueKind.String || string.IsNullOrWhiteSpace((string?)named))
        {
            audit["model"] = exchange.LoggedModel = "";
            return await Error(context, 400, "invalid_model", "the request must name its model as a non-empty string").ConfigureAwait(false);
        }

        var model = exchange.Model = (string)named!;
        audit["model"] = exchange.LoggedModel = LoggedModel(model, audit);
        if (!tier.Allows(model) || (key.Models.Count > 0 && !key.Models.Contains(model))) return await Error(context, 403, "model_not_allowed", $"model '{model}' is not allowed for this key").ConfigureAwait(false);
        var route = exchange.Route = _operations.Resolve(model);
        if (route.Upstream is null)
        {
            Metrics.Blocked("disabled");
            return await Error(context, 503, "model_disabled", $"model '{model}' is disabled by an administrator").ConfigureAwait(false);
        }

        if (route.Alias) audit["upstreamModel"] = route.Upstream;
        var stream = exchange.Stream = request["stream"] is JsonValue s && s.TryGetValue<bool>(out var st) && st;
        if (stream && !tier.Streaming) return await Error(context, 403, "streaming_not_allowed", "streaming is not allowed for this key's tier").ConfigureAwait(false);
        var budget = TokenLimits.Apply(request, tier);
        if (budget.Refused) return await Error(context, budget.Status, budget.Code!, budget.Message!).ConfigureAwait(false);
        if (budget.Reserve > tier.TokensPerMinute)
        {
            return await Error(context, 403, "max_tokens_exceeded", $"the request may use {budget.Reserve} tokens (its text and every choice's maximum), above the tier's {tier.TokensPerMinute} tokens per minute").ConfigureAwait(false);
        }

        // The most the request can use is reserved before it is forwarded, so concurrent requests cannot overrun the
        // minute together; the pipeline settles the reservation to what the answer used.
        var admission = exchange.Admission = await _state.AdmitAsync(key.Id, tier.RequestsPerMinute, tier.TokensPerMinute, budget.Reserve).ConfigureAwait(false);
        if (admission.Throttled) audit["throttled"] = true;
        if (admission.Allowed) return null;
        if (admission.Refusal == "revoked")
        {
            Metrics.Blocked("auth");
            return await Error(context, 401, "invalid_api_key", "missing, wrong, revoked or expired API key").ConfigureAwait(false);
        }

        Metrics.Blocked("rate");
        context.Response.Headers.RetryAfter = admission.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        var limit = admission.Refusal == "tokens" ? $"{tier.TokensPerMinute} tokens" : $"{tier.RequestsPerMinute} requests";
        return await Error(context, 429, "rate_limited", $"over {limit} per minute{(admission.Throttled ? " (this key is throttled to a tenth for unusual use)" : "")}").ConfigureAwait(false);
    }

    // The model string is text the client wrote: kept as sent only when the detectors (and the canaries) find nothing in
    // it, else as gateway.audit.text keeps text (none: withheld; hash; redacted) with the types of what was found.
    private string LoggedModel(string model, JsonObject audit)
    {
        var found = _guard.Findings(model, _operations.Canaries);
        if (found.Count == 0) return model;
        audit["modelFindings"] = Types(found);
        return _audit?.Keep(model, Redact) ?? "[withheld]";
    }
}
