using System.Text.Json.Nodes;
using Drydock.Gateway.Payload;

namespace Drydock.Gateway.Guards;

/// <summary>
/// The output guard for a complete (not streamed) answer, an answer or an error body alike: every string of it is
/// guarded in place except the structural fields of <see cref="JsonStrings.AnswerStructure"/>. A choice with a blocked
/// text is replaced whole by the blocked notice; a blocked text outside the choices (an error message, a provider's
/// own field) is replaced by the notice. A shape it cannot read is refused, never passed.
/// </summary>
internal static class WholeAnswerGuard
{
    /// <summary>Guards <paramref name="body"/> in place; returns why its shape cannot be read, or null.</summary>
    public static string? Guard(TextGuard guard, JsonNode body, bool chat, GuardedAnswer answer)
    {
        if (body is not JsonObject root) return "the answer is not a JSON object";
        if (root["choices"] is { } c && c is not JsonArray) return "the answer's choices are not a list";
        if (root["choices"] is JsonArray list && list.Any(e => e is not JsonObject)) return "a choice of the answer is not an object";

        foreach (var leaf in JsonStrings.Collect(root, JsonStrings.AnswerStructure))
        {
            if (leaf.Path.StartsWith("choices[", StringComparison.Ordinal)) continue;
            var result = Check(guard, leaf.Value, answer);
            leaf.Set(result.Blocked ? GuardedAnswer.BlockedNotice : result.Text);
        }

        if (root["choices"] is not JsonArray choices) return null;
        for (var i = 0; i < choices.Count; i++)
        {
            var choice = (JsonObject)choices[i]!;
            var blocked = false;
            var changed = false;
            foreach (var leaf in JsonStrings.Collect(choice, JsonStrings.AnswerStructure))
            {
                var result = Check(guard, leaf.Value, answer);
                blocked |= result.Blocked;
                changed |= result.Blocked || result.Text != leaf.Value;
                leaf.Set(result.Blocked ? GuardedAnswer.BlockedNotice : result.Text);
                answer.Text.Append(result.Blocked ? GuardedAnswer.BlockedNotice : result.Text);
            }

            // Log probabilities list the answer's tokens one by one: kept, they would restate what was removed.
            if (changed && choice["logprobs"] is not null) choice["logprobs"] = null;
            if (!blocked) continue;
            answer.Blocked = true;

            // The whole choice is replaced: nothing of what it said (in any field) stays.
            var replacement = new JsonObject { ["index"] = choice["index"]?.DeepClone() ?? i };
            if (chat) replacement["message"] = new JsonObject { ["role"] = "assistant", ["content"] = GuardedAnswer.BlockedNotice };
            else replacement["text"] = GuardedAnswer.BlockedNotice;
            replacement["logprobs"] = null;
            replacement["finish_reason"] = "content_filter";
            choices[i] = replacement;
        }

        return null;
    }

    private static GuardResult Check(TextGuard guard, string text, GuardedAnswer answer)
    {
        answer.TextsChecked++;
        var result = guard.Output(text, answer.Tier.Output, answer.Canaries);
        answer.Findings.AddRange(result.Findings);
        answer.Canary |= result.Canary;
        answer.Blocked |= result.Blocked;
        return result;
    }
}
