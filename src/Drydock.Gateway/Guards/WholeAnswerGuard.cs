using System.Text.Json.Nodes;
using Drydock.Gateway.Payload;

namespace Drydock.Gateway.Guards;

/// <summary>The output guard for a complete (not streamed) answer.</summary>
internal static class WholeAnswerGuard
{
    /// <summary>Guards every text of every choice in place; a choice with a blocked text is replaced whole.</summary>
    public static void Guard(TextGuard guard, JsonNode body, bool chat, GuardedAnswer answer)
    {
        if (body["choices"] is not JsonArray choices) return;
        foreach (var choice in choices.OfType<JsonObject>())
        {
            var blocked = false;
            var changed = false;
            foreach (var (_, holder, field) in OpenAiPayload.AnswerTexts(choice, chat).ToList())
            {
                if (holder[field] is not JsonValue v || !v.TryGetValue<string>(out var text)) continue;
                var result = guard.Output(text, answer.Tier.Output, answer.Canaries);
                answer.Findings.AddRange(result.Findings);
                answer.Canary |= result.Canary;
                blocked |= result.Blocked;
                changed |= result.Blocked || result.Text != text;
                holder[field] = result.Blocked ? GuardedAnswer.BlockedNotice : result.Text;
                answer.Text.Append(result.Blocked ? GuardedAnswer.BlockedNotice : result.Text);
            }

            // Log probabilities list the answer's tokens one by one: kept, they would restate what was removed.
            if (changed && choice["logprobs"] is not null) choice["logprobs"] = null;
            if (!blocked) continue;
            answer.Blocked = true;
            var message = chat ? choice["message"] as JsonObject : choice;
            if (message is null) continue;
            foreach (var field in new[] { "refusal", "tool_calls", "function_call" }) message.Remove(field);
            message[chat ? "content" : "text"] = GuardedAnswer.BlockedNotice;
            choice["finish_reason"] = "content_filter";
        }
    }
}
