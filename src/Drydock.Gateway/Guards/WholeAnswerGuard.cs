using System.Text.Json.Nodes;
using Drydock.Gateway.Payload;

namespace Drydock.Gateway.Guards;

/// <summary>
/// The output guard for a complete (not streamed) answer, an answer, an error body or a model list alike: every string
/// of it is guarded. Text values are guarded in place; structural fields (<see cref="JsonStrings.AnswerStructure"/>),
/// property names and byte arrays, which cannot be redacted in place, must hold nothing the guard finds (and a
/// structural field only its structure), or the answer is refused. A choice with a blocked text, or with a value split
/// across its texts (content parts, a call's name and arguments), is replaced whole by the blocked notice; a blocked
/// text outside the choices (an error message, a provider's own field) is replaced by the notice. Log probabilities
/// are removed while the guard is on: they restate the answer token by token, in pieces no guard reads whole. A shape
/// it cannot read is refused, never passed.
/// </summary>
internal static class WholeAnswerGuard
{
    /// <summary>Guards <paramref name="body"/> in place; returns why it is refused (a shape it cannot read, a string it cannot redact), or null.</summary>
    public static string? Guard(TextGuard guard, JsonNode body, bool chat, GuardedAnswer answer)
    {
        if (body is not JsonObject root) return "the answer is not a JSON object";
        if (root["choices"] is { } c && c is not JsonArray) return "the answer's choices are not a list";
        if (root["choices"] is JsonArray list && list.Any(e => e is not JsonObject)) return "a choice of the answer is not an object";
        if (root["choices"] is JsonArray indexed && !ChoiceIndexes.Readable(indexed)) return "a choice of the answer has an index that is not a whole number";
        if (JsonStrings.MalformedBytes(root) is { } bytes) return $"the answer's field {bytes} is not a list of bytes";
        if (answer.Guarding && root["choices"] is JsonArray withLogprobs)
        {
            foreach (var choice in withLogprobs.Cast<JsonObject>()) if (choice["logprobs"] is not null) choice["logprobs"] = null;
        }

        if (answer.Unredactable(guard, JsonStrings.Answer(root)) is { } refused) return refused;
        var outside = JsonStrings.CollectOutside(root, "choices", JsonStrings.AnswerStructure);
        if (AnswerJoins.Outside(guard, outside, root["choices"] as JsonArray, answer) is { Count: > 0 } joined)
        {
            // Across a field outside the choices and another field: no one string holds it, so the whole answer is refused.
            answer.Findings.AddRange(joined);
            answer.Canary |= joined.Exists(f => f.Category == Drydock.Detection.Categories.Canary);
            answer.Blocked = true;
            return "the upstream sent an answer with a value split across two of its fields that the guard does not let through";
        }

        foreach (var leaf in outside)
        {
            var result = Check(guard, leaf.Value, answer);
            leaf.Set(result.Blocked ? GuardedAnswer.BlockedNotice : result.Text);
        }

        if (root["choices"] is not JsonArray choices) return null;
        if (AnswerJoins.Across(guard, choices, answer) is { Count: > 0 } across)
        {
            // Across two choices or two calls: no one choice holds it, so the whole answer is refused.
            answer.Findings.AddRange(across);
            answer.Canary |= across.Exists(f => f.Category == Drydock.Detection.Categories.Canary);
            answer.Blocked = true;
            return "the upstream sent an answer with a value split across its choices or tool calls that the guard does not let through";
        }

        for (var i = 0; i < choices.Count; i++)
        {
            var choice = (JsonObject)choices[i]!;
            var leaves = JsonStrings.Collect(choice, JsonStrings.AnswerStructure);
            var blocked = Split(guard, leaves, answer);
            foreach (var leaf in leaves)
            {
                if (blocked) break;
                var result = Check(guard, leaf.Value, answer);
                blocked |= result.Blocked;
                leaf.Set(result.Blocked ? GuardedAnswer.BlockedNotice : result.Text);
                answer.Text.Append(result.Blocked ? GuardedAnswer.BlockedNotice : result.Text);
            }

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

    // True when the texts of a choice, joined as a client may join them (content parts one after the other), hold a
    // value that none of them holds whole: a finding that runs across the end of one text. It cannot be redacted in
    // either part, so the choice is blocked. The texts are joined in the order they are written and in the reverse order
    // too: a client shows a choice's reasoning before its content wherever the upstream wrote it.
    private static bool Split(TextGuard guard, List<StringLeaf> leaves, GuardedAnswer answer)
    {
        if (!answer.Guarding || leaves.Count < 2) return false;
        var across = new List<Drydock.Detection.Finding>();
        foreach (var order in new[] { leaves, Enumerable.Reverse(leaves).ToList() })
        {
            var ends = new List<int>(order.Count);
            var length = 0;
            foreach (var leaf in order) ends.Add(length += leaf.Value.Length);
            var joined = string.Concat(order.Select(l => l.Value));
            across.AddRange(guard.Judge(joined, answer.Tier.Output, answer.Canaries).Findings.Where(f => ends.Any(e => f.Start < e && f.End > e)));
        }

        if (across.Count == 0) return false;
        answer.Findings.AddRange(across);
        answer.Canary |= across.Any(f => f.Category == Drydock.Detection.Categories.Canary);
        return true;
    }

    private static GuardResult Check(TextGuard guard, string text, GuardedAnswer answer)
    {
        answer.TextsChecked++;
        var result = guard.Output(text, answer.Tier.Output, answer.Canaries);
        if (answer.Tripwire is { } tripwire && !result.Blocked)
        {
            var (blocked, checkedText) = tripwire.Check(result.Text);
            result = result with { Blocked = blocked, Text = checkedText };
        }

        answer.Findings.AddRange(result.Findings);
        answer.Canary |= result.Canary;
        answer.Blocked |= result.Blocked;
        return result;
    }
}
