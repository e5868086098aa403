using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Drydock.Gateway.Tests;

/// <summary>
/// An identity provider for tests: RSA and P-256 signing keys, its JWKS served on loopback Kestrel (what it publishes
/// can be rotated mid-run, or the endpoint made to fail), and tokens minted with Microsoft.IdentityModel, good ones and
/// every kind of bad one. It counts the JWKS reads it answers.
/// </summary>
public sealed class TestIssuer : IAsyncDisposable
{
    public const string Audience = "drydock-gateway";
    private readonly WebApplication _app;
    private readonly Dictionary<string, AsymmetricAlgorithm> _keys = new(StringComparer.Ordinal);
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private int _reads;

    private TestIssuer(WebApplication app)
    {
        _app = app;
        _keys["rsa-1"] = RSA.Create(2048);
        _keys["ec-1"] = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Published = ["rsa-1", "ec-1"];
    }

    public string Issuer => _app.Urls.First() + "/";

    public Uri JwksUrl => new(_app.Urls.First() + "/jwks.json");

    /// <summary>The key ids the JWKS publishes now.</summary>
    public IReadOnlyList<string> Published { get; private set; }

    /// <summary>While set, the JWKS endpoint answers 503.</summary>
    public bool Down { get; set; }

    public int JwksReads => Volatile.Read(ref _reads);

    public static async Task<TestIssuer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var issuer = new TestIssuer(app);
        app.MapGet("/jwks.json", (RequestDelegate)(context =>
        {
            Interlocked.Increment(ref issuer._reads);
            if (issuer.Down) { context.Response.StatusCode = 503; return Task.CompletedTask; }
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(issuer.Jwks());
        }));
        await app.StartAsync();
        return issuer;
    }

    /// <summary>The JWKS as a document (what an offline site would keep in a file).</summary>
    public string Jwks()
    {
        var keys = Published.Select(kid => _keys[kid] switch
        {
            RSA rsa => Rsa(kid, rsa.ExportParameters(false)),
            ECDsa ec => Ec(kid, ec.ExportParameters(false)),
            _ => throw new InvalidOperationException(),
        });
        return "{\"keys\":[" + string.Join(",", keys) + "]}";

        static string Rsa(string kid, RSAParameters p) => $$"""{"kty":"RSA","use":"sig","alg":"RS256","kid":"{{kid}}","n":"{{Base64UrlEncoder.Encode(p.Modulus)}}","e":"{{Base64UrlEncoder.Encode(p.Exponent)}}"}""";
        static string Ec(string kid, ECParameters p) => $$"""{"kty":"EC","use":"sig","alg":"ES256","crv":"P-256","kid":"{{kid}}","x":"{{Base64UrlEncoder.Encode(p.Q.X)}}","y":"{{Base64UrlEncoder.Encode(p.Q.Y)}}"}""";
    }

    /// <summary>Rotates: a new RSA key is published and <paramref name="retire"/> is not any more. Returns the new key's id.</summary>
    public string Rotate(string retire)
    {
        var kid = "rsa-" + (_keys.Count + 1);
        _keys[kid] = RSA.Create(2048);
        Published = [.. Published.Where(k => k != retire), kid];
        return kid;
    }

    /// <summary>A key of the issuer's kind that it never publishes.</summary>
    public string Unpublished()
    {
        const string kid = "rsa-unpublished";
        _keys.TryAdd(kid, RSA.Create(2048));
        return kid;
    }

    /// <summary>A signed token; by default valid for an hour, for this issuer and audience, subject alice in the given groups.</summary>
    public string Token(string[] groups, string kid = "rsa-1", string? issuer = null, string audience = Audience, DateTime? notBefore = null, DateTime? expires = null, string subject = "alice", bool withExpiry = true, bool withKid = true, DateTime? issuedAt = null, bool withIssuedAt = true, IDictionary<string, object>? header = null)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
            Audience = audience,
            IssuedAt = withIssuedAt ? issuedAt ?? (notBefore ?? now).AddMinutes(-1) : null,
            AdditionalHeaderClaims = header,
            NotBefore = notBefore ?? now.AddMinutes(-1),
            Expires = withExpiry ? expires ?? now.AddHours(1) : null,
            Claims = new Dictionary<string, object> { ["sub"] = subject, ["groups"] = groups },
            SigningCredentials = Credentials(kid, withKid),
        };
        return _handler.CreateToken(descriptor);
    }

    /// <summary>A token signed with <paramref name="kid"/> whose payload is <paramref name="payload"/> exactly as written (a claim of the wrong JSON type).</summary>
    public string Signed(string payload, string kid = "rsa-1") => _handler.CreateToken(payload, Credentials(kid, true), new Dictionary<string, object>());

    /// <summary>The same claims, unsigned (<c>alg: none</c>), as an attacker would write them.</summary>
    public string Unsigned(string[] groups)
    {
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""");
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        var payload = Base64UrlEncoder.Encode($$"""{"iss":"{{Issuer}}","aud":"{{Audience}}","sub":"mallory","exp":{{exp}},"nbf":{{exp - 7200}},"groups":[{{string.Join(",", groups.Select(g => "\"" + g + "\""))}}]}""");
        return header + "." + payload + ".";
    }

    /// <summary>HS256 with the RSA key's public half as the HMAC secret, naming that key: the key-confusion attack.</summary>
    public string SignedWithPublicKeyAsHmac(string[] groups)
    {
        var publicKey = ((RSA)_keys["rsa-1"]).ExportSubjectPublicKeyInfo();
        var credentials = new SigningCredentials(new SymmetricSecurityKey(publicKey) { KeyId = "rsa-1" }, SecurityAlgorithms.HmacSha256);
        var now = DateTime.UtcNow;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer, Audience = Audience, NotBefore = now.AddMinutes(-1), IssuedAt = now.AddMinutes(-1), Expires = now.AddHours(1),
            Claims = new Dictionary<string, object> { ["sub"] = "mallory", ["groups"] = groups }, SigningCredentials = credentials,
        });
    }

    private SigningCredentials Credentials(string kid, bool named) => _keys[kid] switch
    {
        RSA rsa => new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = named ? kid : null }, SecurityAlgorithms.RsaSha256),
        ECDsa ec => new SigningCredentials(new ECDsaSecurityKey(ec) { KeyId = named ? kid : null }, SecurityAlgorithms.EcdsaSha256),
        _ => throw new InvalidOperationException(),
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        foreach (var key in _keys.Values) key.Dispose();
    }
}
