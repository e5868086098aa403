using System.Globalization;
using System.Text.Json;
using Drydock.Curation.Normalization;
using Drydock.Curation.Policy;
using Drydock.Curation.Redaction;
using Drydock.Datasets;
using Drydock.Datasets.Input;
using Drydock.Datasets.Output;
using Drydock.Datasets.Similarity;
using Drydock.Detection;
using Drydock.Detection.Engine;

namespace Drydock.Curation.Cleaning;

/// <summary>
/// Cleans one record at a time, on any thread: normalises and scans each field, decides the record's disposition
/// (source classification, poisoning, findings, a reviewer's decision), writes the ledger entries, rewrites the kept
/// record and computes what de-duplication and the split compare. Built per run and never changed after.
/// </summary>
internal sealed class RecordCleaner(
    CleaningPolicy policy,
    Detector detector,
    TextNormalizer normalizer,
    Redactor redactor,
    IReadOnlyDictionary<(string File, long Line), Poisoning.PoisoningFinding> poisoned,
    IReadOnlyDictionary<string, Review.ReviewDecision> review,
    bool split)
{
    public ProcessedRecord Process(ReadResult result, SourcePolicy source)
    {
        if (result.Problem is { } problem)
        {
            // What scan calls malformed, clean quarantines whole: a record read with repairs (invalid UTF-8, a
            // duplicate key, a CSV row with the wrong number of columns) is not rewritten into the training data.
            string? header = null;
            string? text;
            if (result.Record?.Raw is RawCsvRow row) (header, text, _) = CsvRowWriter.Rewrite(row, []);
            else text = result.Record?.Raw?.Text ?? problem.Raw;

            return new ProcessedRecord(problem.File, problem.Line, result.Record?.Id, Disposition.Malformed, text, [$"malformed: {problem.Reason}"],
                [new LedgerEntry(result.Record?.Id, problem.File, problem.Line, null, CleanRules.Malformed, "read", "malformed", "quarantine", problem.Reason, null)], source.Path)
            { CsvHeader = header };
        }

        var record = result.Record!;
        var entries = new List<LedgerEntry>();
        var reasons = new List<string>();
        var disposition = Disposition.Keep;

        if (source.Classification > policy.MaxClassification)
        {
            disposition = Disposition.Quarantine;
            reasons.Add($"source {source.Path} is {source.Classification.Name()}, above {policy.MaxClassification.Name()} allowed for use case {policy.UseCase}");
            entries.Add(new LedgerEntry(record.Id, record.File, record.Line, null, CleanRules.SourcePolicy, "policy", "source-classification", "quarantine", reasons[^1], null));
        }

        if (poisoned.TryGetValue((record.File, record.Line), out var poisoning))
        {
            var action = policy.PoisoningAction;
            var reason = $"poisoning/{poisoning.Type} ({poisoning.Severity.Name()}): {poisoning.Summary}";
            entries.Add(new LedgerEntry(record.Id, record.File, record.Line, null, Poisoning.PoisoningRules.RuleId(poisoning.Type), Poisoning.PoisoningFinding.Category, poisoning.Type, action.Name(), reason, null));
            if (action == CleanAction.Drop) disposition = Disposition.Drop;
            else if (action == CleanAction.Quarantine && disposition == Disposition.Keep) disposition = Disposition.Quarantine;
            if (action != CleanAction.Allow) reasons.Add(reason);
        }

        var changes = new List<(string Path, string Text)>();
        var content = new List<string>(record.Fields.Count);
        // The text of the record as training and the privacy evaluations read it (DatasetReader.Texts): the held-out
        // split keeps near-duplicates of that text on one side.
        var read = split ? new List<string>(record.Fields.Count) : null;
        var removed = new List<(string Type, int Start, int End)>();
        foreach (var field in record.Fields)
        {
            removed.Clear();
            var text = normalizer.Normalize(field.Text, removed);
            foreach (var (type, start, end) in removed)
            {
                entries.Add(new LedgerEntry(record.Id, record.File, record.Line, field.Path, CleanRules.Normalization, "normalization", type, "remove",
                    "removed by normalization", redactor.ValueHash(type, field.Text[start..end])));
            }

            var redactions = new List<(int Start, int End, string Replacement)>();
            foreach (var finding in detector.Scan(text))
            {
                var action = policy.ActionFor(finding, source.Trusted);
                if (action == CleanAction.Allow) continue;
                var value = text[finding.Start..finding.End];
                var implied = CleaningPolicy.Implied(finding);
                if (implied > policy.MaxClassification && action == CleanAction.Redact)
                {
                    action = CleanAction.Quarantine;
                }

                var reason = action == CleanAction.Quarantine && implied > policy.MaxClassification
                    ? $"{finding.Type} implies {implied.Name()} data, above {policy.MaxClassification.Name()} allowed for use case {policy.UseCase}"
                    : $"{finding.Category}/{finding.Type} ({finding.Severity.Name()}, confidence {finding.Confidence.ToString("0.00", CultureInfo.InvariantCulture)})";
                entries.Add(new LedgerEntry(record.Id, record.File, record.Line, field.Path, finding.RuleId, finding.Category, finding.Type, action.Name(), reason,
                    redactor.ValueHash(finding.Type, value)));
                switch (action)
                {
                    case CleanAction.Redact:
                        redactions.Add((finding.Start, finding.End, redactor.Replacement(finding, value)));
                        break;
                    case CleanAction.Quarantine:
                        if (disposition == Disposition.Keep) disposition = Disposition.Quarantine;
                        reasons.Add($"{field.Path}: {reason} [{finding.RuleId}]");
                        break;
                    case CleanAction.Drop:
                        disposition = Disposition.Drop;
                        reasons.Add($"{field.Path}: {reason} [{finding.RuleId}]");
                        break;
                }
            }

            var final = SpanReplacement.Apply(text, redactions);
            if (!string.Equals(final, field.Text, StringComparison.Ordinal)) changes.Add((field.Path, final));
            // The record's own id is not content: two records that differ only by id are duplicates.
            if (!string.Equals(field.Text, record.Id, StringComparison.Ordinal)) content.Add(final);
            if (read is not null && !DatasetReader.IsMetadataField(field.Path)) read.Add(final);
        }

        var kept = record.Raw ?? throw new CleanException($"{record.File}:{record.Line}: record text was not kept by the reader");
        string raw;
        string? csvHeader = null;
        string? csvCleaned = null;
        if (kept is RawCsvRow csvRow)
        {
            // A CSV row: the original row goes to the quarantine, the rewritten one to the output.
            (csvHeader, raw, csvCleaned) = CsvRowWriter.Rewrite(csvRow, changes);
        }
        else
        {
            raw = kept.Text;
        }

        if (review.Count > 0 && review.TryGetValue(Review.ReviewSampler.RecordSha256(kept.Text), out var decision))
        {
            // A reviewer's decision on this very record: approve releases it from quarantine, reject drops it.
            if (decision.Decision == "reject")
            {
                disposition = Disposition.Drop;
                reasons.Add($"rejected by reviewer {decision.Reviewer}");
                entries.Add(new LedgerEntry(record.Id, record.File, record.Line, null, CleanRules.Review, "review", "reviewer-decision", "drop", reasons[^1] + (decision.Note is { Length: > 0 } n ? $": {n}" : ""), null));
            }
            else if (disposition == Disposition.Quarantine)
            {
                disposition = Disposition.Keep;
                entries.Add(new LedgerEntry(record.Id, record.File, record.Line, null, CleanRules.Review, "review", "reviewer-decision", "release",
                    $"released by reviewer {decision.Reviewer} (was: {string.Join("; ", reasons.ToArray())})", null));
                reasons.Clear();
            }
        }

        if (disposition != Disposition.Keep)
        {
            // The record leaves whole: the ledger says why, not what would have been redacted in it.
            entries.RemoveAll(e => e.Action is not ("quarantine" or "drop"));
            return new ProcessedRecord(record.File, record.Line, record.Id, disposition, raw, reasons, entries, source.Path) { CsvHeader = csvHeader };
        }

        string rewritten;
        try
        {
            rewritten = csvCleaned ?? (changes.Count == 0 ? raw : JsonFieldWriter.Rewrite(raw, changes));
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or ArgumentException or InvalidOperationException or FormatException)
        {
            // A record the reader accepted but the writer cannot rewrite leaves whole, never half-redacted or as a crash.
            var reason = $"cannot be rewritten: {e.Message}";
            return new ProcessedRecord(record.File, record.Line, record.Id, Disposition.Malformed, raw, [$"malformed: {reason}"],
                [new LedgerEntry(record.Id, record.File, record.Line, null, CleanRules.Malformed, "read", "malformed", "quarantine", reason, null)], source.Path);
        }

        var signature = policy.NearDedup ? NearDuplicateIndex.Signature(content) : null;
        return new ProcessedRecord(record.File, record.Line, record.Id, Disposition.Keep, rewritten, reasons, entries, source.Path)
        {
            CsvHeader = csvHeader,
            ExactHash = ContentHash.Of(content),
            Signature = signature,
            SplitSignature = read is null ? null : signature is not null && read.SequenceEqual(content, StringComparer.Ordinal) ? signature : NearDuplicateIndex.Signature(read),
            SplitText = read is null ? null : string.Join('\n', read),
        };
    }
}
