using System.Text.Json;

namespace Drydock.Datasets.Formats;

/// <summary>
/// Streams the elements of a top-level JSON array (Alpaca's usual layout) without loading the file:
/// each element's bytes are cut out and parsed by a worker like a JSONL line. The line reported is the
/// line on which the element starts.
/// </summary>
internal static class JsonArrayReader
{
    public static IEnumerable<RecordBatch> Read(string file, Stream stream, JsonRecordParser parser, ReaderOptions options)
    {
        var buffer = new byte[Math.Max(4096, options.BatchBytes)];
        var pool = new BufferPool(buffer.Length);
        var filled = 0;
        var eof = false;
        var state = new JsonReaderState(new JsonReaderOptions { MaxDepth = options.MaxDepth + 1 });
        var started = false;
        var finished = false;
        long line = 1;
        var lineCountedTo = 0;

        while (!finished)
        {
            if (!eof)
            {
                var read = stream.ReadAtLeast(buffer.AsSpan(filled), buffer.Length - filled, throwOnEndOfStream: false);
                eof = read < buffer.Length - filled;
                filled += read;
            }

            var offset = 0;
            if (!started && filled >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF)
            {
                offset = 3;
                lineCountedTo = 3;
            }

            var batchBuffer = pool.Rent(Math.Max(16, filled));
            var batchUsed = 0;
            var entries = new List<JsonBatch.Entry>();
            var consumed = Scan(buffer.AsSpan(offset, filled - offset), eof, ref state, ref started, ref finished, out var error, (start, length) =>
            {
                var absolute = offset + start;
                line += buffer.AsSpan(lineCountedTo, absolute - lineCountedTo).Count((byte)'\n');
                lineCountedTo = absolute;
                buffer.AsSpan(absolute, length).CopyTo(batchBuffer.AsSpan(batchUsed));
                entries.Add(new JsonBatch.Entry(batchUsed, length, line));
                batchUsed += length;
            });

            if (entries.Count > 0)
            {
                yield return new JsonBatch(file, batchBuffer, pool, entries, parser, batchUsed, options.KeepRawText);
            }
            else
            {
                pool.Return(batchBuffer);
            }

            if (error is not null)
            {
                var at = offset + (int)consumed;
                line += buffer.AsSpan(lineCountedTo, Math.Max(0, at - lineCountedTo)).Count((byte)'\n');
                line += SeparatorLines(buffer.AsSpan(at, filled - at));
                throw new DatasetException(file, $"line {line}: {(eof && error.Contains("depth", StringComparison.Ordinal) ? "the JSON array is not closed (file truncated?)" : error)}");
            }

            var used = offset + (int)consumed;
            line += buffer.AsSpan(lineCountedTo, used - lineCountedTo).Count((byte)'\n');
            Array.Copy(buffer, used, buffer, 0, filled - used);
            filled -= used;
            lineCountedTo = 0;

            if (finished)
            {
                // What follows the array is part of the file too: only whitespace may, or it would be read by nothing
                // (found by fuzzing: "[] {...}" read as no record at all).
                while (true)
                {
                    var rest = buffer.AsSpan(0, filled);
                    var bad = rest.IndexOfAnyExcept(" \t\r\n"u8);
                    if (bad >= 0)
                    {
                        line += rest[..bad].Count((byte)'\n');
                        throw new DatasetException(file, $"line {line}: content after the end of the JSON array (only whitespace may follow it)");
                    }

                    line += rest.Count((byte)'\n');
                    if (eof) break;
                    filled = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
                    eof = filled < buffer.Length;
                }

                break;
            }

            if (eof)
            {
                line += SeparatorLines(buffer.AsSpan(0, filled));
                throw new DatasetException(file, $"line {line}: the JSON array is not closed (file truncated?)");
            }

            if (filled == buffer.Length)
            {
                if (buffer.Length > options.MaxRecordBytes)
                {
                    throw new DatasetException(file, $"line {line}: an array element is longer than the limit of {options.MaxRecordBytes:N0} bytes (raise --max-record-bytes)");
                }

                Array.Resize(ref buffer, buffer.Length * 2);
            }
        }
    }

    // Newlines among the whitespace and commas before the next element, so errors name the element's own line.
    private static int SeparatorLines(ReadOnlySpan<byte> rest)
    {
        var lines = 0;
        foreach (var b in rest)
        {
            if (b == (byte)'\n') lines++;
            else if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)',')) break;
        }

        return lines;
    }

    private delegate void ElementFound(int start, int length);

    // Reads as many whole elements as the block holds; returns the bytes consumed up to the last whole element.
    private static long Scan(ReadOnlySpan<byte> block, bool final, ref JsonReaderState state, ref bool started, ref bool finished,
        out string? error, ElementFound found)
    {
        error = null;
        var reader = new Utf8JsonReader(block, final, state);
        long safe = 0;
        var safeState = state;
        try
        {
            while (true)
            {
                if (!reader.Read()) break;
                if (!started)
                {
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        error = "expected a JSON array of records or JSON Lines";
                        return safe;
                    }

                    started = true;
                    safe = reader.BytesConsumed;
                    safeState = reader.CurrentState;
                    continue;
                }

                if (reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == 0)
                {
                    finished = true;
                    safe = reader.BytesConsumed;
                    safeState = reader.CurrentState;
                    break;
                }

                var start = (int)reader.TokenStartIndex;
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip())
                {
                    break;
                }

                found(start, (int)reader.BytesConsumed - start);
                safe = reader.BytesConsumed;
                safeState = reader.CurrentState;
            }
        }
        catch (JsonException e)
        {
            var message = e.Message;
            var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            error = "invalid JSON: " + (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
        }

        state = safeState;
        return safe;
    }
}
