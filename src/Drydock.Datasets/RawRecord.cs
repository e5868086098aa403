using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Drydock.Datasets;

/// <summary>
/// A record as read, kept for tools that write it back (<see cref="ReaderOptions.KeepRawText"/>): the text of a JSON
/// record, or the cells of a CSV row with its header. The writers in <c>Drydock.Datasets.Output</c> take one of these.
/// </summary>
public abstract record RawRecord
{
    private protected RawRecord()
    {
    }

    /// <summary>
    /// The record's text as kept, what a reviewer's decision names by its SHA-256: the JSON itself, or a CSV row as
    /// <c>{"delimiter", "header", "names", "row"}</c>.
    /// </summary>
    public abstract string Text { get; }
}

/// <summary>A JSON record's own text, as it stands in the file (without its line break).</summary>
public sealed record RawJson(string Json) : RawRecord
{
    /// <inheritdoc/>
    public override string Text => Json;
}

/// <summary>
/// A CSV row as read: its delimiter, the header row as written, the field names the header gives, and every cell of the
/// row (empty ones included).
/// </summary>
public sealed record RawCsvRow(char Delimiter, IReadOnlyList<string> Header, IReadOnlyList<string> Names, IReadOnlyList<string> Cells) : RawRecord
{
    /// <inheritdoc/>
    public override string Text
    {
        get
        {
            var buffer = new ArrayBufferWriter<byte>();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("delimiter", Delimiter.ToString());
                Write(w, "header", Header);
                Write(w, "names", Names);
                Write(w, "row", Cells);
                w.WriteEndObject();
            }

            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
    }

    private static void Write(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        foreach (var value in values) w.WriteStringValue(value);
        w.WriteEndArray();
    }
}
