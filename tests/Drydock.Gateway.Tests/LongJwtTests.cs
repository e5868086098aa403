using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Drydock.Gateway.Tests;

/// <summary>
/// A whole answer holding a JWT whose payload is over 8,000 characters: DD-SEC-035 did not match it at all, and the
/// token reached the client raw. Through the running gateway (<c>internal</c>: output redact) with a scripted upstream.
/// </summary>
public sealed class LongJwtTests : IAsyncLifetime
{
    private ScriptedGateway _gateway = null!;

    public async ValueTask InitializeAsync() => _gateway = await ScriptedGateway.StartAsync();

    public async ValueTask DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task ATwentyThousandCharacterPayload_IsRedactedWhole()
    {
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes("{\"sub\":\"" + Convert.ToHexString(RandomNumberGenerator.GetBytes(10_000)) + "\"}"))[..20_000];
        var signature = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var token = $"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{payload}.{signature}";
        var text = $"Here is the session token:\n{token}\nIt expires in an hour.";
        var (status, body, seen) = await _gateway.SendAsync("internal", ScriptedGateway.Whole(text), streamed: false);
        Assert.Equal(200, status);
        Assert.Contains("Here is the session token:", seen, StringComparison.Ordinal);
        Assert.Contains("It expires in an hour.", seen, StringComparison.Ordinal);
        var slices = Enumerable.Range(0, token.Length - 31).Select(i => token.Substring(i, 32)).ToList();
        var leaked = slices.Where(s => body.Contains(s, StringComparison.Ordinal) || seen.Contains(s, StringComparison.Ordinal)).ToList();
        Assert.True(leaked.Count == 0, $"{leaked.Count} of {slices.Count} 32-character slices of the token reached the client");
        var log = await _gateway.AuditLogAsync();
        Assert.DoesNotContain(slices, s => log.Contains(s, StringComparison.Ordinal));
    }
}
