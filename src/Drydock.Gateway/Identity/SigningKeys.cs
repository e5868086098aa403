using System.Net;
using Microsoft.IdentityModel.Tokens;

namespace Drydock.Gateway.Identity;

/// <summary>
/// The issuer's signing keys, read from its JWKS (an address or a local file) and cached: read again every refresh
/// interval, at once (at most every <see cref="IdentityOptions.MinRefetch"/>) when a token names a key not held, and
/// never more often than that while the JWKS cannot be read. Keys read once are used until twice the refresh interval
/// has passed without a good read; after that, none (tokens are refused with the reason, API keys still work).
/// </summary>
internal sealed class SigningKeys : IDisposable
{
    private const int MaxJwksBytes = 1 << 20;
    private readonly IdentityOptions _options;
    private readonly TimeProvider _time;
    private readonly HttpClient? _http;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile KeySet? _current;
    private DateTimeOffset _lastAttempt = DateTimeOffset.MinValue;
    private string? _problem;

    public SigningKeys(IdentityOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        if (options.JwksUrl is { } url)
        {
            // Tokens are only as trustworthy as the keys: plain http only to this machine (a test issuer, a sidecar).
            if (url.Scheme != Uri.UriSchemeHttps && !url.IsLoopback) throw new GatewayConfigException($"gateway.identity.jwks-url: '{url}' must be https (plain http is accepted only on loopback)");
            _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(5), MaxResponseContentBufferSize = MaxJwksBytes };
        }
    }

    /// <summary>Why no key is held, when none is (for the log; never key material).</summary>
    public string? Problem => _problem;

    /// <summary>The keys now, read first if due; null when none can be used (see <see cref="Problem"/>).</summary>
    public async ValueTask<KeySet?> GetAsync(string? wantedKid, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var current = _current;
        var due = current is null || now - current.ReadAt >= _options.Refresh || (wantedKid is not null && !current.Has(wantedKid));
        if (due && now - _lastAttempt >= _options.MinRefetch)
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // Another request may have read them while this one waited.
                current = _current;
                now = _time.GetUtcNow();
                var still = current is null || now - current.ReadAt >= _options.Refresh || (wantedKid is not null && !current.Has(wantedKid));
                if (still && now - _lastAttempt >= _options.MinRefetch)
                {
                    _lastAttempt = now;
                    try
                    {
                        // Read for every waiting request, not this one: its client going away does not cut the read short.
                        current = _current = new KeySet(await ReadAsync(CancellationToken.None).ConfigureAwait(false), now);
                        _problem = null;
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or TaskCanceledException or SigningKeysException)
                    {
                        _problem = Describe(e);
                    }
                }
            }
            finally
            {
                _gate.Release();
            }
        }

        current = _current;
        if (current is null) return null;
        if (_time.GetUtcNow() - current.ReadAt >= 2 * _options.Refresh)
        {
            _problem ??= "the signing keys were not read again in time";
            return null;
        }

        return current;
    }

    public void Dispose()
    {
        _http?.Dispose();
        _gate.Dispose();
    }

    private async Task<IList<SecurityKey>> ReadAsync(CancellationToken cancellationToken)
    {
        string json;
        if (_http is not null)
        {
            using var response = await _http.GetAsync(_options.JwksUrl, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK) throw new SigningKeysException($"the JWKS at {_options.JwksUrl} answered {(int)response.StatusCode}");
            json = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            json = Encoding(Detection.Configuration.RegularFiles.ReadAllBytes(_options.JwksFile!, MaxJwksBytes));
        }

        // The library reads the set; keys it cannot use (unknown type, a private half missing) are left out.
        var set = new JsonWebKeySet(json);
        var keys = set.GetSigningKeys();
        if (keys.Count == 0) throw new SigningKeysException($"the JWKS at {Where} holds no signing key this gateway can use");
        return keys;
    }

    private string Where => _options.JwksUrl?.ToString() ?? _options.JwksFile!;

    private static string Encoding(byte[] bytes) => new System.Text.UTF8Encoding(false, true).GetString(bytes);

    private string Describe(Exception e) => e switch
    {
        SigningKeysException => e.Message,
        TaskCanceledException => $"the JWKS at {Where} did not answer within 5 s",
        ArgumentException => $"the JWKS at {Where} is not a key set ({e.GetType().Name})",
        _ => $"the JWKS at {Where} could not be read ({e.GetType().Name}: {e.Message})",
    };
}

/// <summary>The signing keys read at one time.</summary>
internal sealed class KeySet(IList<SecurityKey> keys, DateTimeOffset readAt)
{
    private readonly HashSet<string> _kids = [.. keys.Select(k => k.KeyId).OfType<string>()];

    public IList<SecurityKey> Keys { get; } = keys;

    public DateTimeOffset ReadAt { get; } = readAt;

    public bool Has(string kid) => _kids.Contains(kid);
}

internal sealed class SigningKeysException(string message) : Exception(message);
