using System.Text;

namespace Drydock.Datasets.Formats;

/// <summary>
/// RFC 4180 reader: a header row names the columns; quoted fields may hold delimiters, quotes and newlines.
/// The line reported is the line on which a row starts. Every non-empty cell is a field named by its column.
/// </summary>
internal static class CsvRecordReader
{
    public static IEnumerable<RecordBatch> Read(string file, Stream stream, char? forcedDelimiter, ReaderOptions options)
    {
        var fallback = new CountingDecoderFallback();
        var encoding = (Encoding)new UTF8Encoding(false).Clone();
        encoding.DecoderFallback = fallback;
        using var reader = new StreamReader(stream, encoding, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
        var scanner = new Scanner(reader, options.MaxRecordBytes);

        var headerLine = scanner.Line;
        var header = scanner.ReadRow(forcedDelimiter ?? ',', out var headerProblem, sniff: forcedDelimiter is null);
        if (header is null)
        {
            yield break;
        }

        if (headerProblem is not null)
        {
            throw new DatasetException(file, $"line {headerLine}: header row: {headerProblem}");
        }

        var names = header.Select((h, i) => string.IsNullOrWhiteSpace(h) ? $"column{i + 1}" : h.Trim()).ToArray();
        var results = new List<ReadResult>();
        long bytes = 0;
        while (true)
        {
            var line = scanner.Line;
            var replacementsBefore = fallback.Count;
            var row = scanner.ReadRow(scanner.Delimiter, out var problem, sniff: false);
            if (row is null) break;
            var size = row.Sum(c => (long)c.Length) + row.Count;
            bytes += size;
            if (problem is null && row.Count != names.Length && !(row.Count == 1 && row[0].Length == 0))
            {
                problem = $"row has {row.Count} columns, the header has {names.Length}";
            }

            if (row.Count == 1 && row[0].Length == 0 && problem is null)
            {
                continue;
            }

            if (problem is not null && row.Count == 0)
            {
                results.Add(new ReadResult(null, new MalformedRecord(file, line, problem)));
            }
            else
            {
                var fields = new List<TextField>(row.Count);
                for (var i = 0; i < row.Count; i++)
                {
                    if (row[i].Length > 0) fields.Add(new TextField(i < names.Length ? names[i] : $"column{i + 1}", row[i]));
                }

                if (problem is null && fallback.Count != replacementsBefore)
                {
                    problem = "invalid UTF-8 (read with U+FFFD replacements)";
                }

                // A row with a problem is still scanned, so nothing in it escapes; the problem is reported too.
                var record = new DatasetRecord(file, line, null, fields) { Raw = options.KeepRawText ? new RawCsvRow(scanner.Delimiter, header, names, row) : null };
                results.Add(new ReadResult(record, problem is null ? null : new MalformedRecord(file, line, problem)));
            }

            if (results.Count >= options.BatchRecords || bytes >= options.BatchBytes)
            {
                yield return new ParsedBatch(results, bytes);
                results = [];
                bytes = 0;
            }
        }

        if (results.Count > 0)
        {
            yield return new ParsedBatch(results, bytes);
        }
    }

    private sealed class Scanner(TextReader reader, int maxChars)
    {
        private int _peeked = -2;

        public long Line { get; private set; } = 1;

        public char Delimiter { get; private set; } = ',';

        private int Peek()
        {
            if (_peeked == -2) _peeked = reader.Read();
            return _peeked;
        }

        private int Next()
        {
            var c = Peek();
            _peeked = -2;
            if (c == '\n') Line++;
            return c;
        }

        public List<string>? ReadRow(char delimiter, out string? problem, bool sniff)
        {
            problem = null;
            if (Peek() == -1) return null;
            var cells = new List<string>();
            var cell = new StringBuilder();
            var total = 0;
            var quoted = false;
            var startLine = Line;
            if (sniff)
            {
                delimiter = '\0';
            }

            while (true)
            {
                var c = Next();
                if (c == -1)
                {
                    if (quoted) problem ??= $"quoted field opened on line {startLine} is never closed";
                    break;
                }

                var ch = (char)c;
                if (quoted)
                {
                    if (ch == '"')
                    {
                        if (Peek() == '"')
                        {
                            Next();
                            Append(cell, '"', ref total, ref problem);
                        }
                        else
                        {
                            quoted = false;
                        }
                    }
                    else
                    {
                        Append(cell, ch, ref total, ref problem);
                    }

                    continue;
                }

                if (sniff && delimiter == '\0' && ch is ',' or '\t' or ';' or '|')
                {
                    delimiter = ch;
                }

                if (ch == delimiter)
                {
                    cells.Add(cell.ToString());
                    cell.Clear();
                }
                else if (ch == '"' && cell.Length == 0)
                {
                    quoted = true;
                }
                else if (ch == '\n')
                {
                    break;
                }
                else if (ch == '\r' && Peek() == '\n')
                {
                    continue;
                }
                else
                {
                    Append(cell, ch, ref total, ref problem);
                }
            }

            cells.Add(cell.ToString());
            Delimiter = delimiter == '\0' ? ',' : delimiter;

            return cells;
        }

        private void Append(StringBuilder cell, char c, ref int total, ref string? problem)
        {
            if (++total > maxChars)
            {
                problem ??= $"row is longer than the limit of {maxChars:N0} characters; the rest of it was not read";
                return;
            }

            cell.Append(c);
        }
    }

    /// <summary>Replaces invalid UTF-8 with U+FFFD and counts how often it had to.</summary>
    private sealed class CountingDecoderFallback : DecoderFallback
    {
        public int Count { get; private set; }

        public override int MaxCharCount => 1;

        public override DecoderFallbackBuffer CreateFallbackBuffer() => new Buffer(this);

        private sealed class Buffer(CountingDecoderFallback owner) : DecoderFallbackBuffer
        {
            private bool _pending;

            public override int Remaining => _pending ? 1 : 0;

            public override bool Fallback(byte[] bytesUnknown, int index)
            {
                owner.Count++;
                _pending = true;
                return true;
            }

            public override char GetNextChar()
            {
                if (!_pending) return '\0';
                _pending = false;
                return '\uFFFD';
            }

            public override bool MovePrevious() => false;
        }
    }
}
