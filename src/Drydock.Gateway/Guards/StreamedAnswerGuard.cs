using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Gateway.Payload;
using Microsoft.AspNetCore.Http;

namespace Drydock.Gateway.Guards;

/// <summary>
/// The output guard for a streamed answer: relays the upstream's server-sent events through hold-back guards (one per
/// choice and text: content, refusal, each tool call's arguments).
/// </summary>
internal sealed class StreamedAnswerGuard(TextGuard guard, int window)
{
    /// <summary>Relays the answer; returns the upstream's usage.total_tokens when it sent one.</summary>
    public async Task<long?> RelayAsync(HttpContext context, HttpResponseMessage response, bool chat, GuardedAnswer guarded, JsonObject audit)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        var guards = new Dictionary<(int Choice, string Slot), StreamGuard>();
        var blocked = new HashSet<int>();
        JsonObject? template = null;
        await using var upstream = await response.Content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
        using var reader = new StreamReader(upstream, Encoding.UTF8);
        var failed = false;
        long? usage = null;

        // Once per choice: the blocked notice replaces everything the choice would still have said.
        async Task SendBlocked(int index)
        {
            if (blocked.Add(index) && template is not null) await GatewayHost.SendEventAsync(context, OpenAiPayload.Chunk(template, index, chat, "content", GuardedAnswer.BlockedNotice, "content_filter")).ConfigureAwait(false);
        }

        while (await reader.ReadLineAsync(context.RequestAborted).ConfigureAwait(false) is { } line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;
            var data = line[5..].Trim();
            if (data == "[DONE]") break;
            JsonObject chunk;
            try
            {
                chunk = JsonNode.Parse(data) as JsonObject ?? throw new JsonException("not an object");
            }
            catch (JsonException)
            {
                failed = true; // fail closed: nothing unchecked goes out
                break;
            }

            template ??= chunk.DeepClone().AsObject();
            if (chunk["usage"]?["total_tokens"] is JsonValue u && u.TryGetValue<long>(out var total)) usage = total;
            if (chunk["choices"] is not JsonArray { Count: > 0 })
            {
                // No text (the usage chunk that stream_options.include_usage asks for): it goes out as it came.
                await GatewayHost.SendEventAsync(context, chunk).ConfigureAwait(false);
                continue;
            }

            foreach (var choice in ((JsonArray)chunk["choices"]!).OfType<JsonObject>())
            {
                var index = choice["index"] is JsonValue iv && iv.TryGetValue<int>(out var i) ? i : 0;
                if (blocked.Contains(index)) continue;

                // A streamed chunk's log probabilities name the tokens of text the guard may still hold or redact.
                if ((guarded.Tier.Output != GuardMode.Off || guarded.Canaries.Count > 0) && choice["logprobs"] is not null) choice["logprobs"] = null;
                var finished = choice["finish_reason"] is JsonValue f && f.GetValueKind() == JsonValueKind.String;
                var held = 0;
                var present = 0;
                var slots = OpenAiPayload.AnswerTexts(choice, chat).ToList();
                if (slots.Any(t => t.Slot.StartsWith("part:", StringComparison.Ordinal)))
                {
                    // Streamed content in parts cannot be held back part by part: fail closed, as for a malformed chunk.
                    failed = true;
                    break;
                }

                foreach (var (slot, holder, field) in slots)
                {
                    if (holder[field] is not JsonValue v || !v.TryGetValue<string>(out var delta)) continue;
                    if (!guards.TryGetValue((index, slot), out var slotGuard)) guards[(index, slot)] = slotGuard = new StreamGuard(guard, guarded.Tier.Output, window, guarded.Canaries);
                    var ready = slotGuard.Push(delta);
                    holder[field] = ready;
                    guarded.AppendSent(ready);
                    present++;
                    if (delta.Length > 0 && ready.Length == 0) held++;
                }

                if (finished)
                {
                    // The end of this choice: what its guards still hold goes out with it.
                    foreach (var (key, slotGuard) in guards.Where(g => g.Key.Choice == index).ToList())
                    {
                        var rest = slotGuard.Flush();
                        if (rest.Length == 0) continue;
                        var holder = chat ? choice["delta"] as JsonObject ?? [] : choice;
                        if (chat) choice["delta"] = holder;
                        OpenAiPayload.Place(holder, key.Slot, rest);
                        guarded.AppendSent(rest);
                    }
                }

                if (guards.Any(g => g.Key.Choice == index && g.Value.Blocked))
                {
                    await SendBlocked(index).ConfigureAwait(false);
                    continue;
                }

                // A chunk whose every text is still held back is not sent (tool calls go out for their ids and names).
                var onlyHeld = !finished && present > 0 && held == present && (chat ? (choice["delta"] as JsonObject)?.ContainsKey("tool_calls") != true : true);
                if (!onlyHeld) await GatewayHost.SendEventAsync(context, OpenAiPayload.SingleChoice(chunk, choice)).ConfigureAwait(false);
            }

            if (failed) break;
        }

        foreach (var ((index, slot), slotGuard) in guards)
        {
            if (blocked.Contains(index)) continue;
            var rest = slotGuard.Flush();
            if (slotGuard.Blocked)
            {
                await SendBlocked(index).ConfigureAwait(false);
                continue;
            }

            if (rest.Length > 0 && template is not null) await GatewayHost.SendEventAsync(context, OpenAiPayload.Chunk(template, index, chat, slot, rest, null)).ConfigureAwait(false);
            guarded.AppendSent(rest);
        }

        foreach (var slotGuard in guards.Values)
        {
            guarded.Findings.AddRange(slotGuard.Findings);
            guarded.Blocked |= slotGuard.Blocked;
            guarded.Canary |= slotGuard.Canary;
        }

        if (failed)
        {
            audit["error"] = "malformed upstream chunk";
            await context.Response.WriteAsync("data: {\"error\":{\"message\":\"the upstream sent a malformed chunk; the stream was stopped\",\"type\":\"upstream_error\"}}\n\n", context.RequestAborted).ConfigureAwait(false);
        }

        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted).ConfigureAwait(false);
        return usage;
    }
}
