using StackExchange.Redis;

namespace Drydock.Gateway.State;

/// <summary>
/// State in Redis, shared by every gateway instance pointed at it. One round trip per request: a Lua script checks
/// revocation and throttle, checks that the request's token reservation fits in what is left of the minute, increments
/// the request counter and reserves the tokens (keys expire with their window); a second script settles the
/// reservation to what the answer used. Keys of one API key share a hash tag, so the scripts also run on a Redis cluster.
/// </summary>
public sealed class RedisGatewayState : IGatewayState
{
    private const string AdmitScript = """
        if redis.call('EXISTS', KEYS[4]) == 1 then return {0, 3, 0} end
        local throttled = redis.call('EXISTS', KEYS[3])
        local rpm = tonumber(ARGV[1])
        local tpm = tonumber(ARGV[2])
        local reserve = tonumber(ARGV[3])
        if throttled == 1 then rpm = math.max(1, math.floor(rpm / 10)); tpm = math.max(1, math.floor(tpm / 10)) end
        local used = tonumber(redis.call('GET', KEYS[2]) or '0')
        if used >= tpm or used + reserve > tpm then return {0, 2, throttled} end
        local n = redis.call('INCR', KEYS[1])
        if n == 1 then redis.call('EXPIRE', KEYS[1], 120) end
        if n > rpm then return {0, 1, throttled} end
        redis.call('INCRBY', KEYS[2], reserve)
        redis.call('EXPIRE', KEYS[2], 120)
        return {1, 0, throttled}
        """;

    // Only a window still counted is settled: an expired one is gone with its reservation.
    private const string SettleScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('INCRBY', KEYS[1], ARGV[1]) end
        return 0
        """;

    private readonly ConnectionMultiplexer _redis;
    private readonly IDatabase _db;
    private readonly string _prefix;

    private RedisGatewayState(ConnectionMultiplexer redis, string prefix)
    {
        _redis = redis;
        _db = redis.GetDatabase();
        _prefix = prefix;
    }

    /// <summary>Connects to <paramref name="configuration"/> (host:port, or a StackExchange.Redis configuration string).</summary>
    public static async Task<RedisGatewayState> ConnectAsync(string configuration, string prefix = "drydock")
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 5000;
        try
        {
            return new RedisGatewayState(await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false), prefix);
        }
        catch (RedisConnectionException e)
        {
            throw new GatewayConfigException($"--redis {configuration}: cannot connect ({e.Message.Split('\n')[0]})");
        }
    }

    /// <inheritdoc />
    public async ValueTask<Admission> AdmitAsync(string keyId, int requestsPerMinute, int tokensPerMinute, long reserveTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(reserveTokens);
        var window = Windows.Current(out var left);
        var result = (RedisResult[])(await _db.ScriptEvaluateAsync(AdmitScript,
            [Key(keyId, $"req:{window}"), Key(keyId, $"tok:{window}"), Key(keyId, "throttle"), Key(keyId, "revoked")],
            [requestsPerMinute, tokensPerMinute, reserveTokens]).ConfigureAwait(false))!;
        var throttled = (int)result[2] == 1;
        return (int)result[1] switch
        {
            0 => new Admission(true, null, left, throttled) { Window = window, Reserved = reserveTokens },
            1 => new Admission(false, "requests", left, throttled),
            2 => new Admission(false, "tokens", left, throttled),
            _ => new Admission(false, "revoked", left, throttled),
        };
    }

    /// <inheritdoc />
    public async ValueTask SettleAsync(string keyId, Admission admission, long tokens)
    {
        if (!admission.Allowed) return;
        await _db.ScriptEvaluateAsync(SettleScript, [Key(keyId, $"tok:{admission.Window}")], [tokens - admission.Reserved]).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask ThrottleAsync(string keyId, TimeSpan duration) => await _db.StringSetAsync(Key(keyId, "throttle"), "1", duration).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask RevokeAsync(string keyId) => await _db.StringSetAsync(Key(keyId, "revoked"), "1").ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask<bool> PingAsync()
    {
        try
        {
            await _db.PingAsync().ConfigureAwait(false);
            return true;
        }
        catch (RedisException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await _redis.DisposeAsync().ConfigureAwait(false);

    private RedisKey Key(string keyId, string what) => $"{_prefix}:{{{keyId}}}:{what}";
}
