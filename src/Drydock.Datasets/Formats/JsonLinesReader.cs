namespace Drydock.Datasets.Formats;

/// <summary>
/// Splits a JSON Lines stream into batches of lines with their 1-based line numbers. Memory stays bounded:
/// a line longer than <see cref="ReaderOptions.MaxRecordBytes"/> is reported and skipped without buffering it.
/// </summary>
internal static class JsonLinesReader
{
    public static IEnumerable<RecordBatch> Read(string file, Stream stream, JsonRecordParser parser, ReaderOptions options)
    {
        var capacity = Math.Max(4096, options.BatchBytes);
        var pool = new BufferPool(capacity);
        var buffer = pool.Rent(capacity);
        var filled = 0;
        long line = 1;
        var skipping = false;
        var eof = false;
        var first = true;

        while (!eof)
        {
            var read = stream.ReadAtLeast(buffer.AsSpan(filled), buffer.Length - filled, throwOnEndOfStream: false);
            eof = read < buffer.Length - filled;
            filled += read;

            var start = 0;
            if (first)
            {
                first = false;
                if (filled >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF) start = 3;
            }

            var entries = new List<JsonBatch.Entry>();
            var pos = start;
            while (true)
            {
                var nl = buffer.AsSpan(pos, filled - pos).IndexOf((byte)'\n');
                if (nl < 0) break;
                AddLine(entries, buffer, pos, nl, line, ref skipping, options);
                line++;
                pos += nl + 1;
            }

            if (eof && pos < filled)
            {
                AddLine(entries, buffer, pos, filled - pos, line, ref skipping, options);
                line++;
                pos = filled;
            }

            if (!eof && pos == start && filled == buffer.Length)
            {
                // No newline in a full buffer: the line is long. Grow up to the limit, then skip the rest of it.
                if (skipping || buffer.Length >= options.MaxRecordBytes)
                {
                    if (!skipping)
                    {
                        skipping = true;
                        entries.Add(new JsonBatch.Entry(0, 0, line, $"record is longer than the limit of {options.MaxRecordBytes:N0} bytes; skipped (raise --max-record-bytes to read it)"));
                    }

                    pos = filled;
                }
                else
                {
                    var bigger = pool.Rent((int)Math.Min((long)buffer.Length * 2, options.MaxRecordBytes + 1L));
                    buffer.AsSpan(0, filled).CopyTo(bigger);
                    pool.Return(buffer);
                    buffer = bigger;
                    continue;
                }
            }

            // Hand the complete lines over with this buffer; the partial tail moves to a fresh one.
            var next = pool.Rent(Math.Max(capacity, filled - pos + 1));
            buffer.AsSpan(pos, filled - pos).CopyTo(next);
            var bytes = pos - start;
            filled -= pos;
            if (entries.Count > 0)
            {
                yield return new JsonBatch(file, buffer, pool, entries, parser, bytes, options.KeepRawText);
            }
            else
            {
                pool.Return(buffer);
            }

            buffer = next;
        }

        pool.Return(buffer);
    }

    private static void AddLine(List<JsonBatch.Entry> entries, byte[] buffer, int start, int length, long line, ref bool skipping, ReaderOptions options)
    {
        if (skipping)
        {
            // The end of a line already reported as too long.
            skipping = false;
            return;
        }

        if (length > 0 && buffer[start + length - 1] == (byte)'\r') length--;
        var span = buffer.AsSpan(start, length);
        if (span.Trim(" \t"u8).IsEmpty) return;
        if (length > options.MaxRecordBytes)
        {
            entries.Add(new JsonBatch.Entry(0, 0, line, $"record is longer than the limit of {options.MaxRecordBytes:N0} bytes; skipped (raise --max-record-bytes to read it)"));
            return;
        }

        entries.Add(new JsonBatch.Entry(start, length, line));
    }
}
