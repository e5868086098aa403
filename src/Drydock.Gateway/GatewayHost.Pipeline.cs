using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Detection;
using Drydock.Gateway.Guards;
using Drydock.Gateway.Limits;
using Drydock.Gateway.Monitoring;
using Drydock.Gateway.Operations;
using Drydock.Gateway.Payload;
using Drydock.Gateway.Pipeline;
using Drydock.Gateway.Upstream;
using Microsoft.AspNetCore.Http;

namespace Drydock.Gateway;

// The fixed pipeline of every completion request: authenticate → limit → guard input → forward → guard output → audit.
// Each stage either lets the exchange go on (null) or has answered the client and returns the status it sent.
public sealed partial class GatewayHost
{
    private async Task Complete(HttpContext context, bool chat)
    {
        var clock = Stopwatch.StartNew();
        var endpoint = chat ? "chat" : "completions";
        using var activity = GatewayMetrics.Activities.StartActivity("gateway " + endpoint);
        var audit = new JsonObject { ["endpoint"] = endpoint };
        var status = 0;
        var exchange = new Exchange(context, chat, audit);
        Interlocked.Increment(ref _inFlight);
        try
        {
            status = await Handle(exchange).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Fail closed: whatever broke, the client gets a clean error and nothing unchecked.
            GatewayLog.RequestFailed(_log, e.GetType().Name);
            audit["error"] = e.GetType().Name;
            status = await Error(context, 500, "gateway_error", "the gateway could not handle this request").ConfigureAwait(false);
        }
        finally
        {
            // Audit: every request, whatever stage ended it, leaves one line in the request log.
            status = status == 0 ? context.Response.StatusCode : status;
            audit["status"] = status;
            audit["ms"] = Math.Round(clock.Elapsed.TotalMilliseconds, 1);
            activity?.SetTag("http.response.status_code", status);
            activity?.SetTag("drydock.key", (string?)audit["key"]);
            Metrics.Request(endpoint, status, clock.Elapsed.TotalSeconds);
            if (_audit is not null) await _audit.WriteAsync(audit).ConfigureAwait(false);
            RecordSignal(exchange, status, clock.Elapsed.TotalMilliseconds);
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task<int> Handle(Exchange exchange)
    {
        if (await AuthenticateAsync(exchange).ConfigureAwait(false) is { } unauthenticated) return unauthenticated;
        if (await RefuseOnBrokenStateAsync(exchange.Context).ConfigureAwait(false) is { } broken)
        {
            exchange.Audit["error"] = "registry_state_broken";
            return broken;
        }

        if (await ReadRequestAsync(exchange).ConfigureAwait(false) is { } unreadable) return unreadable;
        if (await LimitAsync(exchange).ConfigureAwait(false) is { } limited) return limited;
        try
        {
            if (await GuardInputAsync(exchange).ConfigureAwait(false) is { } refused) return refused;
            await WatchAsync(exchange).ConfigureAwait(false);
            return await ForwardAndGuardOutputAsync(exchange).ConfigureAwait(false);
        }
        finally
        {
            // The reservation becomes what the answer used; a request that went upstream and failed before its usage
            // was known keeps its whole reservation, one that never went keeps none.
            await _state.SettleAsync(exchange.Key.Id, exchange.Admission, exchange.TokensUsed ?? (exchange.Forwarded ? exchange.Admission.Reserved : 0)).ConfigureAwait(false);
        }
    }

    private async Task<int?> ReadRequestAsync(Exchange exchange)
    {
        var context = exchange.Context;
        try
        {
            // Strict UTF-8, then one JSON object with no key twice and no lone surrogate (RequestBody): a string that is
            // not UTF-8 would fail later, when the guard reads it, and a key given twice could be read differently by
            // the guard and the model server.
            var (request, code, message) = await RequestBody.ReadObjectAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
            if (request is not null)
            {
                exchange.Request = request;
                return null;
            }

            if (code == RequestBody.InvalidEncoding) exchange.Audit["error"] = code;
            return await Error(context, 400, code, message).ConfigureAwait(false);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) when (e.StatusCode == 413)
        {
            return await Error(context, 413, "request_too_large", $"the request is larger than {_options.MaxRequestBytes} bytes").ConfigureAwait(false);
        }
    }

    // Every string of the request (less structure: roles, types, ids), the model string and the field names the API
    // does not define are one text for the input guard; what it checked goes to the x-drydock-guard header and the log.
    private async Task<int?> GuardInputAsync(Exchange exchange)
    {
        var contents = OpenAiPayload.PromptTexts(exchange.Request, exchange.Chat).ToList();
        exchange.Prompt = string.Join("\n", contents);
        var texts = JsonStrings.RequestTexts(exchange.Request, out var count, out var invalid);
        if (invalid is not null)
        {
            // A role, type or id is written into the prompt by chat templates: one that holds more than its structure
            // allows is refused, whatever the tier's input guard.
            Metrics.Blocked("input");
            exchange.Audit["error"] = "the request field " + invalid + " holds more than its structure allows";
            return await Error(exchange.Context, 400, "invalid_request", $"the request field {invalid} holds more than its structure allows").ConfigureAwait(false);
        }

        texts.Add(exchange.Model);
        var prompt = string.Join("\n", texts);
        var semantic = exchange.Tier.SemanticInjection && exchange.Tier.Input != GuardMode.Off;
        var input = _guard.Input(prompt, exchange.Tier.Input, semantic);
        // Joined three times: every text of the request in order (a name beside its content), and the message contents
        // alone (between two messages the join above has their roles and other fields), in order and in reverse order
        // (a key pasted second half first: a model reads the whole conversation, in any order it is asked to).
        var reversed = Enumerable.Reverse(contents).ToList();
        if (JoinedTexts.SecretsAcross(_guard, texts, exchange.Tier.Input).Concat(JoinedTexts.SecretsAcross(_guard, contents, exchange.Tier.Input))
            .Concat(JoinedTexts.SecretsAcross(_guard, reversed, exchange.Tier.Input)).ToList() is { Count: > 0 } across)
        {
            input = input with { Blocked = exchange.Tier.Input == GuardMode.Block, Findings = [.. input.Findings, .. across] };
        }

        // And the user's messages joined into one text, for an instruction split across two of them.
        if (JoinedTexts.InjectionAcross(_guard, OpenAiPayload.UserTexts(exchange.Request, exchange.Chat).ToList(), input, exchange.Tier.Input, semantic) is { Count: > 0 } spanning)
        {
            var blocks = exchange.Tier.Input == GuardMode.Block && spanning.Exists(f => f.Severity >= Severity.High);
            input = input with { Blocked = input.Blocked || blocks, Findings = [.. input.Findings, .. spanning] };
        }

        var audit = exchange.Audit;
        exchange.InputChecked = exchange.Tier.Input == GuardMode.Off ? "input=off" : $"input={Mode(exchange.Tier.Input)} texts={count + 1} detectors={TextGuard.InputDetectors}{(semantic ? ",semantic-injection" : "")}";
        exchange.Context.Response.Headers[GuardHeader] = exchange.InputChecked;
        audit["guard"] = exchange.InputChecked;
        audit["inputFindings"] = Types(input.Findings);
        Metrics.Findings(input.Findings.Select(f => f.Category));
        exchange.InputFindings = input.Findings;
        exchange.InputBlocked = input.Blocked;
        if (_audit?.Keep(prompt, Redact) is { } keptPrompt) audit["prompt"] = keptPrompt;
        if (!input.Blocked) return null;
        Metrics.Blocked("input");
        return await Error(exchange.Context, 400, "input_blocked", $"the request was blocked by policy ({string.Join(", ", input.Findings.Select(f => f.Category + "/" + f.Type).Distinct().ToArray())})").ConfigureAwait(false);
    }

    // Forward, then guard the answer (whole or streamed), then account for it (tokens, incidents, the log line).
    private async Task<int> ForwardAndGuardOutputAsync(Exchange exchange)
    {
        var context = exchange.Context;
        var request = exchange.Request;
        if (exchange.Tier.Regurgitation != RegurgitationMode.Off)
        {
            // Fail closed: a tier that checks answers against the training records never serves one it cannot check.
            var (index, problem) = _operations.Tripwire(exchange.Route.ModelId);
            if (index is null)
            {
                GatewayLog.TripwireUnavailable(_log, exchange.LoggedModel, problem);
                exchange.Audit["error"] = "tripwire_unavailable";
                Metrics.Blocked("tripwire");
                return await Error(context, 503, "tripwire_unavailable", $"model '{exchange.LoggedModel}' is not served: this tier checks answers against the model's training records and its tripwire index is not available").ConfigureAwait(false);
            }

            exchange.Tripwire = index;
        }

        request["model"] = exchange.Route.Upstream;

        // Containment reaches requests already with the model server: the watch cuts the answer's body or stream.
        using var watch = new ServedWatch(_operations, exchange.Model, exchange.Route, TimeProvider.System, context.RequestAborted);
        exchange.Forwarded = true;
        using var response = await _upstream.ForwardAsync(context, HttpMethod.Post, exchange.Chat ? "chat/completions" : "completions", request).ConfigureAwait(false);
        if (response is null) return 0;
        try
        {
            return await GuardOutputAsync(exchange, await UpstreamBody.WatchAsync(response, _options.UpstreamIdleTimeout, watch, context.RequestAborted).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is UpstreamIdleException or UpstreamCutException)
        {
            // Nothing held back goes out: what the guards still hold was never checked whole.
            var (status, code, message) = e is UpstreamCutException
                ? _operations.ServingProblem is not null
                    ? (503, "registry_state_broken", BrokenStateMessage + "; the answer was stopped")
                    : (503, "model_disabled", $"model '{exchange.Model}' was disabled by an administrator; the answer was stopped")
                : (504, "upstream_timeout", $"{e.Message}; the answer was stopped");
            exchange.Audit["error"] = code;
            if (e is UpstreamCutException) Metrics.Blocked("disabled");
            if (!context.Response.HasStarted) return await Error(context, status, code, message).ConfigureAwait(false);
            await SendEventAsync(context, new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = "upstream_error", ["code"] = code } }).ConfigureAwait(false);
            await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted).ConfigureAwait(false);
            return 200;
        }
    }

    private async Task<int> GuardOutputAsync(Exchange exchange, HttpResponseMessage response)
    {
        var context = exchange.Context;
        var guarded = new GuardedAnswer(exchange.Tier, _operations.Canaries) { Tripwire = exchange.Tripwire is { } index ? new RegurgitationGuard(index, exchange.Tier.Regurgitation) : null };
        var streamed = response.Content.Headers.ContentType?.MediaType == "text/event-stream";
        if (streamed && (!exchange.Stream || !response.IsSuccessStatusCode || UpstreamClient.Unreadable(response) is not null))
        {
            return await Error(context, 502, "upstream_malformed", "the model server answered with a stream the gateway cannot read here").ConfigureAwait(false);
        }

        if (!streamed)
        {
            // A whole answer, or the upstream's error body: every string guarded, a shape it cannot read refused.
            var body = await UpstreamClient.ReadJsonAsync(context, response).ConfigureAwait(false);
            if (body is null) return 0;

            // An answer read whole after its model was contained is not sent.
            // So is one that says it was served by a contained model, whatever name it was asked for under.
            if (_operations.ServingProblem is not null || _operations.Resolve(exchange.Model) != exchange.Route || ServedByContained((body as JsonObject)?["model"])) throw new UpstreamCutException();
            var refused = WholeAnswerGuard.Guard(_guard, body, exchange.Chat, guarded);

            // A refused answer is still accounted for: its findings go to the log line and a canary opens its incident.
            if (refused is not null) guarded.Text.Clear();
            var tokens = body is JsonObject { } o && o["usage"] is JsonObject { } counts && counts["total_tokens"] is JsonValue u && u.TryGetValue<long>(out var t) ? t : (exchange.Prompt.Length + guarded.Text.Length) / 4;
            await AccountAsync(exchange, guarded, tokens).ConfigureAwait(false);
            context.Response.Headers[GuardHeader] = exchange.InputChecked + "; " + OutputChecked(guarded, guarded.TextsChecked.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (refused is not null)
            {
                exchange.Audit["error"] = refused;
                return await Error(context, 502, guarded.Blocked ? "output_blocked" : "upstream_malformed", refused).ConfigureAwait(false);
            }

            await Json(context, (int)response.StatusCode, body).ConfigureAwait(false);
            return (int)response.StatusCode;
        }

        context.Response.Headers[GuardHeader] = exchange.InputChecked + "; " + OutputChecked(guarded, "stream");
        var usage = await new StreamedAnswerGuard(_guard, _options.StreamWindow, ServedByContained).RelayAsync(context, response, exchange.Chat, guarded, exchange.Audit).ConfigureAwait(false);
        await AccountAsync(exchange, guarded, usage ?? ((exchange.Prompt.Length + guarded.Text.Length) / 4)).ConfigureAwait(false);
        return 200;
    }

    // True when an answer's model field names a model that is contained (the kill switch or a revert, under any of its
    // names and spellings): an upstream that answers with it was routed there by a name that was not contained.
    private bool ServedByContained(JsonNode? model) =>
        model is JsonValue v && v.TryGetValue<string>(out var name) && name.Length > 0 && _operations.Resolve(name).Upstream is null;

    // After an answer: tokens counted, findings and text to the log line, canary trips alerted with an incident.
    private async Task AccountAsync(Exchange exchange, GuardedAnswer guarded, long tokens)
    {
        var audit = exchange.Audit;
        exchange.Answer = guarded;
        exchange.TokensUsed = tokens;
        var regurgitated = guarded.Tripwire is { Hits.Count: > 0 };
        if (regurgitated) guarded.Findings.AddRange(guarded.Tripwire!.Findings);
        Metrics.Tokens(tokens);
        audit["tokens"] = tokens;
        audit["outputFindings"] = Types(guarded.Findings);
        audit["guard"] = exchange.InputChecked + "; " + OutputChecked(guarded, guarded.TextsChecked.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Metrics.Findings(guarded.Findings.Select(f => f.Category));
        if (guarded.Blocked) Metrics.Blocked(guarded.Canary ? "canary" : regurgitated && exchange.Tier.Regurgitation == RegurgitationMode.Block ? "regurgitation" : "output");
        // A flagged answer still holds the record's words: the log keeps them replaced by the marker.
        var sent = regurgitated ? new RegurgitationGuard(guarded.Tripwire!.Index, RegurgitationMode.Redact).Check(guarded.Text.ToString()).Text : guarded.Text.ToString();
        if (_audit?.Keep(sent, Redact) is { } kept) audit["answer"] = kept;
        if (guarded.Canary) CanaryTripped(exchange, guarded);
        if (regurgitated) Regurgitated(exchange, guarded.Tripwire!);
    }

    /// <summary>The response header that says what the guards checked (so a guard that was off never looks like one that passed).</summary>
    internal const string GuardHeader = "x-drydock-guard";

    private static string OutputChecked(GuardedAnswer guarded, string texts) =>
        guarded.Detectors.Length == 0 ? "output=off" : $"output={Mode(guarded.Tier.Output)} texts={texts} detectors={guarded.Detectors}";

    private static string Mode(GuardMode mode) => mode.ToString().ToLowerInvariant();

    // For the request log: every finding redacted, registered canaries included (found or not, a code is never kept raw).
    private string Redact(string text) => _guard.RedactAll(text, _operations.Canaries);

    private static string Types(IEnumerable<Finding> findings) => string.Join(",", findings.Select(f => f.Type).Distinct().ToArray());
}
