using Drydock.Gateway.Keys;
using Drydock.Gateway.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Drydock.Gateway;

// Stage 1: who is asking. A bearer key that the key store knows, of a tier that is configured and is not the admin tier.
public sealed partial class GatewayHost
{
    internal ApiKey? Authenticate(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return _keys.Authenticate(header.StartsWith("Bearer ", StringComparison.Ordinal) ? header[7..].Trim() : null);
    }

    // Null when the key may go on (the exchange then holds the key and its tier); else the status of the refusal sent.
    private async Task<int?> AuthenticateAsync(Exchange exchange)
    {
        var context = exchange.Context;
        var key = Authenticate(context);
        if (key is null)
        {
            Metrics.Blocked("auth");
            return await Error(context, 401, "invalid_api_key", "missing, wrong, revoked or expired API key").ConfigureAwait(false);
        }

        exchange.Audit["key"] = key.Id;
        exchange.Audit["tier"] = key.Tier;
        if (key.Tier == GatewayOptions.AdminTier) return await Error(context, 403, "admin_key", "administrator keys reach only /admin").ConfigureAwait(false);
        if (!_options.Tiers.TryGetValue(key.Tier, out var tier)) return await Error(context, 403, "unknown_tier", $"the key's tier '{key.Tier}' is not configured").ConfigureAwait(false);
        exchange.Key = key;
        exchange.Tier = tier;
        return null;
    }
}
