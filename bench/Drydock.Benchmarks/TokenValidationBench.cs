using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Drydock.Gateway.Identity;
using Drydock.Gateway.Keys;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Drydock.Bench;

/// <summary>
/// What identifying a caller costs the gateway per request, with the issuer's keys cached (read from a local JWKS file
/// once): an RS256 and an ES256 token seen for the first time (full signature check), the same tokens again (the
/// gateway's cache of validated tokens), and an API key for comparison.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class TokenValidationBench
{
    private const string Issuer = "https://login.example.com/";
    private const int Fresh = 4096;
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly ECDsa _ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private string _folder = "";
    private BearerTokens _tokens = null!;
    private ApiKeyStore _keys = null!;
    private string _apiKey = "";
    private string _rsaToken = "";
    private string _ecToken = "";
    private string[] _freshRsa = [];
    private string[] _freshEc = [];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("drydock-bench-jwt").FullName;
        var rsa = _rsa.ExportParameters(false);
        var ec = _ec.ExportParameters(false);
        var jwks = Path.Combine(_folder, "jwks.json");
        File.WriteAllText(jwks, $$"""
            {"keys":[{"kty":"RSA","use":"sig","kid":"r1","n":"{{Base64UrlEncoder.Encode(rsa.Modulus)}}","e":"{{Base64UrlEncoder.Encode(rsa.Exponent)}}"},
            {"kty":"EC","use":"sig","kid":"e1","crv":"P-256","x":"{{Base64UrlEncoder.Encode(ec.Q.X)}}","y":"{{Base64UrlEncoder.Encode(ec.Q.Y)}}"}]}
            """);
        var options = new IdentityOptions
        {
            Issuer = Issuer, Audience = "drydock-gateway", JwksFile = jwks, Tiers = [new("support-agents", "internal")], Roles = [new("ops", "admin")],
        };
        _tokens = new BearerTokens(options, RandomNumberGenerator.GetBytes(32));
        _rsaToken = Token(new RsaSecurityKey(_rsa) { KeyId = "r1" }, SecurityAlgorithms.RsaSha256, 0);
        _ecToken = Token(new ECDsaSecurityKey(_ec) { KeyId = "e1" }, SecurityAlgorithms.EcdsaSha256, 0);
        _freshRsa = [.. Enumerable.Range(1, Fresh).Select(i => Token(new RsaSecurityKey(_rsa) { KeyId = "r1" }, SecurityAlgorithms.RsaSha256, i))];
        _freshEc = [.. Enumerable.Range(1, Fresh).Select(i => Token(new ECDsaSecurityKey(_ec) { KeyId = "e1" }, SecurityAlgorithms.EcdsaSha256, i))];
        _keys = ApiKeyStore.Open(Path.Combine(_folder, "keys"));
        _apiKey = _keys.Create("bench", "internal", [], null).Key;
        if (Check(_rsaToken) is null || Check(_ecToken) is null) throw new InvalidOperationException("the benchmark's tokens do not validate");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _tokens.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>A token not seen before: the whole check, the RS256 signature included (4,096 tokens in turn, the cache of validated tokens emptied at each round).</summary>
    [Benchmark]
    public string? FirstSightRs256() => FullCheck(_freshRsa);

    [Benchmark]
    public string? FirstSightEs256() => FullCheck(_freshEc);

    /// <summary>The same token with every request: what a client of the gateway sends.</summary>
    [Benchmark(Baseline = true)]
    public string? RepeatRs256() => Check(_rsaToken);

    [Benchmark]
    public string? RepeatEs256() => Check(_ecToken);

    [Benchmark]
    public string? ApiKey() => _keys.Authenticate(_apiKey)?.Id;

    // Each call takes the next fresh token; the validated-token cache is emptied when it wraps so every call verifies.
    private string? FullCheck(string[] tokens)
    {
        var i = _next++ & (Fresh - 1);
        if (i == 0) _tokens.ForgetSeen();
        return Check(tokens[i]);
    }

    private string? Check(string token) => _tokens.CheckAsync(token).AsTask().GetAwaiter().GetResult().Identity?.SubjectId;

    private static string Token(SecurityKey key, string algorithm, int n) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = Issuer, Audience = "drydock-gateway", NotBefore = DateTime.UtcNow.AddMinutes(-1), Expires = DateTime.UtcNow.AddHours(8),
        Claims = new Dictionary<string, object> { ["sub"] = "user-" + n, ["groups"] = new[] { "support-agents" } },
        SigningCredentials = new SigningCredentials(key, algorithm),
    });
}
