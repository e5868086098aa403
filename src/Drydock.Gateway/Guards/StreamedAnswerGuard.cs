using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Gateway.Limits;
using Drydock.Gateway.Payload;
using Drydock.Gateway.Upstream;
using Microsoft.AspNetCore.Http;

namespace Drydock.Gateway.Guards;

/// <summary>
/// The output guard for a streamed answer: relays the upstream's server-sent events through hold-back guards, one per
/// choice and text (every string of a choice's delta except structural fields: content, refusal, reasoning text, a
/// tool call's name and arguments, whatever a provider adds). Strings outside the choices are guarded chunk by chunk,
/// and every string that is not held back (outside the choices, structural, a number read as text) is also joined per
/// path to what that path said in earlier chunks (<see cref="CombinedTail.AddRepeated"/>): a value split across chunks
/// there stops the stream; structural fields, field names and byte arrays must hold nothing the guard finds (and a structural field only its
/// structure), or the stream is stopped; log probabilities are removed while the guard is on.
/// A stream it cannot read (not UTF-8, a line that is not an event field, a chunk that is not a JSON object, choices
/// that are not a list, content sent as parts) is stopped with an error event; nothing unchecked goes out.
/// </summary>
internal sealed class StreamedAnswerGuard(TextGuard guard, int window, Func<JsonNode?, bool>? servedByContained = null)
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Relays the answer; returns the upstream's usage.total_tokens when it sent one.</summary>
    public async Task<long?> RelayAsync(HttpContext context, HttpResponseMessage response, bool chat, GuardedAnswer guarded, JsonObject audit)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        var guards = new Dictionary<(int Choice, string Slot), StreamGuard>();
        var blocked = new HashSet<int>();
        var tail = new CombinedTail(window);
        JsonObject? template = null;
        await using var upstream = await response.Content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
        using var reader = new StreamReader(upstream, s_strictUtf8, detectEncodingFromByteOrderMarks: false);
        string? failed = null;
        long? usage = null;

        // Once per choice: the blocked notice replaces everything the choice would still have said.
        async Task SendBlocked(int index)
        {
            if (blocked.Add(index) && template is not null) await GatewayHost.SendEventAsync(context, Chunk(template, index, chat ? "delta.content" : "text", GuardedAnswer.BlockedNotice, "content_filter")!).ConfigureAwait(false);
        }

        while (failed is null)
        {
            string? line;
            try
            {
                line = await reader.ReadLineAsync(context.RequestAborted).ConfigureAwait(false);
            }
            catch (DecoderFallbackException)
            {
                failed = "the upstream sent a stream that is not UTF-8";
                break;
            }

            if (line is null) break;
            if (!line.StartsWith("data:", StringComparison.Ordinal))
            {
                // Blank lines, comments and the other event fields carry no text; anything else is not a stream it can read.
                if (line.Length == 0 || line[0] == ':' || line.StartsWith("event:", StringComparison.Ordinal) || line.StartsWith("id:", StringComparison.Ordinal) || line.StartsWith("retry:", StringComparison.Ordinal)) continue;
                failed = "the upstream sent a line that is not a server-sent event";
                break;
            }

            var data = line[5..].Trim();
            if (data == "[DONE]") break;
            JsonObject chunk;
            try
            {
                // A key given twice is malformed (JsonObject would throw ArgumentException when the chunk is read).
                chunk = JsonNode.Parse(data, documentOptions: UpstreamClient.StrictJson) as JsonObject ?? throw new JsonException("not an object");
                if (!JsonStrings.IsText(chunk)) throw new JsonException("a string that is not text");
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
            {
                failed = "the upstream sent a malformed chunk";
                break;
            }

            if ((chunk["choices"] is { } c && c is not JsonArray) || (chunk["choices"] is JsonArray l && l.Any(e => e is not JsonObject)))
            {
                failed = "the upstream sent choices that are not a list of objects";
                break;
            }

            if (chunk["choices"] is JsonArray indexed && !ChoiceIndexes.Readable(indexed))
            {
                failed = "the upstream sent a choice whose index is not a whole number";
                break;
            }

            // A chunk that says a contained model wrote it ends the stream as the kill switch does (nothing held goes out).
            if (servedByContained?.Invoke(chunk["model"]) == true) throw new UpstreamCutException();

            if (JsonStrings.MalformedBytes(chunk) is not null)
            {
                failed = "the upstream sent a field bytes that is not a list of bytes";
                break;
            }

            if (guarded.Guarding && chunk["choices"] is JsonArray withLogprobs)
            {
                // A streamed chunk's log probabilities name the tokens of text the guard may still hold or redact.
                foreach (var choice in withLogprobs.Cast<JsonObject>()) if (choice["logprobs"] is not null) choice["logprobs"] = null;
            }

            // Structural fields, field names and byte arrays cannot be held back or redacted: anything found there stops the stream.
            var strings = JsonStrings.Answer(chunk);
            if (guarded.Unredactable(guard, strings) is { } refused)
            {
                failed = refused;
                break;
            }

            if (chunk["choices"] is JsonArray named && !JsonStrings.PathNames(named))
            {
                // A text is relayed by its path in the choice: a field name that reads as a path's separators cannot be.
                failed = "the upstream sent a field name that cannot be relayed";
                break;
            }

            template ??= Template(chunk);
            if (chunk["usage"] is JsonObject { } counts && counts["total_tokens"] is JsonValue u && u.TryGetValue<long>(out var total)) usage = total;

            // Strings outside the choices (an error event, a provider's own field): guarded in this chunk, and joined to
            // what the same path said in earlier chunks in the combined tail (a value split across chunks stops the stream).
            foreach (var leaf in JsonStrings.CollectOutside(chunk, "choices", JsonStrings.AnswerStructure))
            {
                guarded.TextsChecked++;
                var result = guard.Output(leaf.Value, guarded.Tier.Output, guarded.Canaries);
                guarded.Findings.AddRange(result.Findings);
                guarded.Canary |= result.Canary;
                if (result.Blocked) failed = "the upstream sent text outside the answer that was blocked by policy";
                leaf.Set(result.Text);
                tail.AddOutside(leaf.Path, result.Text);
            }

            if (failed is not null)
            {
                guarded.Blocked = true;
                break;
            }

            // Structural fields (a tool call's id) and numbers read as text go out as they are: joined per path as well.
            foreach (var leaf in strings) if (leaf.Kind is LeafKind.Structure or LeafKind.Number) tail.AddRepeated(leaf.Path, leaf.Value);

            // The chunk's texts join the combined tail before any of them leaves: a value split across fields or choices stops the stream.
            foreach (var choice in (chunk["choices"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var at = choice["index"] is JsonValue tv && tv.TryGetValue<int>(out var ti) ? ti : 0;
                if (blocked.Contains(at)) continue;
                foreach (var leaf in JsonStrings.Collect(choice, JsonStrings.AnswerStructure)) tail.Add(at, leaf.Path, leaf.Value);
            }

            if (tail.Across(guard, guarded) is { Count: > 0 } across)
            {
                guarded.Findings.AddRange(across);
                guarded.Canary |= across.Exists(f => f.Category == Drydock.Detection.Categories.Canary);
                guarded.Blocked = true;
                failed = "the upstream sent a value split across the texts of its answer that the guard does not let through";
                break;
            }

            if (chunk["choices"] is not JsonArray { Count: > 0 })
            {
                // No choice (the usage chunk that stream_options.include_usage asks for, an error event): it goes out as guarded above.
                await GatewayHost.SendEventAsync(context, chunk).ConfigureAwait(false);
                continue;
            }

            foreach (var choice in ((JsonArray)chunk["choices"]!).OfType<JsonObject>())
            {
                var index = choice["index"] is JsonValue iv && iv.TryGetValue<int>(out var i) ? i : 0;
                if (blocked.Contains(index)) continue;

                if ((choice["delta"] ?? choice["message"]) is JsonObject { } said && said["content"] is JsonArray)
                {
                    // Streamed content in parts cannot be held back part by part: fail closed, as for a malformed chunk.
                    failed = "the upstream streamed content in parts";
                    break;
                }

                var finished = choice["finish_reason"] is JsonValue f && f.GetValueKind() == JsonValueKind.String;
                var held = 0;
                var present = 0;
                foreach (var leaf in JsonStrings.Collect(choice, JsonStrings.AnswerStructure))
                {
                    if (!guards.TryGetValue((index, leaf.Path), out var slotGuard))
                    {
                        guards[(index, leaf.Path)] = slotGuard = new StreamGuard(guard, guarded.Tier.Output, window, guarded.Canaries) { Tripwire = guarded.Tripwire };
                        guarded.TextsChecked++;
                    }

                    var ready = slotGuard.Push(leaf.Value);
                    leaf.Set(ready);
                    guarded.AppendSent(ready);
                    present++;
                    if (leaf.Value.Length > 0 && ready.Length == 0) held++;
                }

                if (finished)
                {
                    // The end of this choice: what its guards still hold goes out with it.
                    foreach (var (key, slotGuard) in guards.Where(g => g.Key.Choice == index).ToList())
                    {
                        var rest = slotGuard.Flush();
                        if (rest.Length == 0) continue;
                        if (!JsonStrings.TryAppend(choice, key.Slot, rest))
                        {
                            failed = "the upstream sent a chunk shaped unlike its earlier chunks";
                            break;
                        }

                        guarded.AppendSent(rest);
                    }

                    if (failed is not null) break;
                }

                if (guards.Any(g => g.Key.Choice == index && g.Value.Blocked))
                {
                    await SendBlocked(index).ConfigureAwait(false);
                    continue;
                }

                // A chunk whose every text is still held back is not sent (tool calls go out for their ids), unless it carries
                // anything else: it then goes out with its held texts empty, so no field of it is lost.
                var onlyHeld = !finished && present > 0 && held == present && (chat ? (choice["delta"] as JsonObject)?.ContainsKey("tool_calls") != true : true)
                    && !CarriesMore(chunk, template, choice);
                if (!onlyHeld) await GatewayHost.SendEventAsync(context, OpenAiPayload.SingleChoice(chunk, choice)).ConfigureAwait(false);
            }
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

            // A stream that failed sends nothing more of what was held: it was not seen to its end.
            if (failed is null && rest.Length > 0 && template is not null)
            {
                if (Chunk(template, index, slot, rest, null) is not { } last)
                {
                    failed = "the upstream sent a chunk shaped unlike its earlier chunks";
                    continue;
                }

                await GatewayHost.SendEventAsync(context, last).ConfigureAwait(false);
            }

            if (failed is null) guarded.AppendSent(rest);
        }

        foreach (var slotGuard in guards.Values)
        {
            guarded.Findings.AddRange(slotGuard.Findings);
            guarded.Blocked |= slotGuard.Blocked;
            guarded.Canary |= slotGuard.Canary;
        }

        if (failed is not null)
        {
            audit["error"] = failed;
            var error = new JsonObject { ["error"] = new JsonObject { ["message"] = failed + "; the stream was stopped", ["type"] = "upstream_error" } };
            await context.Response.WriteAsync("data: " + error.ToJsonString() + "\n\n", context.RequestAborted).ConfigureAwait(false);
        }

        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted).ConfigureAwait(false);
        return usage;
    }

    // True when a chunk whose texts are all held (now empty) carries anything else: a top-level field its first chunk did
    // not have or had with another value (usage, a provider's field, a new system fingerprint), or a field of the choice
    // or of its delta that is not an emptied text (a role, a stop reason, an object).
    private static bool CarriesMore(JsonObject chunk, JsonObject? template, JsonObject choice)
    {
        foreach (var (name, value) in chunk)
        {
            if (name == "choices") continue;
            if (template is null || !template.TryGetPropertyValue(name, out var first) || !JsonNode.DeepEquals(first, value)) return true;
        }

        static bool Emptied(JsonNode? node) => node is null || (node is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Length == 0);
        foreach (var (name, value) in choice)
        {
            if (name == "index" || value is null || Emptied(value)) continue;
            if (name == "delta" && value is JsonObject delta && delta.All(p => Emptied(p.Value))) continue;
            return true;
        }

        return false;
    }

    // The shape of a chunk the gateway writes itself: the upstream's first chunk's structural fields, no text.
    private static JsonObject Template(JsonObject chunk)
    {
        var template = new JsonObject();
        foreach (var name in new[] { "id", "object", "created", "model", "system_fingerprint" })
        {
            if (chunk[name] is JsonValue v) template[name] = v.DeepClone();
        }

        return template;
    }

    // A chunk of one choice carrying text at a slot (a path in the choice), shaped like the template.
    private static JsonObject? Chunk(JsonObject template, int index, string slot, string text, string? finish)
    {
        var chunk = template.DeepClone().AsObject();
        var choice = new JsonObject { ["index"] = index };
        if (!JsonStrings.TryAppend(choice, slot, text)) return null;
        choice["finish_reason"] = finish;
        chunk["choices"] = new JsonArray(choice);
        return chunk;
    }
}
