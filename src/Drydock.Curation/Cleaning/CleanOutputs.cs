using Drydock.Datasets.Output;

namespace Drydock.Curation.Cleaning;

/// <summary>
/// The outputs of a clean run as they are written, in input order: the cleaned dataset (JSONL, JSON array or CSV),
/// the held-out file, the quarantine and the ledger, each hashed as it is written, and the counts the manifest holds.
/// </summary>
internal sealed class CleanOutputs(string policyHash) : IDisposable
{
    private HashedOutput? _output;
    private HashedOutput? _quarantine;
    private HashedOutput? _ledger;
    private HashedOutput? _holdout;
    private bool _asArray;
    private bool _asCsv;
    private bool _headerWritten;
    private bool _holdoutHeaderWritten;

    // One buffer and writer for every quarantine and ledger line (reset per line).
    private readonly JsonLineWriter _line = new();

    public SortedDictionary<string, long> Actions { get; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, long> Categories { get; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, long> Types { get; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, long> Dispositions { get; } = new(StringComparer.Ordinal);

    public long Written { get; private set; }

    public long HeldOut { get; private set; }

    public long Quarantined { get; private set; }

    public long LedgerEntries { get; private set; }

    public void Open(Stream output, Stream quarantine, Stream ledger, Stream? holdout, bool asArray, bool asCsv)
    {
        (_output, _quarantine, _ledger) = (new HashedOutput(output), new HashedOutput(quarantine), new HashedOutput(ledger));
        _holdout = holdout is null ? null : new HashedOutput(holdout);
        (_asArray, _asCsv) = (asArray, asCsv);
        if (_asArray) _output.Write("[\n");
    }

    /// <summary>Ends the cleaned dataset (closes the JSON array).</summary>
    public void Close()
    {
        if (_asArray) _output!.Write(Written == 0 ? "]\n" : "\n]\n");
    }

    public string OutputSha256() => _output!.Sha256();

    public string? HoldoutSha256() => _holdout?.Sha256();

    public string QuarantineSha256() => _quarantine!.Sha256();

    public string LedgerSha256() => _ledger!.Sha256();

    /// <summary>Counts one record's disposition (kept, quarantined, dropped, a duplicate …).</summary>
    public void Count(string disposition) => Count(Dispositions, disposition);

    public void WriteRecord(ProcessedRecord record)
    {
        if (_asCsv && !_headerWritten && record.CsvHeader is not null)
        {
            _output!.WriteLine(record.CsvHeader);
            _headerWritten = true;
        }

        if (_asArray)
        {
            _output!.Write(Written == 0 ? "  " : ",\n  ");
            _output.Write(record.Text!);
        }
        else
        {
            _output!.WriteLine(record.Text!);
        }

        Written++;
        Count(Dispositions, "kept");
    }

    public void WriteHoldout(ProcessedRecord record)
    {
        if (_asCsv && !_holdoutHeaderWritten && record.CsvHeader is not null)
        {
            _holdout!.WriteLine(record.CsvHeader);
            _holdoutHeaderWritten = true;
        }

        _holdout!.WriteLine(record.Text!);
        HeldOut++;
        Count(Dispositions, "held-out");
    }

    public void WriteQuarantine(ProcessedRecord record)
    {
        var w = _line.Start();
        w.WriteStartObject();
        JsonLineWriter.WriteRecordPlace(w, record.File, record.Line, record.Id);
        w.WriteStartArray("reasons");
        foreach (var reason in record.Reasons) w.WriteStringValue(reason);
        w.WriteEndArray();
        // The record itself, as read: a reviewer can release it unchanged.
        JsonLineWriter.WriteStringOrNull(w, "record", record.Text);
        w.WriteEndObject();
        _quarantine!.WriteLine(_line.End());
        Quarantined++;
    }

    public void Log(LedgerEntry e)
    {
        var w = _line.Start();
        w.WriteStartObject();
        JsonLineWriter.WriteStringOrNull(w, "recordId", e.RecordId);
        w.WriteString("file", e.File);
        w.WriteNumber("line", e.Line);
        JsonLineWriter.WriteStringOrNull(w, "field", e.Field);
        w.WriteString("rule", e.Rule);
        w.WriteString("category", e.Category);
        w.WriteString("type", e.Type);
        w.WriteString("action", e.Action);
        w.WriteString("reason", e.Reason);
        w.WriteString("policy", policyHash);
        JsonLineWriter.WriteStringOrNull(w, "valueHash", e.ValueHash);
        w.WriteEndObject();
        _ledger!.WriteLine(_line.End());
        LedgerEntries++;
        Count(Actions, e.Action);
        Count(Categories, e.Category);
        Count(Types, e.Type);
    }

    public void Dispose()
    {
        _line.Dispose();
        foreach (var output in new[] { _output, _quarantine, _ledger, _holdout }) output?.Dispose();
    }

    private static void Count(SortedDictionary<string, long> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;
}
