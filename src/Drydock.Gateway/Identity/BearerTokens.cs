using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Drydock.Gateway.Identity;

/// <summary>Who a valid token speaks for: a keyed hash of <c>iss|sub</c> (never the token or the subject), its tier (null when none is mapped) and its roles.</summary>
internal sealed record TokenIdentity(string SubjectId, string? Tier, IReadOnlySet<string> Roles);

/// <summary>A token's check: the identity, or why it was refused (for the log: a reason, never the token).</summary>
internal readonly record struct TokenCheck(TokenIdentity? Identity, string? Refusal);

/// <summary>
/// Validates OIDC bearer tokens with Microsoft.IdentityModel: the signature against the issuer's keys (the algorithm
/// allow-listed first, so <c>none</c> and HMAC never reach the library's key selection; a <c>crit</c> header is refused),
/// issuer, audience, expiry and not-before within the allowed clock skew, and, through the library's lifetime hook,
/// dates that are JSON numbers and a lifetime of at most <see cref="IdentityOptions.MaxTokenLifetime"/>. The configured
/// claim's values then give the tier and the roles.
/// </summary>
internal sealed class BearerTokens : IDisposable
{
    /// <summary>Subject ids start with this, so they never meet an API key's id (8 hex digits) in the shared state.</summary>
    public const string SubjectPrefix = "sub_";

    private readonly IdentityOptions _options;
    private readonly SigningKeys _keys;
    private readonly JsonWebTokenHandler _handler;
    private readonly HashSet<string> _algorithms;
    private readonly byte[] _subjectKey;
    private readonly TimeProvider _time;
    private volatile Prepared? _prepared;

    // Tokens already validated against the keys now held, until they expire: a client sends the same token with every
    // request, and its signature need not be verified again. A new key set (a refresh, a rotation) empties it in
    // effect (an entry counts only with the set it was checked against); it never holds more than MaxSeen tokens.
    private readonly ConcurrentDictionary<string, Seen> _seen = new(StringComparer.Ordinal);
    private const int MaxSeen = 10_000;

    public BearerTokens(IdentityOptions options, byte[] subjectKey, TimeProvider? time = null)
    {
        _options = options;
        _time = time ?? TimeProvider.System;
        _keys = new SigningKeys(options, _time);
        _handler = new JsonWebTokenHandler { MaximumTokenSizeInBytes = options.MaxTokenLength };
        _algorithms = [.. options.Algorithms];
        if (_algorithms.Any(a => !IdentityOptions.KnownAlgorithms.Contains(a))) throw new GatewayConfigException($"gateway.identity.algorithms: only public-key signatures are accepted ({string.Join(", ", IdentityOptions.KnownAlgorithms)})");
        if (options.ClockSkew > IdentityOptions.MaxClockSkew || options.ClockSkew < TimeSpan.Zero) throw new GatewayConfigException($"gateway.identity.clock-skew: at most {IdentityOptions.MaxClockSkew.TotalSeconds:0} seconds");
        _subjectKey = subjectKey;
    }

    /// <summary>Why the signing keys cannot be used now, or null.</summary>
    public string? KeysProblem => _keys.Problem;

    /// <summary>True when <paramref name="bearer"/> is to be read as a token rather than an API key (those start with <c>ddk_</c>).</summary>
    public static bool LooksLikeToken(string bearer) => !bearer.StartsWith("ddk_", StringComparison.Ordinal);

    /// <summary>Checks a token; a refusal says why in words that hold nothing of the token.</summary>
    public async ValueTask<TokenCheck> CheckAsync(string token, CancellationToken cancellationToken = default)
    {
        if (token.Length > _options.MaxTokenLength) return Refuse($"the token is longer than {_options.MaxTokenLength} characters");
        JsonWebToken read;
        try
        {
            read = _handler.ReadJsonWebToken(token);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenMalformedException)
        {
            return Refuse("the token is malformed (not a signed JWT)");
        }

        // Before any key is looked at: an algorithm not on the list (none, HS256 made with a public key) is refused.
        if (!_algorithms.Contains(read.Alg)) return Refuse($"the token's algorithm '{Printable(read.Alg)}' is not accepted ({string.Join(", ", _algorithms)})");
        if (read.IsEncrypted) return Refuse("encrypted tokens are not accepted");
        // RFC 7515 4.1.11: a token whose header marks an extension as critical is refused by a reader that does not
        // understand it, and the gateway understands none (the library would accept it).
        if (read.TryGetHeaderValue<string[]>("crit", out var critical)) return Refuse($"the token's header marks extensions the gateway does not understand as critical (crit: {Printable(string.Join(",", critical))})");
        if (read.TryGetHeaderValue<object>("crit", out _)) return Refuse("the token's header marks extensions the gateway does not understand as critical (crit)");
        // The key is the one the token names, never whichever of the issuer's keys happens to verify it.
        if (read.Kid is not { Length: > 0 } kid) return Refuse("the token names no signing key (kid)");
        var keys = await _keys.GetAsync(kid, cancellationToken).ConfigureAwait(false);
        if (keys is null) return Refuse($"no signing keys: {_keys.Problem}");
        if (!keys.Has(kid)) return Refuse($"the token names a signing key the issuer does not publish (kid {Printable(kid)})");
        if (_seen.TryGetValue(token, out var seen) && ReferenceEquals(seen.Keys, keys) && _time.GetUtcNow() < seen.Until) return new TokenCheck(seen.Identity, null);
        var result = await _handler.ValidateTokenAsync(read, Parameters(keys)).ConfigureAwait(false);
        if (!result.IsValid) return Refuse(Reason(result.Exception));
        var subject = read.TryGetPayloadValue<string>("sub", out var sub) && sub.Length > 0 ? sub : null;
        if (subject is null) return Refuse("the token has no subject (sub)");
        var values = Values(read);
        string? tier = null;
        foreach (var (value, mapped) in _options.Tiers)
        {
            if (values.Contains(value)) { tier = mapped; break; }
        }

        var roles = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (value, role) in _options.Roles)
        {
            if (values.Contains(value)) roles.Add(role);
        }

        var identity = new TokenIdentity(SubjectId(read.Issuer, subject), tier, roles);
        if (_seen.Count >= MaxSeen) _seen.Clear();
        _seen[token] = new Seen(identity, keys, new DateTimeOffset(read.ValidTo, TimeSpan.Zero));
        return new TokenCheck(identity, null);
    }

    public void Dispose() => _keys.Dispose();

    /// <summary>Forgets the tokens already validated (each is then checked whole again).</summary>
    internal void ForgetSeen() => _seen.Clear();

    // The same issuer and subject give the same id on every instance of the project (the key comes from its key store's pepper).
    private string SubjectId(string issuer, string subject) =>
        SubjectPrefix + Convert.ToHexStringLower(HMACSHA256.HashData(_subjectKey, Encoding.UTF8.GetBytes(issuer + "|" + subject)).AsSpan(0, 12));

    private HashSet<string> Values(JsonWebToken token)
    {
        var values = new HashSet<string>(StringComparer.Ordinal);
        if (token.TryGetPayloadValue<string[]>(_options.Claim, out var many) && many is not null) values.UnionWith(many);
        else if (token.TryGetPayloadValue<string>(_options.Claim, out var one) && one is not null) values.Add(one);
        return values;
    }

    // One set of parameters per key set read (they are the same for every token until the keys change).
    private TokenValidationParameters Parameters(KeySet keys)
    {
        if (_prepared is { } held && ReferenceEquals(held.Keys, keys)) return held.Parameters;
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = _options.Issuer,
            ValidAudience = _options.Audience,
            IssuerSigningKeys = keys.Keys,
            ValidAlgorithms = _algorithms,
            ClockSkew = _options.ClockSkew,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            RequireAudience = true,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            TryAllIssuerSigningKeys = false,
        };
        // The library's own checks of exp and nbf, then the gateway's: the dates are JSON numbers, and the token is not
        // valid for longer than max-token-lifetime (the parameters without the hook, or it would call itself).
        var library = parameters.Clone();
        parameters.LifetimeValidator = (notBefore, expires, token, _) => Lifetime(notBefore, expires, token, library);
        _prepared = new Prepared(keys, parameters);
        return parameters;
    }

    private static readonly string[] s_numericDates = ["exp", "nbf", "iat"];

    // Called by the library as its lifetime check (TokenValidationParameters.LifetimeValidator); a refusal is thrown
    // with its reason, which the library hands back as the validation result's exception.
    private bool Lifetime(DateTime? notBefore, DateTime? expires, SecurityToken token, TokenValidationParameters library)
    {
        // The library reads "exp": "1893456000" (a string) as the number it spells; a NumericDate is a JSON number.
        if (token is JsonWebToken jwt && NotANumber(jwt) is { } claim) throw new TokenRefusedException($"the token's {claim} is not a number");
        Validators.ValidateLifetime(notBefore, expires, token, library);
        // Measured from iat, or from now when iat is missing or later (an iat in the future does not shorten it).
        var now = _time.GetUtcNow().UtcDateTime;
        var from = token is JsonWebToken { IssuedAt: var issued } && issued != DateTime.MinValue && issued < now ? issued : now;
        if (expires is { } until && until - from > _options.MaxTokenLifetime)
        {
            throw new TokenRefusedException($"the token is valid for longer than the gateway allows (gateway.identity.max-token-lifetime: {_options.MaxTokenLifetime.TotalSeconds:0} s)");
        }

        return true;
    }

    // The first of exp, nbf and iat whose value in the payload is not a JSON number (every occurrence is looked at), or null.
    private static string? NotANumber(JsonWebToken token)
    {
        using var payload = System.Text.Json.JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(token.EncodedPayload));
        if (payload.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object) return "payload";
        foreach (var property in payload.RootElement.EnumerateObject())
        {
            if (property.Value.ValueKind == System.Text.Json.JsonValueKind.Number) continue;
            foreach (var name in s_numericDates)
            {
                if (property.NameEquals(name)) return name;
            }
        }

        return null;
    }

    // A refusal by the gateway's own lifetime checks, with a reason that holds nothing of the token.
    private sealed class TokenRefusedException(string reason) : SecurityTokenInvalidLifetimeException(reason);

    private sealed record Prepared(KeySet Keys, TokenValidationParameters Parameters);

    private sealed record Seen(TokenIdentity Identity, KeySet Keys, DateTimeOffset Until);

    private static TokenCheck Refuse(string reason) => new(null, reason);

    private static string Reason(Exception? e) => e switch
    {
        TokenRefusedException refused => refused.Message,
        SecurityTokenExpiredException => "the token has expired",
        SecurityTokenNotYetValidException => "the token is not yet valid",
        SecurityTokenNoExpirationException => "the token has no expiry (exp)",
        SecurityTokenInvalidIssuerException => "the token's issuer is not the one configured",
        SecurityTokenInvalidAudienceException => "the token is not for this audience",
        SecurityTokenInvalidAlgorithmException => "the token's algorithm is not accepted",
        SecurityTokenSignatureKeyNotFoundException => "the token's signing key is not one the issuer publishes",
        SecurityTokenInvalidSignatureException => "the token's signature does not verify",
        SecurityTokenInvalidLifetimeException => "the token's lifetime is invalid",
        SecurityTokenMalformedException => "the token is malformed",
        null => "the token was refused",
        _ => $"the token was refused ({e.GetType().Name})",
    };

    // A header value goes to the log only as printable ASCII, shortened.
    private static string Printable(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "(none)";
        var clean = new string([.. text.Take(40).Select(c => c is >= ' ' and <= '~' ? c : '?')]);
        return text.Length > 40 ? clean + "…" : clean;
    }
}
