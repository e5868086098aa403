using System.Text.Json.Nodes;
using Drydock.Gateway.Monitoring;
using Drydock.Gateway.Pipeline;

namespace Drydock.Gateway;

// The signal log's view of one finished request: ids, counts, types and scores (see Monitoring/SignalRecorder.cs).
public sealed partial class GatewayHost
{
    // Signals are a view for monitoring: a sample that cannot be built or written is logged, never allowed to cut the
    // answer the client is already receiving (the request log line above is the record of the request).
    private void RecordSignal(Exchange exchange, int status, double milliseconds)
    {
        if (_signals is null) return;
        try
        {
            _signals.Record(Signal(exchange, status, milliseconds));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            GatewayLog.SignalFailed(_log, e.GetType().Name);
        }
    }

    private static SignalSample Signal(Exchange exchange, int status, double milliseconds)
    {
        var answer = exchange.Answer;
        // The template is read only from a request the input guard accepted as text (one refused for a lone surrogate
        // or a duplicate key is never read again).
        var prompt = exchange.Request is null || exchange.InputChecked == Exchange.InputNotReached ? null : Opening(exchange);
        return new SignalSample(
            exchange.LoggedModel.Length > 0 ? exchange.LoggedModel : "-",
            exchange.Key?.Tier ?? "-",
            exchange.Key?.Id ?? "-",
            milliseconds,
            exchange.TokensUsed ?? 0,
            exchange.Forwarded && status >= 500,
            exchange.InputFindings,
            exchange.InputBlocked,
            answer?.Findings,
            answer?.Blocked ?? false,
            answer?.Canary ?? false,
            answer is not null && status == 200 && !answer.Blocked ? answer.Text.ToString() : null,
            exchange.Abuse,
            prompt,
            exchange.Prompt.Length);
    }

    // The template is read from the last user message (a system prompt opens every request of an application alike).
    private static string Opening(Exchange exchange)
    {
        if (exchange.Chat && exchange.Request["messages"] is JsonArray messages)
        {
            for (var i = messages.Count - 1; i >= 0; i--)
            {
                if (messages[i] is JsonObject m && m["role"] is JsonValue role && role.TryGetValue<string>(out var r) && r == "user" && m["content"] is JsonValue content && content.TryGetValue<string>(out var text)) return text;
            }
        }

        return exchange.Prompt;
    }
}
