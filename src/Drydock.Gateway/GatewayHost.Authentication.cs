using Drydock.Gateway.Identity;
using Drydock.Gateway.Keys;
using Drydock.Gateway.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Drydock.Gateway;

/// <summary>Who presented a request: an API key the store knows, a valid identity-provider token, or neither (with why, for the log).</summary>
internal readonly record struct Caller(ApiKey? Key, TokenIdentity? Token, string? Refusal);

// Stage 1: who is asking. A bearer key that the key store knows, of a tier that is configured and is not the admin
// tier; or, where gateway.identity is set, a token of the identity provider whose claims map to a configured tier.
public sealed partial class GatewayHost
{
    internal ApiKey? Authenticate(HttpContext context) => _keys.Authenticate(Bearer(context));

    // An API key (ddk_...) is looked up in the key store; anything else, where tokens are accepted, is checked as one.
    internal async ValueTask<Caller> IdentifyAsync(HttpContext context)
    {
        var bearer = Bearer(context);
        if (bearer is null || _tokens is null || !BearerTokens.LooksLikeToken(bearer)) return new Caller(_keys.Authenticate(bearer), null, null);
        var check = await _tokens.CheckAsync(bearer, context.RequestAborted).ConfigureAwait(false);
        if (check.Refusal is not null) IdentityLog.Refused(_log, context.Request.Path, check.Refusal);
        return new Caller(null, check.Identity, check.Refusal);
    }

    internal static string? Bearer(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal) ? header[7..].Trim() : null;
    }

    // Null when the caller may go on (the exchange then holds its key, or its subject as one, and its tier); else the
    // status of the refusal sent.
    private async Task<int?> AuthenticateAsync(Exchange exchange)
    {
        var context = exchange.Context;
        var caller = await IdentifyAsync(context).ConfigureAwait(false);
        if (caller.Token is { } token)
        {
            exchange.Audit["subject"] = token.SubjectId;
            if (token.Tier is null)
            {
                IdentityLog.NotAllowed(_log, token.SubjectId, context.Request.Path, "no claim value maps to a tier");
                return await Error(context, 403, "no_tier", "the token's claims map to no tier of this gateway").ConfigureAwait(false);
            }

            caller = caller with { Key = SubjectKey(token) };
        }
        else if (caller.Refusal is not null)
        {
            Metrics.Blocked("auth");
            exchange.Audit["error"] = "invalid_token";
            return await Error(context, 401, "invalid_token", "missing, malformed, expired or untrusted bearer token").ConfigureAwait(false);
        }

        var key = caller.Key;
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

    // A token's subject stands where a key would: rate limits, throttles and the extraction monitor count per subject.
    private static ApiKey SubjectKey(TokenIdentity token) => new(token.SubjectId, "oidc", token.Tier!, [], "", null, null, "");
}
