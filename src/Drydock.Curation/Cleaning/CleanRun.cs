using Drydock.Curation.Policy;

namespace Drydock.Curation.Cleaning;

/// <summary>
/// The sequential part of a clean run, in input order: each cleaned record's ledger entries and disposition, then
/// de-duplication, the held-out split, the selection and every write; at the end the manifest.
/// </summary>
internal sealed class CleanRun : IDisposable
{
    private readonly CleanOptions _options;
    private readonly CleaningPolicy _policy;
    private readonly string _policyHash;
    private readonly RecordPositions _positions = new();
    private readonly Deduplication _deduplication;
    private readonly HoldoutSplit? _split;
    private readonly DiversitySelection? _selection;
    private readonly CleanOutputs _outputs;

    public CleanRun(CleanOptions options, CleaningPolicy policy, string policyHash)
    {
        (_options, _policy, _policyHash) = (options, policy, policyHash);
        _deduplication = new Deduplication(policy, _positions);
        _split = options.HoldoutFraction > 0 ? new HoldoutSplit(options, policy, _positions) : null;
        _selection = options.Keep is not null ? new DiversitySelection(options.Seed) : null;
        _outputs = new CleanOutputs(policyHash);
    }

    public void Open(Stream output, Stream quarantine, Stream ledger, Stream? holdout, bool asArray, bool asCsv) =>
        _outputs.Open(output, quarantine, ledger, holdout, asArray, asCsv);

    public void Accept(ProcessedRecord record)
    {
        foreach (var entry in record.Ledger) _outputs.Log(entry);
        switch (record.Disposition)
        {
            case Disposition.Malformed:
                _options.OnMalformed?.Invoke($"{record.File}:{record.Line}: {record.Reasons[0]}");
                goto case Disposition.Quarantine;
            case Disposition.Quarantine:
                _outputs.Count(record.Disposition == Disposition.Malformed ? "malformed" : "quarantined");
                _outputs.WriteQuarantine(record);
                return;
            case Disposition.Drop:
                _outputs.Count("dropped");
                return;
        }

        if (_deduplication.ExactCopy(record) is { } exact)
        {
            Drop(exact, "exact-duplicate");
            return;
        }

        var ordinal = _positions.Add(record.File, record.Line);
        if (_deduplication.Add(record, ordinal) is { } near)
        {
            Drop(near, "near-duplicate");
            return;
        }

        var heldOut = false;
        if (_split is not null)
        {
            (heldOut, var conflict) = _split.Place(record, ordinal);
            if (conflict is not null)
            {
                Drop(conflict, "split-conflict");
                return;
            }
        }

        if (heldOut) _outputs.WriteHoldout(record);
        else if (_selection is not null) _selection.Add(record);
        else _outputs.WriteRecord(record);
    }

    /// <summary>Writes the records chosen by <c>--keep</c> (and ledgers the rest), and ends the cleaned dataset.</summary>
    public void Finish()
    {
        if (_selection is not null && _options.Keep is { } keep)
        {
            foreach (var (record, chosen) in _selection.Choose(keep))
            {
                if (chosen)
                {
                    _outputs.WriteRecord(record);
                }
                else
                {
                    Drop(new LedgerEntry(record.Id, record.File, record.Line, null, CleanRules.NotSelected, "minimisation", "not-selected", "drop", $"not among the {keep} records kept for diversity", null), "not-selected");
                }
            }
        }

        _outputs.Close();
    }

    /// <summary>Refuses a held-out split that is not the one asked for (see <see cref="HoldoutSplit.Check"/>).</summary>
    public void CheckSplit() => _split?.Check(_outputs.Written, _outputs.HeldOut);

    public CleanManifest Manifest(List<InputEntry> inputs, string toolVersion)
    {
        return new CleanManifest
        {
            ToolVersion = toolVersion,
            DatasetVersion = _outputs.OutputSha256(),
            Output = _options.Output,
            Records = _outputs.Written,
            Holdout = _options.HoldoutFraction > 0 ? _options.Holdout : null,
            HoldoutRecords = _outputs.HeldOut,
            HoldoutSha256 = _outputs.HoldoutSha256(),
            Quarantine = _options.Quarantine,
            QuarantineRecords = _outputs.Quarantined,
            QuarantineSha256 = _outputs.QuarantineSha256(),
            Ledger = _options.Ledger,
            LedgerEntries = _outputs.LedgerEntries,
            LedgerSha256 = _outputs.LedgerSha256(),
            Inputs = [.. inputs.Select(i => new ManifestInput(i.File, i.Format, i.Sha256, i.Bytes, i.Records, i.Source))],
            PolicyHash = _policyHash,
            UseCase = _policy.UseCase,
            MaxClassification = _policy.MaxClassification,
            Project = _policy.Project,
            Actions = _outputs.Actions,
            Categories = _outputs.Categories,
            Types = _outputs.Types,
            Dispositions = _outputs.Dispositions,
            HoldoutFraction = _options.HoldoutFraction,
            Seed = _options.Seed,
            Keep = _options.Keep,
        };
    }

    public void Dispose() => _outputs.Dispose();

    private void Drop(LedgerEntry entry, string disposition)
    {
        _outputs.Log(entry);
        _outputs.Count(disposition);
    }
}
