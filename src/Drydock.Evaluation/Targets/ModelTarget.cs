using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Drydock.Evaluation.Targets;

/// <summary>One message of a conversation sent to a target.</summary>
public sealed record ChatMessage(string Role, string Content);

/// <summary>What a target answered: the text, or the error that stopped it, and how long it took.</summary>
public sealed record TargetResponse(string? Text, string? Error, double Milliseconds)
{
    /// <summary>True when the target answered.</summary>
    public bool Ok => Error is null;
}

/// <summary>How to reach a target and how hard to push it.</summary>
public sealed record TargetOptions
{
    /// <summary>The OpenAI-compatible base URL (ending in /v1).</summary>
    public required Uri Endpoint { get; init; }

    /// <summary>The model to ask for.</summary>
    public required string Model { get; init; }

    /// <summary>Bearer key, or null.</summary>
    public string? ApiKey { get; init; }

    /// <summary>A system prompt sent before every conversation, or null.</summary>
    public string? SystemPrompt { get; init; }

    /// <summary>Requests in flight at once.</summary>
    public int Concurrency { get; init; } = 8;

    /// <summary>Time allowed for one request.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Retries of a request that failed with 429, 5xx or a network error (exponential backoff, honouring Retry-After).</summary>
    public int Retries { get; init; } = 3;

    /// <summary>Most requests this target may receive in one run (retries included); 0 for no limit.</summary>
    public int Budget { get; init; }

    /// <summary>Longest answer asked for.</summary>
    public int MaxTokens { get; init; } = 256;
}

/// <summary>A run stopped because the target's request budget is spent.</summary>
public sealed class BudgetExhaustedException(int budget) : Exception($"the request budget of {budget} is spent");

/// <summary>The target cannot score text: it does not return log-probabilities for an echoed prompt.</summary>
public sealed class LogprobsUnavailableException(string message) : Exception(message);

/// <summary>
/// What evaluations ask of a model: answer a conversation, continue a prefix, and score a text after a prefix.
/// An OpenAI-compatible endpoint (<see cref="ModelTarget"/>) or an ONNX model run in process (<see cref="OnnxTarget"/>).
/// </summary>
public interface IEvaluationTarget : IDisposable
{
    /// <summary>Requests sent so far (retries included).</summary>
    int Sent { get; }

    /// <summary>Answers one conversation; never throws for target failures (they come back as <see cref="TargetResponse.Error"/>).</summary>
    Task<TargetResponse> CompleteAsync(IReadOnlyList<ChatMessage> conversation, CancellationToken cancellationToken);

    /// <summary>Continues <paramref name="prefix"/>, greedily (temperature 0) or sampled at <paramref name="temperature"/>.</summary>
    Task<TargetResponse> ContinueAsync(string prefix, int maxTokens, double temperature, CancellationToken cancellationToken);

    /// <summary>
    /// The log-likelihood (natural log) of <paramref name="text"/> after <paramref name="prefix"/> and the number of
    /// tokens it covers; throws <see cref="LogprobsUnavailableException"/> when the target cannot score.
    /// </summary>
    Task<(double LogLikelihood, int Tokens)> ScoreAsync(string prefix, string text, CancellationToken cancellationToken);
}

/// <summary>
/// An OpenAI-compatible endpoint as an evaluation target: chat conversations, completions of a prefix, and the
/// log-likelihood of a text after a prefix (<c>/v1/completions</c> with <c>echo</c> and <c>logprobs</c>, as vLLM
/// serves them). Bounded concurrency, a timeout per request, retries with exponential backoff (and the server's
/// Retry-After) on 429, 5xx and network errors, and a request budget. Greedy decoding (temperature 0) unless asked.
/// </summary>
public sealed class ModelTarget : IEvaluationTarget
{
    private readonly TargetOptions _options;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _slots;
    private int _sent;
    private bool _bound;
    private string? _digest;
    private string? _digestChange;

    /// <summary>Creates the target.</summary>
    public ModelTarget(TargetOptions options, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { MaxConnectionsPerServer = Math.Max(1, options.Concurrency) }) { Timeout = options.Timeout };
        _slots = new SemaphoreSlim(Math.Max(1, options.Concurrency));
    }

    /// <summary>Requests sent so far (retries included).</summary>
    public int Sent => Volatile.Read(ref _sent);

    /// <summary>
    /// The response header in which a server states the SHA-256 digest of the model it serves (as
    /// <c>drydock serve-model</c> does, the digest the registry stores for a model version).
    /// </summary>
    public const string DigestHeader = "x-drydock-model-digest";

    /// <summary>
    /// Null, or why this run's answers are not all from one model: an answer stated another digest
    /// (<see cref="DigestHeader"/>) than <see cref="BindDigestAsync"/> read; that answer came back as an error.
    /// </summary>
    public string? DigestChange => Volatile.Read(ref _digestChange);

    /// <summary>
    /// Reads the digest the endpoint states (<see cref="DigestHeader"/> on its <c>/models</c> answer; null when it
    /// states none or does not answer) and binds the run to it: from then on every answer must state the same digest,
    /// or none when this is null, or it comes back as an error (<see cref="DigestChange"/>).
    /// </summary>
    public async Task<string?> BindDigestAsync(CancellationToken cancellationToken = default)
    {
        string? digest = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_options.Endpoint.ToString().TrimEnd('/') + "/models"));
            if (_options.ApiKey is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _options.ApiKey);
            using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            digest = StatedDigest(response);
        }
        catch (HttpRequestException)
        {
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }

        _digest = digest;
        _bound = true;
        return digest;
    }

    // The digest an answer states, or null; stated twice, both values (which then match no single digest).
    // The stated digest as bare lowercase hex: "sha256:<hex>" and "<hex>" are the same digest.
    private static string? StatedDigest(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues(DigestHeader, out var values)) return null;
        var digest = string.Join(",", values).Trim().ToLowerInvariant();
        return digest.StartsWith("sha256:", StringComparison.Ordinal) ? digest["sha256:".Length..].Trim() : digest;
    }

    /// <summary>Sends one conversation; never throws for target failures (they come back as <see cref="TargetResponse.Error"/>).</summary>
    public async Task<TargetResponse> CompleteAsync(IReadOnlyList<ChatMessage> conversation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        var (json, error, ms) = await PostAsync("chat/completions", Body(conversation), cancellationToken).ConfigureAwait(false);
        if (json is null) return new TargetResponse(null, error, ms);
        if (FirstChoice(json, out var problem) is not { } choice) return new TargetResponse(null, problem, ms);
        return choice["message"] is JsonObject message && message["content"] is JsonValue v && v.TryGetValue<string>(out var s)
            ? new TargetResponse(s, null, ms)
            : new TargetResponse(null, "the answer has no choices[0].message.content", ms);
    }

    /// <summary>Continues <paramref name="prefix"/> (<c>/v1/completions</c>), greedily or sampled at <paramref name="temperature"/>.</summary>
    public async Task<TargetResponse> ContinueAsync(string prefix, int maxTokens, double temperature, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["model"] = _options.Model, ["prompt"] = prefix, ["max_tokens"] = maxTokens, ["temperature"] = temperature }.ToJsonString();
        var (json, error, ms) = await PostAsync("completions", body, cancellationToken).ConfigureAwait(false);
        if (json is null) return new TargetResponse(null, error, ms);
        if (FirstChoice(json, out var problem) is not { } choice) return new TargetResponse(null, problem, ms);
        return choice["text"] is JsonValue v && v.TryGetValue<string>(out var s)
            ? new TargetResponse(s, null, ms)
            : new TargetResponse(null, "the answer has no choices[0].text", ms);
    }

    /// <summary>
    /// The log-likelihood (natural log) of <paramref name="text"/> after <paramref name="prefix"/>: the sum of the
    /// log-probabilities of the echoed tokens that start at or after the end of the prefix, and how many there were.
    /// Throws <see cref="LogprobsUnavailableException"/> when the target does not return them.
    /// </summary>
    public async Task<(double LogLikelihood, int Tokens)> ScoreAsync(string prefix, string text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(text);
        var body = new JsonObject { ["model"] = _options.Model, ["prompt"] = prefix + text, ["max_tokens"] = 0, ["echo"] = true, ["logprobs"] = 0, ["temperature"] = 0 }.ToJsonString();
        var (json, error, _) = await PostAsync("completions", body, cancellationToken).ConfigureAwait(false);
        if (json is null) throw new LogprobsUnavailableException($"the target did not score the text ({error}); exposure and membership need /v1/completions with echo and logprobs (vLLM serves them)");
        if (FirstChoice(json, out var problem) is not { } choice) throw new LogprobsUnavailableException($"the target did not score the text ({problem}); exposure and membership need /v1/completions with echo and logprobs (vLLM serves them)");
        var logprobs = choice["logprobs"] as JsonObject;
        if (logprobs?["token_logprobs"] is not JsonArray values || logprobs["text_offset"] is not JsonArray offsets || values.Count != offsets.Count)
        {
            throw new LogprobsUnavailableException("the target answered without logprobs.token_logprobs and text_offset for the echoed prompt; exposure and membership need them (vLLM serves them)");
        }

        var sum = 0.0;
        var tokens = 0;
        for (var i = 0; i < values.Count; i++)
        {
            if (values[i] is not JsonValue lv || !lv.TryGetValue<double>(out var lp) || offsets[i] is not JsonValue ov || ov.GetValue<int>() < prefix.Length) continue;
            sum += lp;
            tokens++;
        }

        return (sum, tokens);
    }

    // Posts with retries; returns the parsed JSON, or null and the error.
    /// <summary>
    /// The first choice of an answer, or null with why not: an answer that is not an object, whose <c>choices</c> is
    /// missing, not a list or empty, or whose first choice is not an object is an errored probe, never a crash.
    /// </summary>
    internal static JsonObject? FirstChoice(JsonNode json, out string problem)
    {
        problem = "";
        if (json is not JsonObject answer) problem = "the answer is not a JSON object";
        else if (answer["choices"] is not JsonArray choices) problem = answer.ContainsKey("choices") ? "the answer's choices is not a list" : "the answer has no choices";
        else if (choices.Count == 0) problem = "the answer's choices list is empty";
        else if (choices[0] is not JsonObject first) problem = "the answer's choices[0] is not an object";
        else return first;
        return null;
    }

    private async Task<(JsonNode? Json, string? Error, double Milliseconds)> PostAsync(string path, string body, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            string? error = null;
            for (var attempt = 0; attempt <= _options.Retries; attempt++)
            {
                if (_options.Budget > 0 && Interlocked.Increment(ref _sent) > _options.Budget) throw new BudgetExhaustedException(_options.Budget);
                if (_options.Budget == 0) Interlocked.Increment(ref _sent);
                TimeSpan? wait = null;
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_options.Endpoint.ToString().TrimEnd('/') + "/" + path))
                    {
                        Content = new StringContent(body, Encoding.UTF8, "application/json"),
                    };
                    if (_options.ApiKey is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _options.ApiKey);
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(_options.Timeout);
                    using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                    if (await ReadBoundedAsync(response.Content, timeout.Token).ConfigureAwait(false) is not { } text)
                    {
                        // Too large to be an answer: an errored probe, not retried (the endpoint would send it again).
                        return (null, $"the answer is larger than {MaxAnswerBytes / (1024 * 1024)} MiB", clock.Elapsed.TotalMilliseconds);
                    }

                    if (response.IsSuccessStatusCode)
                    {
                        // An answer from another model than the one the run was bound to is no answer of this model.
                        if (_bound && StatedDigest(response) is var stated && stated != _digest)
                        {
                            var change = $"the endpoint stated model digest {stated ?? "(none)"} in an answer, not {_digest ?? "(none)"} as at the start of the run: the model changed mid-run";
                            Interlocked.CompareExchange(ref _digestChange, change, null);
                            return (null, change, clock.Elapsed.TotalMilliseconds);
                        }

                        try
                        {
                            return (JsonNode.Parse(text), null, clock.Elapsed.TotalMilliseconds);
                        }
                        catch (JsonException)
                        {
                            return (null, "the answer is not JSON: " + Shorten(text), clock.Elapsed.TotalMilliseconds);
                        }
                    }

                    error = $"HTTP {(int)response.StatusCode}";
                    if (response.StatusCode != HttpStatusCode.TooManyRequests && (int)response.StatusCode < 500) return (null, error + ": " + Shorten(text), clock.Elapsed.TotalMilliseconds);
                    wait = response.Headers.RetryAfter?.Delta;
                }
                catch (HttpRequestException e)
                {
                    error = "unreachable: " + e.Message;
                }
                catch (IOException e)
                {
                    error = "the answer was cut short: " + e.Message;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    error = $"no answer within {_options.Timeout.TotalSeconds:0} s";
                }

                if (attempt < _options.Retries) await Task.Delay(wait ?? TimeSpan.FromMilliseconds(200 * Math.Pow(2, attempt)), cancellationToken).ConfigureAwait(false);
            }

            return (null, error, clock.Elapsed.TotalMilliseconds);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>The largest answer read (bytes); a larger one is an errored probe, never held in memory.</summary>
    public const int MaxAnswerBytes = 16 * 1024 * 1024;

    // The body as text, or null when it is larger than MaxAnswerBytes (said by its length or found while reading).
    private static async Task<string?> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > MaxAnswerBytes) return null;
        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxAnswerBytes) return null;
            buffer.Write(chunk, 0, read);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
        _slots.Dispose();
    }

    private string Body(IReadOnlyList<ChatMessage> conversation)
    {
        var messages = new JsonArray();
        if (_options.SystemPrompt is not null) messages.Add((JsonNode)new JsonObject { ["role"] = "system", ["content"] = _options.SystemPrompt });
        foreach (var m in conversation) messages.Add((JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content });
        return new JsonObject { ["model"] = _options.Model, ["messages"] = messages, ["temperature"] = 0, ["max_tokens"] = _options.MaxTokens }.ToJsonString();
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
