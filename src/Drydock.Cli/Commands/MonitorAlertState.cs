using System.Text;
using System.Text.Json;
using Drydock.Datasets.Output;

namespace Drydock.Cli.Commands;

/// <summary>
/// What <c>drydock monitor --watch</c> remembers between runs: the signals crossed at its last check, in
/// <c>alerts-state.json</c> beside the alerts log (owner-only, replaced atomically after each check). A restarted watch
/// reads it, so a signal that stays crossed across the restart does not alert again. A file that cannot be read is an
/// error naming its file and line, never silently reset (a reset would alert again on everything crossed).
/// </summary>
internal static class MonitorAlertState
{
    public const string FileName = "alerts-state.json";

    /// <summary>The signals crossed at the last check; empty when no watch ran here before.</summary>
    public static HashSet<string> Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        var crossing = new HashSet<string>(StringComparer.Ordinal);
        if (!File.Exists(path)) return crossing;
        var bytes = File.ReadAllBytes(path);
        var r = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            Expect(r.Read() && r.TokenType == JsonTokenType.StartObject, "not a JSON object");
            var seen = false;
            while (true)
            {
                Expect(r.Read(), "cut short");
                if (r.TokenType == JsonTokenType.EndObject) break;
                var name = r.GetString();
                Expect(r.Read(), "cut short");
                switch (name)
                {
                    case "crossing":
                        Expect(r.TokenType == JsonTokenType.StartArray, "crossing: must be a list of signal names");
                        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
                        {
                            Expect(r.TokenType == JsonTokenType.String && r.GetString() is { Length: > 0 and <= 64 }, "crossing: must be a list of signal names");
                            crossing.Add(r.GetString()!);
                        }

                        Expect(r.TokenType == JsonTokenType.EndArray, "cut short");
                        seen = true;
                        break;
                    case "at":
                        Expect(r.TokenType == JsonTokenType.String, "at: must be a time");
                        break;
                    default:
                        Expect(false, $"unknown field '{(name!.Length > 40 ? name[..40] : name)}'");
                        break;
                }
            }

            Expect(seen, "no crossing field");
            Expect(!r.Read(), "text after the object");
            return crossing;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // The reader's own errors carry a line (0-based); ours the position of the token that was wrong.
            var number = (e as JsonException)?.LineNumber;
            var line = number is { } l ? l + 1 : LineAt(bytes, r.TokenStartIndex);
            var reason = number is null && e is JsonException ? e.Message : "not valid JSON";
            throw new ArgumentException($"{path}:{line}: {reason}: the watch's alert state cannot be read; fix it, or delete it to alert again on every signal crossed");
        }
    }

    /// <summary>Replaces the state with <paramref name="crossing"/>, atomically.</summary>
    public static void Write(string folder, IEnumerable<string> crossing, DateTimeOffset at)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("at", Gateway.Monitoring.DriftMonitor.Time(at));
            w.WriteStartArray("crossing");
            foreach (var signal in crossing.Order(StringComparer.Ordinal)) w.WriteStringValue(signal);
            w.WriteEndArray();
            w.WriteEndObject();
        }

        buffer.Write("\n"u8);
        AtomicFile.Write(Path.Combine(folder, FileName), buffer.ToArray(), ownerOnly: true);
    }

    private static void Expect(bool condition, string reason)
    {
        if (!condition) throw new JsonException(reason);
    }

    private static long LineAt(byte[] bytes, long index)
    {
        var line = 1;
        for (var i = 0; i < Math.Min(index, bytes.Length); i++) if (bytes[i] == '\n') line++;
        return line;
    }
}
