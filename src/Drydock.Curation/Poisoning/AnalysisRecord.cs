using System.Text;
using System.Text.Json;
using Drydock.Datasets;

namespace Drydock.Curation.Poisoning;

/// <summary>A record as the poisoning analysis sees it: where it is, its source and trust, its prompt and its response.</summary>
public sealed record AnalysisRecord(int Index, string File, long Line, string? Id, string Source, bool Trusted, string Prompt, string Response)
{
    /// <summary>Prompt and response together.</summary>
    public string Text => Response.Length == 0 ? Prompt : Prompt + "\n" + Response;

    /// <summary>
    /// Splits a dataset record into prompt and response: chat messages by role (system and user are the prompt,
    /// assistant the response; read from the raw JSON), ShareGPT turns by speaker, and named fields
    /// (instruction/input/prompt/question → prompt; output/completion/response/answer → response). Anything else
    /// is prompt.
    /// </summary>
    public static AnalysisRecord From(int index, DatasetRecord record, string source, bool trusted)
    {
        ArgumentNullException.ThrowIfNull(record);
        var roles = RolesOf((record.Raw as RawJson)?.Json);
        var prompt = new StringBuilder();
        var response = new StringBuilder();
        foreach (var field in record.Fields)
        {
            if (IsMetadata(field.Path)) continue;
            var target = IsResponse(field.Path, roles) ? response : prompt;
            if (target.Length > 0) target.Append('\n');
            target.Append(field.Text);
        }

        return new AnalysisRecord(index, record.File, record.Line, record.Id, source, trusted, prompt.ToString(), response.ToString());
    }

    // Role names, speaker tags and ids are structure, not text: "user" in every prompt would look like a pattern.
    private static bool IsMetadata(string path)
    {
        var last = path[(path.LastIndexOf('.') + 1)..];
        return last is "role" or "from" or "name" or "id" or "type" or "tool_call_id";
    }

    private static readonly string[] s_responseNames = ["completion", "output", "response", "answer", "chosen", "assistant", "target"];

    private static bool IsResponse(string path, Dictionary<int, string>? roles)
    {
        // messages[3].content or messages[3].content[0].text; conversations[1].value
        var bracket = path.IndexOf('[', StringComparison.Ordinal);
        if (bracket > 0 && (path.StartsWith("messages[", StringComparison.Ordinal) || path.StartsWith("conversations[", StringComparison.Ordinal)))
        {
            var end = path.IndexOf(']', bracket);
            if (end > bracket && int.TryParse(path.AsSpan(bracket + 1, end - bracket - 1), out var turn) && roles is not null && roles.TryGetValue(turn, out var role))
            {
                return role is "assistant" or "gpt" or "model" or "bot" or "chatgpt";
            }

            return false;
        }

        var name = path.Split('.', '[')[0].ToLowerInvariant();
        return s_responseNames.Contains(name);
    }

    private static Dictionary<int, string>? RolesOf(string? raw)
    {
        if (raw is null || !(raw.Contains("\"messages\"", StringComparison.Ordinal) || raw.Contains("\"conversations\"", StringComparison.Ordinal))) return null;
        try
        {
            using var doc = JsonDocument.Parse(raw, new JsonDocumentOptions { MaxDepth = 64 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return null;
            var roles = new Dictionary<int, string>();
            foreach (var (array, key) in new[] { ("messages", "role"), ("conversations", "from") })
            {
                if (!doc.RootElement.TryGetProperty(array, out var turns) || turns.ValueKind != JsonValueKind.Array) continue;
                var i = 0;
                foreach (var turn in turns.EnumerateArray())
                {
                    if (turn.ValueKind == JsonValueKind.Object && turn.TryGetProperty(key, out var role) && role.ValueKind == JsonValueKind.String) roles[i] = role.GetString()!.ToLowerInvariant();
                    i++;
                }
            }

            return roles;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
