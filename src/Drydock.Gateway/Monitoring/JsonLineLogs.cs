using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Drydock.Gateway.Monitoring;

/// <summary>
/// Structured logs: one JSON object per line (time, level, category, event id, message and each named field) on a
/// text writer. The gateway logs only ids, scores and decisions, so no prompt, answer or key reaches these lines.
/// </summary>
public sealed class JsonLineLogs(TextWriter output, LogLevel minimum = LogLevel.Information) : ILoggerProvider
{
    private readonly Lock _lock = new();

    private LogLevel Minimum { get; } = minimum;

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private void Write(string category, LogLevel level, EventId id, string message, object? state)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("at", DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            w.WriteString("level", level.ToString());
            w.WriteString("category", category);
            w.WriteNumber("event", id.Id);
            w.WriteString("message", message);
            if (state is IReadOnlyList<KeyValuePair<string, object?>> fields)
            {
                foreach (var (k, v) in fields) if (k != "{OriginalFormat}") w.WriteString(k, Convert.ToString(v, CultureInfo.InvariantCulture));
            }

            w.WriteEndObject();
        }

        var line = System.Text.Encoding.UTF8.GetString(buffer.ToArray());
        lock (_lock) output.WriteLine(line);
    }

    private sealed class Logger(JsonLineLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner.Minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) owner.Write(category, logLevel, eventId, formatter(state, exception), state);
        }
    }
}
