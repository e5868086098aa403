using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Evaluation;
using Drydock.Evaluation.Targets;

namespace Drydock.Cli.Commands;

/// <summary>
/// The gateway as an evaluation target: chat completions with the monitor's key. A request the gateway blocks
/// (<c>input_blocked</c>, <c>output_blocked</c>) is what a client would see as a refusal, so it is answered as one;
/// a rate limit (429) or an upstream failure (5xx other than a block) is retried with backoff, then an error.
/// </summary>
internal sealed class MonitorGatewayTarget(Uri gateway, string model, string key, int concurrency, TimeSpan timeout) : IEvaluationTarget
{
    private const string BlockedAnswer = "I can't help with that: the gateway's policy blocked it";
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly SemaphoreSlim _slots = new(concurrency);
    private int _sent;
    private int _blocked;

    public int Sent => Volatile.Read(ref _sent);

    public int Blocked => Volatile.Read(ref _blocked);

    public async Task<TargetResponse> CompleteAsync(IReadOnlyList<ChatMessage> conversation, CancellationToken cancellationToken)
    {
        var messages = new JsonArray([.. conversation.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]);
        var body = new JsonObject { ["model"] = model, ["messages"] = messages, ["temperature"] = 0, ["max_tokens"] = 256 }.ToJsonString();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            string error = "";
            for (var attempt = 0; attempt < 5; attempt++)
            {
                if (attempt > 0) await Task.Delay(TimeSpan.FromMilliseconds(500 * Math.Pow(2, attempt - 1)), cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _sent);
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.ToString().TrimEnd('/') + "/chat/completions")) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                    using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    limit.CancelAfter(timeout);
                    using var response = await _http.SendAsync(request, limit.Token).ConfigureAwait(false);
                    var text = await response.Content.ReadAsStringAsync(limit.Token).ConfigureAwait(false);
                    if (response.IsSuccessStatusCode) return Answer(text, clock.Elapsed.TotalMilliseconds);
                    var code = ErrorCode(text);
                    if (code is "input_blocked" or "output_blocked")
                    {
                        Interlocked.Increment(ref _blocked);
                        return new TargetResponse(BlockedAnswer + $" ({code}).", null, clock.Elapsed.TotalMilliseconds);
                    }

                    error = $"HTTP {(int)response.StatusCode} {code ?? ""}".TrimEnd();
                    if (response.StatusCode != HttpStatusCode.TooManyRequests && (int)response.StatusCode < 500) break;
                }
                catch (HttpRequestException e)
                {
                    error = "unreachable: " + e.Message;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    error = $"no answer within {timeout.TotalSeconds:0} s";
                }
            }

            return new TargetResponse(null, error, clock.Elapsed.TotalMilliseconds);
        }
        finally
        {
            _slots.Release();
        }
    }

    public Task<TargetResponse> ContinueAsync(string prefix, int maxTokens, double temperature, CancellationToken cancellationToken) =>
        Task.FromResult(new TargetResponse(null, "drydock monitor evaluate sends chat conversations only", 0));

    public Task<(double LogLikelihood, int Tokens)> ScoreAsync(string prefix, string text, CancellationToken cancellationToken) =>
        throw new LogprobsUnavailableException("drydock monitor evaluate sends chat conversations only");

    public void Dispose()
    {
        _http.Dispose();
        _slots.Dispose();
    }

    private static TargetResponse Answer(string text, double ms)
    {
        try
        {
            var json = JsonNode.Parse(text);
            return json?["choices"] is JsonArray { Count: > 0 } choices && choices[0]?["message"]?["content"] is JsonValue v && v.TryGetValue<string>(out var s)
                ? new TargetResponse(s, null, ms)
                : new TargetResponse(null, "the answer has no choices[0].message.content", ms);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return new TargetResponse(null, "the answer is not JSON", ms);
        }
    }

    private static string? ErrorCode(string text)
    {
        try
        {
            return JsonNode.Parse(text)?["error"]?["code"]?.GetValue<string>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}
