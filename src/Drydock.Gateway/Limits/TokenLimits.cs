using System.Text.Json;
using System.Text.Json.Nodes;

namespace Drydock.Gateway.Limits;

/// <summary>A request's token budget, or why it is refused (status, error code, message).</summary>
/// <param name="Reserve">Tokens to reserve against the key's tokens per minute: the prompt estimate plus every choice's maximum.</param>
/// <param name="Status">The HTTP status of a refusal.</param>
/// <param name="Code">The error code of a refusal; null when the request may go on.</param>
/// <param name="Message">What the client is told.</param>
internal readonly record struct TokenBudget(long Reserve, int Status, string? Code, string? Message)
{
    public bool Refused => Code is not null;

    public static TokenBudget Refuse(int status, string code, string message) => new(0, status, code, message);
}

/// <summary>
/// Every field that bounds how many tokens an answer may have, checked against the tier before anything is forwarded:
/// <c>max_tokens</c>, <c>max_completion_tokens</c> and the other servers' names for it, each of the <c>n</c> (or
/// <c>best_of</c>) choices of each prompt of a list counting. The tier's <c>max-tokens</c> bounds the whole answer: n choices of at most
/// max-tokens / n each. A field that is not a positive integer is refused, never passed on for the model server to read
/// its own way.
/// </summary>
internal static class TokenLimits
{
    // Names model servers read as the most (or least) tokens of one choice: OpenAI, vLLM, TGI, the Responses API.
    private static readonly string[] s_maxFields = ["max_tokens", "max_completion_tokens", "max_new_tokens", "max_output_tokens"];

    // What one choice may not fall below (vLLM's min_tokens): within the limit as well, or it would force a longer answer.
    private const string MinField = "min_tokens";

    /// <summary>
    /// Checks <paramref name="request"/> against <paramref name="tier"/>; when no maximum is given, sets <c>max_tokens</c>
    /// to the tier's share for each choice. Returns the reservation, or a refusal.
    /// </summary>
    public static TokenBudget Apply(JsonObject request, Tier tier)
    {
        if (!Count(request, "n", out var n, out var refusal) || !Count(request, "best_of", out var bestOf, out refusal)) return refusal;
        // A list of prompts is answered prompt by prompt: each of them has n (or best_of) choices.
        var prompts = Prompts(request);
        var choices = (long)Math.Max(n ?? 1, bestOf ?? 1) * prompts;
        if (choices > tier.MaxTokens) return TokenBudget.Refuse(403, "max_tokens_exceeded", $"{choices} choices of at least one token each are above the tier's {tier.MaxTokens} tokens an answer");
        var each = (int)(tier.MaxTokens / choices);
        long asked = 0;
        foreach (var field in s_maxFields.Append(MinField))
        {
            if (!Count(request, field, out var value, out refusal)) return refusal;
            if (value is not { } v) continue;
            if ((long)v * choices > tier.MaxTokens)
            {
                var times = choices > 1 ? $" for each of {choices} choices" : "";
                return TokenBudget.Refuse(403, "max_tokens_exceeded", $"{field} {v}{times} is above the tier's {tier.MaxTokens} tokens an answer");
            }

            if (field != MinField) asked = Math.Max(asked, v);
        }

        if (asked == 0)
        {
            request["max_tokens"] = each;
            asked = each;
        }

        return new TokenBudget(PromptTokens(request) + (asked * choices), 0, null, null);
    }

    // How many prompts a request holds: a list of strings or of token-ID lists is that many; anything else is one.
    private static long Prompts(JsonObject request) =>
        request["prompt"] is JsonArray list && list.Count > 0 && list.Any(p => p is JsonArray || (p is JsonValue v && v.GetValueKind() == JsonValueKind.String)) ? list.Count : 1;

    /// <summary>The request's text (every string in it: messages, names, tools) at four characters a token, rounded up.</summary>
    public static long PromptTokens(JsonNode request)
    {
        long characters = 0;
        Walk(request);
        return (characters + 3) / 4;

        void Walk(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (_, value) in o) Walk(value);
                    break;
                case JsonArray a:
                    foreach (var item in a) Walk(item);
                    break;
                case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                    characters += v.GetValue<string>().Length;
                    break;
                case JsonValue v when v.GetValueKind() == JsonValueKind.Number && InPrompt(v):
                    // A token ID of a prompt is a token (four characters' worth).
                    characters += 4;
                    break;
            }
        }
    }

    // Whether a number is part of the top-level prompt (a token ID), as a list item or in a list of lists.
    private static bool InPrompt(JsonNode node)
    {
        static bool IsPrompt(JsonNode? list) => list is JsonArray && list.Parent is JsonObject root && root.Parent is null && ReferenceEquals(root["prompt"], list);
        return IsPrompt(node.Parent) || (node.Parent is JsonArray && IsPrompt(node.Parent.Parent));
    }

    // A count field: absent or null is no value (a null is removed, so no server reads it as "no limit"); anything
    // else must be a positive integer.
    private static bool Count(JsonObject request, string field, out int? value, out TokenBudget refusal)
    {
        value = null;
        refusal = default;
        if (!request.TryGetPropertyValue(field, out var node)) return true;
        if (node is null)
        {
            request.Remove(field);
            return true;
        }

        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var i) && i > 0)
        {
            value = i;
            return true;
        }

        refusal = TokenBudget.Refuse(400, "invalid_request", $"{field} must be a positive integer, not {Shorten(node.ToJsonString())}");
        return false;
    }

    private static string Shorten(string json) => json.Length <= 24 ? json : json[..24] + "…";
}
