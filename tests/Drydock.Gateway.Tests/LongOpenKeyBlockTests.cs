using System.Security.Cryptography;

namespace Drydock.Gateway.Tests;

/// <summary>
/// A whole answer holding a private key block cut off before its END line, with a body longer than the rule's window
/// (about 16,400 characters): only the part inside the window was redacted, and the rest of the base64 body reached the
/// client. Through the running gateway (<c>internal</c>: output redact) with a scripted upstream.
/// </summary>
public sealed class LongOpenKeyBlockTests : IAsyncLifetime
{
    private ScriptedGateway _gateway = null!;

    public async ValueTask InitializeAsync() => _gateway = await ScriptedGateway.StartAsync();

    public async ValueTask DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task AFortyThousandCharacterKeyBodyWithoutItsEndLine_IsRedactedToItsEnd()
    {
        var lines = Convert.ToBase64String(RandomNumberGenerator.GetBytes(30_000))[..40_000].Chunk(64).Select(c => new string(c)).ToList();
        var text = $"Here is the key you asked for:\n-----BEGIN PRIVATE KEY-----\n{string.Join('\n', lines)}";
        var (status, body, seen) = await _gateway.SendAsync("internal", ScriptedGateway.Whole(text, "length"), streamed: false);
        Assert.Equal(200, status);
        Assert.Contains("Here is the key you asked for:", seen, StringComparison.Ordinal);
        Assert.Contains("[PRIVATE_KEY", seen, StringComparison.Ordinal);
        var leaked = lines.Where(l => l.Length >= 24 && (body.Contains(l[..24], StringComparison.Ordinal) || seen.Contains(l[..24], StringComparison.Ordinal))).ToList();
        Assert.True(leaked.Count == 0, $"{leaked.Count} of {lines.Count} base64 lines of the key reached the client");
        var log = await _gateway.AuditLogAsync();
        Assert.DoesNotContain(lines, l => l.Length >= 24 && log.Contains(l[..24], StringComparison.Ordinal));
    }
}
