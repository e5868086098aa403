namespace Drydock.Gateway.State;

/// <summary>The answer to "may this key send a request now?".</summary>
/// <param name="Allowed">True when the request may go ahead.</param>
/// <param name="Refusal">Why not: <c>requests</c> or <c>tokens</c> per minute, <c>revoked</c>; null when allowed.</param>
/// <param name="RetryAfterSeconds">When the current window ends.</param>
/// <param name="Throttled">True while the key is throttled (its limits cut to a tenth) by the extraction monitor.</param>
public readonly record struct Admission(bool Allowed, string? Refusal, int RetryAfterSeconds, bool Throttled)
{
    /// <summary>The one-minute window the request was counted in.</summary>
    public long Window { get; init; }

    /// <summary>The tokens reserved for the request in that window (settled by <see cref="IGatewayState.SettleAsync"/>).</summary>
    public long Reserved { get; init; }
}

/// <summary>
/// The state gateway instances share: per-key request and token counters in fixed one-minute windows, throttles
/// and revocations. In process by default (<see cref="LocalGatewayState"/>); in Redis (<see cref="RedisGatewayState"/>)
/// so several instances enforce one limit. Tokens are reserved when a request is admitted (the most it can use) and
/// settled to what it used when it is answered, so concurrent requests cannot overrun the limit together.
/// </summary>
public interface IGatewayState : IAsyncDisposable
{
    /// <summary>
    /// Counts a request against the key's limits and reserves <paramref name="reserveTokens"/> (the most the request can
    /// use) in the current window: refused when the reservation does not fit in what is left of the key's tokens per
    /// minute. A throttled key gets a tenth of each limit (at least 1).
    /// </summary>
    ValueTask<Admission> AdmitAsync(string keyId, int requestsPerMinute, int tokensPerMinute, long reserveTokens);

    /// <summary>Replaces an admitted request's reservation by the <paramref name="tokens"/> it used, in the window it was admitted in.</summary>
    ValueTask SettleAsync(string keyId, Admission admission, long tokens);

    /// <summary>Throttles a key for <paramref name="duration"/>.</summary>
    ValueTask ThrottleAsync(string keyId, TimeSpan duration);

    /// <summary>Refuses a key everywhere from now on (the key store is the record; this reaches other instances at once).</summary>
    ValueTask RevokeAsync(string keyId);

    /// <summary>True when the shared store answers (readiness).</summary>
    ValueTask<bool> PingAsync();
}

/// <summary>Shared helpers: the current window and the limits of a throttled key.</summary>
internal static class Windows
{
    public static long Current(out int secondsLeft)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        secondsLeft = (int)(60 - (now % 60));
        return now / 60;
    }

    public static int Throttle(int limit) => Math.Max(1, limit / 10);
}

/// <summary>In-process state: one gateway instance.</summary>
public sealed class LocalGatewayState : IGatewayState
{
    private readonly Dictionary<string, (long Window, int Requests, long Tokens)> _counters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _throttled = new(StringComparer.Ordinal);
    private readonly HashSet<string> _revoked = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <inheritdoc />
    public ValueTask<Admission> AdmitAsync(string keyId, int requestsPerMinute, int tokensPerMinute, long reserveTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(reserveTokens);
        var window = Windows.Current(out var left);
        lock (_lock)
        {
            if (_revoked.Contains(keyId)) return ValueTask.FromResult(new Admission(false, "revoked", left, false));
            var throttled = _throttled.TryGetValue(keyId, out var until) && until > DateTimeOffset.UtcNow;
            if (throttled)
            {
                requestsPerMinute = Windows.Throttle(requestsPerMinute);
                tokensPerMinute = Windows.Throttle(tokensPerMinute);
            }

            var c = _counters.TryGetValue(keyId, out var found) && found.Window == window ? found : (Window: window, Requests: 0, Tokens: 0L);
            if (c.Tokens >= tokensPerMinute || c.Tokens + reserveTokens > tokensPerMinute) return ValueTask.FromResult(new Admission(false, "tokens", left, throttled));
            c.Requests++;
            if (c.Requests > requestsPerMinute)
            {
                _counters[keyId] = c;
                return ValueTask.FromResult(new Admission(false, "requests", left, throttled));
            }

            c.Tokens += reserveTokens;
            _counters[keyId] = c;
            return ValueTask.FromResult(new Admission(true, null, left, throttled) { Window = window, Reserved = reserveTokens });
        }
    }

    /// <inheritdoc />
    public ValueTask SettleAsync(string keyId, Admission admission, long tokens)
    {
        if (!admission.Allowed) return ValueTask.CompletedTask;
        lock (_lock)
        {
            // A window that has ended is gone with its reservation; there is nothing left to settle.
            if (_counters.TryGetValue(keyId, out var c) && c.Window == admission.Window)
            {
                c.Tokens += tokens - admission.Reserved;
                _counters[keyId] = c;
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask ThrottleAsync(string keyId, TimeSpan duration)
    {
        lock (_lock) _throttled[keyId] = DateTimeOffset.UtcNow + duration;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask RevokeAsync(string keyId)
    {
        lock (_lock) _revoked.Add(keyId);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<bool> PingAsync() => ValueTask.FromResult(true);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
