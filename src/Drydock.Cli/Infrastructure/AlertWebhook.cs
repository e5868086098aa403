using System.Net.Http.Headers;
using System.Text;
using System.Threading.Channels;

namespace Drydock.Cli.Infrastructure;

/// <summary>
/// Posts alerts (JSON) to a webhook from a queue of its own: <see cref="Post"/> returns at once, so a slow or
/// unreachable receiver never holds up the checks. A POST that fails (network error, timeout, 429, 5xx) is retried with
/// backoff (1 s, 2 s, 4 s, …); every failure and the final outcome are logged naming the host only (a webhook URL
/// often carries a token in its path or query).
/// </summary>
internal sealed class AlertWebhook : IAsyncDisposable
{
    private readonly Channel<string> _queue = Channel.CreateBounded<string>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly Uri _url;
    private readonly int _retries;
    private readonly TimeSpan _backoff;
    private readonly Action<string> _log;
    private readonly Task _sender;

    public AlertWebhook(Uri url, int retries, Action<string> log, TimeSpan? backoff = null)
    {
        _url = url;
        _retries = retries;
        _log = log;
        _backoff = backoff ?? TimeSpan.FromSeconds(1);
        _sender = Task.Run(SendAllAsync);
    }

    /// <summary>Where alerts go, as logged: scheme, host and port, never the path or query.</summary>
    public string Host => $"{_url.Scheme}://{_url.Authority}";

    /// <summary>Queues <paramref name="json"/> for the webhook; never waits.</summary>
    public void Post(string json)
    {
        if (!_queue.Writer.TryWrite(json)) _log($"webhook {Host}: 256 alerts are waiting to be sent; this one is not posted (it is in the alerts log)");
    }

    /// <summary>Sends what is queued (each with its retries), then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _sender.ConfigureAwait(false);
        _http.Dispose();
    }

    private async Task SendAllAsync()
    {
        await foreach (var json in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            for (var attempt = 0; ; attempt++)
            {
                var problem = await SendAsync(json).ConfigureAwait(false);
                if (problem is null)
                {
                    _log($"webhook {Host}: alert delivered{(attempt > 0 ? $" after {attempt} retr{(attempt == 1 ? "y" : "ies")}" : "")}");
                    break;
                }

                if (attempt >= _retries)
                {
                    _log($"webhook {Host}: alert not delivered after {attempt + 1} attempt(s) ({problem}); given up (it is in the alerts log)");
                    break;
                }

                var wait = _backoff * Math.Pow(2, attempt);
                _log($"webhook {Host}: POST failed ({problem}); retry {attempt + 1} of {_retries} in {wait.TotalSeconds:0.#} s");
                await Task.Delay(wait).ConfigureAwait(false);
            }
        }
    }

    // Null when the receiver took it (2xx); otherwise why not.
    private async Task<string?> SendAsync(string json)
    {
        try
        {
            using var content = new StringContent(json, Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await _http.PostAsync(_url, content).ConfigureAwait(false);
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
        }
        catch (HttpRequestException e)
        {
            return "unreachable: " + (e.HttpRequestError == HttpRequestError.Unknown ? "network error" : e.HttpRequestError.ToString());
        }
        catch (TaskCanceledException)
        {
            return "no answer within 10 s";
        }
    }
}
