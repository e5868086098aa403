using System.Globalization;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Drydock.Curation.Normalization;
using Drydock.Curation.Policy;
using Drydock.Curation.Records;
using Drydock.Curation.Redaction;
using Drydock.Datasets;
using Drydock.Datasets.Formats;
using Drydock.Datasets.Input;
using Drydock.Datasets.Output;
using Drydock.Datasets.Similarity;
using Drydock.Detection;
using Drydock.Detection.Engine;

namespace Drydock.Curation;

/// <summary>Where <c>drydock clean</c> writes, and how it selects.</summary>
public sealed record CleanOptions
{
    /// <summary>The cleaned dataset.</summary>
    public required string Output { get; init; }

    /// <summary>Every quarantined or malformed record, whole, with its reasons (JSONL).</summary>
    public required string Quarantine { get; init; }

    /// <summary>One JSON line per action taken.</summary>
    public required string Ledger { get; init; }

    /// <summary>The dataset version and its counts (JSON).</summary>
    public required string Manifest { get; init; }

    /// <summary>The held-out file, when <see cref="HoldoutFraction"/> is above zero.</summary>
    public string? Holdout { get; init; }

    /// <summary>Fraction of records (by near-duplicate cluster) written to the held-out file.</summary>
    public double HoldoutFraction { get; init; }

    /// <summary>Keep only this many records, chosen for diversity.</summary>
    public int? Keep { get; init; }

    /// <summary>Seed of the held-out split and the selection.</summary>
    public int Seed { get; init; }

    /// <summary>How to read inputs.</summary>
    public ReaderOptions Reader { get; init; } = new();

    /// <summary>Reviewers' latest decisions by record SHA-256 (see <see cref="Review.ReviewDecisions"/>).</summary>
    public IReadOnlyDictionary<string, Review.ReviewDecision> ReviewDecisions { get; init; } = new Dictionary<string, Review.ReviewDecision>();

    /// <summary>Worker threads (default: all cores).</summary>
    public int? Threads { get; init; }

    /// <summary>Told "file:line: reason" for every malformed record (which is also quarantined).</summary>
    public Action<string>? OnMalformed { get; init; }
}

/// <summary>An input of a clean run that cannot be cleaned (a format it does not rewrite).</summary>
public sealed class CleanException(string message) : Exception(message);

/// <summary>
/// <c>drydock clean</c>: normalises, scans, redacts, quarantines, de-duplicates, splits and minimises a dataset as a
/// policy says, and writes the cleaned dataset, quarantine, ledger and manifest atomically. Records are processed in
/// parallel and written in input order; the same inputs, policy, key and version give byte-identical outputs.
/// </summary>
public sealed class Cleaner
{
    private const string ExactRule = "DD-DEDUP-001";
    private const string NearRule = "DD-DEDUP-002";
    private const string KeepRule = "DD-KEEP-001";
    private const string SplitRule = "DD-SPLIT-001";
    private const string PolicyRule = "DD-POLICY-001";
    private const string MalformedRule = "DD-READ-001";
    private const string ReviewRule = "DD-REVIEW-001";

    // How far the held-out share may differ from the fraction asked before clean refuses the split: three standard
    // deviations of the share when whole families are drawn (sqrt(p(1-p) * sum of squared family sizes) / records),
    // never less than 10 points (small files of single records) and never more than 20 (a few families decide the split).
    private const double MinSplitSkew = 0.10;
    private const double MaxSplitSkew = 0.20;

    private static readonly JsonWriterOptions s_json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly CleaningPolicy _policy;
    private readonly Detector _detector;
    private readonly TextNormalizer _normalizer;
    private readonly Redactor _redactor;
    private readonly string _toolVersion;
    private readonly string _policyHash;
    private Dictionary<(string File, long Line), Poisoning.PoisoningFinding> _poisoned = [];
    private IReadOnlyDictionary<string, Review.ReviewDecision> _review = new Dictionary<string, Review.ReviewDecision>();
    private bool _split;

    /// <summary>Creates a cleaner; <paramref name="key"/> keys pseudonyms and value hashes.</summary>
    public Cleaner(CleaningPolicy policy, Detector detector, byte[] key, string toolVersion)
    {
        _policy = policy ?? throw new ArgumentNullException(nameof(policy));
        _detector = detector ?? throw new ArgumentNullException(nameof(detector));
        _normalizer = new TextNormalizer(policy);
        _redactor = new Redactor(policy, key);
        _toolVersion = toolVersion;
        _policyHash = policy.Hash;
    }

    /// <summary>Cleans <paramref name="files"/>; <paramref name="progress"/> receives (file, bytes read so far).</summary>
    public CleanManifest Run(IReadOnlyList<string> files, CleanOptions options, Action<string, long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(options);
        var reader = new DatasetReader(options.Reader with { KeepRawText = true });
        var formats = new List<SniffedFormat>();
        foreach (var file in files)
        {
            var sniffed = reader.Detect(file);
            if (sniffed.Container == Container.Parquet)
            {
                throw new CleanException($"{file}: clean rewrites JSON and CSV datasets; Parquet is scanned but not rewritten yet");
            }

            formats.Add(sniffed);
        }

        var asCsv = formats.Count > 0 && formats[0].Container == Container.Delimited;
        if (formats.Any(f => (f.Container == Container.Delimited) != asCsv))
        {
            throw new CleanException("clean writes one output format: the inputs mix CSV and JSON; clean them separately");
        }

        _review = options.ReviewDecisions;
        _split = options.HoldoutFraction > 0;

        // Poisoning is a property of the whole dataset: analyse it first, then act on the records it flags.
        _poisoned = [];
        if (_policy.PoisoningAnalyze)
        {
            var analysis = Poisoning.PoisoningAnalyzer.Analyze(Poisoning.PoisoningInput.Load(files, _policy, options.Reader.Format, _ => { }));
            foreach (var finding in analysis.Findings.Where(f => f.Severity >= _policy.PoisoningMinSeverity))
            {
                foreach (var r in finding.Records) _poisoned.TryAdd((r.File, r.Line), finding);
            }
        }

        var asArray = formats.Count > 0 && formats.All(f => f.Container == Container.Array);
        using var state = new RunState(options, _policy);
        using var output = new AtomicFile(options.Output);
        using var quarantine = new AtomicFile(options.Quarantine);
        using var ledger = new AtomicFile(options.Ledger);
        using var holdout = options.HoldoutFraction > 0 ? new AtomicFile(options.Holdout ?? throw new ArgumentException("a held-out path is needed", nameof(options))) : null;
        state.Open(output.Stream, quarantine.Stream, ledger.Stream, holdout?.Stream, asArray, asCsv);

        var manifestInputs = new List<InputEntry>();
        for (var f = 0; f < files.Count; f++)
        {
            var file = files[f];
            var source = _policy.SourceOf(file);
            // The input's hash is taken beside the cleaning, not before it (a second read of the file, from the page cache).
            var hashing = Task.Run(() => Sha256OfFile(file), cancellationToken);
            var entry = new InputEntry(file, formats[f].Format.Name(), new FileInfo(file).Length, source);
            manifestInputs.Add(entry);
            var batches = reader.Read(file, formats[f], position => progress?.Invoke(file, position));
            var processed = batches
                .AsParallel().AsOrdered().WithDegreeOfParallelism(options.Threads ?? Environment.ProcessorCount).WithCancellation(cancellationToken)
                .Select(batch => batch.Parse().Select(r => Process(r, source)).ToList());
            try
            {
                foreach (var batch in processed)
                {
                    foreach (var record in batch)
                    {
                        entry.Records++;
                        state.Accept(record, _policyHash);
                    }
                }
            }
            catch (AggregateException e) when (e.InnerExceptions.Count > 0)
            {
                // The parallel query wraps what reading threw (a file that cannot be read past a point): rethrow the
                // first cause itself, so the caller reports it as it reports any unreadable input.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            }

            entry.Sha256 = hashing.GetAwaiter().GetResult();
        }

        state.Finish(_policyHash);
        state.CheckSplit();
        output.Commit();
        quarantine.Commit();
        ledger.Commit();
        holdout?.Commit();

        var manifest = state.Manifest(manifestInputs, _policy, _policyHash, _toolVersion);
        using (var manifestFile = new AtomicFile(options.Manifest))
        {
            manifestFile.Stream.Write(manifest.ToJson());
            manifestFile.Commit();
        }

        return manifest;
    }

    private ProcessedRecord Process(ReadResult result, SourcePolicy source)
    {
        if (result.Problem is { } problem)
        {
            // What scan calls malformed, clean quarantines whole: a record read with repairs (invalid UTF-8, a
            // duplicate key, a CSV row with the wrong number of columns) is not rewritten into the training data.
            var text = result.Record?.Raw ?? problem.Raw;
            string? header = null;
            if (text is not null && text.StartsWith("{\"delimiter\"", StringComparison.Ordinal))
            {
                (header, text, _) = CsvRowWriter.Rewrite(text, []);
            }

            return new ProcessedRecord(problem.File, problem.Line, result.Record?.Id, Disposition.Malformed, text, [$"malformed: {problem.Reason}"],
                [new LedgerEntry(result.Record?.Id, problem.File, problem.Line, null, MalformedRule, "read", "malformed", "quarantine", problem.Reason, null)], source.Path)
            { CsvHeader = header };
        }

        var record = result.Record!;
        var entries = new List<LedgerEntry>();
        var reasons = new List<string>();
        var disposition = Disposition.Keep;

        if (source.Classification > _policy.MaxClassification)
        {
            disposition = Disposition.Quarantine;
            reasons.Add($"source {source.Path} is {source.Classification.Name()}, above {_policy.MaxClassification.Name()} allowed for use case {_policy.UseCase}");
            entries.Add(new LedgerEntry(record.Id, record.File, record.Line, null, PolicyRule, "policy", "source-classification", "quarantine", reasons[^1], null));
        }

        if (_poisoned.TryGetValue((record.File, record.Line), out var poisoning))
        {
            var action = _policy.PoisoningAction;
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
        var read = _split ? new List<string>(record.Fields.Count) : null;
        var removed = new List<(string Type, int Start, int End)>();
        foreach (var field in record.Fields)
        {
            removed.Clear();
            var text = _normalizer.Normalize(field.Text, removed);
            foreach (var (type, start, end) in removed)
            {
                entries.Add(new LedgerEntry(record.Id, record.File, record.Line, field.Path, "DD-NORM-001", "normalization", type, "remove",
                    "removed by normalization", _redactor.ValueHash(type, field.Text[start..end])));
            }

            var redactions = new List<(int Start, int End, string Replacement)>();
            foreach (var finding in _detector.Scan(text))
            {
                var action = _policy.ActionFor(finding, source.Trusted);
                if (action == CleanAction.Allow) continue;
                var value = text[finding.Start..finding.End];
                var implied = CleaningPolicy.Implied(finding);
                if (implied > _policy.MaxClassification && action == CleanAction.Redact)
                {
                    action = CleanAction.Quarantine;
                }

                var reason = action == CleanAction.Quarantine && implied > _policy.MaxClassification
                    ? $"{finding.Type} implies {implied.Name()} data, above {_policy.MaxClassification.Name()} allowed for use case {_policy.UseCase}"
                    : $"{finding.Category}/{finding.Type} ({finding.Severity.Name()}, confidence {finding.Confidence.ToString("0.00", CultureInfo.InvariantCulture)})";
                entries.Add(new LedgerEntry(record.Id, record.File, record.Line, field.Path, finding.RuleId, finding.Category, finding.Type, action.Name(), reason,
                    _redactor.ValueHash(finding.Type, value)));
                switch (action)
                {
                    case CleanAction.Redact:
                        redactions.Add((finding.Start, finding.End, _redactor.Replacement(finding, value)));
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

            var final = Apply(text, redactions);
            if (!string.Equals(final, field.Text, StringComparison.Ordinal)) changes.Add((field.Path, final));
            // The record's own id is not content: two records that differ only by id are duplicates.
            if (!string.Equals(field.Text, record.Id, StringComparison.Ordinal)) content.Add(final);
            if (read is not null && !DatasetReader.IsMetadataField(field.Path)) read.Add(final);
        }

        var raw = record.Raw ?? throw new CleanException($"{record.File}:{record.Line}: record text was not kept by the reader");
        string? csvHeader = null;
        if (raw.StartsWith("{\"delimiter\"", StringComparison.Ordinal))
        {
            // A CSV row: the original row goes to the quarantine, the rewritten one to the output.
            var (header, original, cleaned) = CsvRowWriter.Rewrite(raw, changes);
            csvHeader = header;
            (raw, changes) = (original, [(string.Empty, cleaned)]);
        }

        if (_review.Count > 0 && record.Raw is not null && _review.TryGetValue(Review.ReviewSampler.RecordSha256(record.Raw), out var decision))
        {
            // A reviewer's decision on this very record: approve releases it from quarantine, reject drops it.
            if (decision.Decision == "reject")
            {
                disposition = Disposition.Drop;
                reasons.Add($"rejected by reviewer {decision.Reviewer}");
                entries.Add(new LedgerEntry(record.Id, record.File, record.Line, null, ReviewRule, "review", "reviewer-decision", "drop", reasons[^1] + (decision.Note is { Length: > 0 } n ? $": {n}" : ""), null));
            }
            else if (disposition == Disposition.Quarantine)
            {
                disposition = Disposition.Keep;
                entries.Add(new LedgerEntry(record.Id, record.File, record.Line, null, ReviewRule, "review", "reviewer-decision", "release",
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
            rewritten = csvHeader is not null ? changes[0].Text : changes.Count == 0 ? raw : JsonFieldWriter.Rewrite(raw, changes);
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or ArgumentException or InvalidOperationException or FormatException)
        {
            // A record the reader accepted but the writer cannot rewrite leaves whole, never half-redacted or as a crash.
            var reason = $"cannot be rewritten: {e.Message}";
            return new ProcessedRecord(record.File, record.Line, record.Id, Disposition.Malformed, raw, [$"malformed: {reason}"],
                [new LedgerEntry(record.Id, record.File, record.Line, null, MalformedRule, "read", "malformed", "quarantine", reason, null)], source.Path);
        }

        var signature = _policy.NearDedup ? NearDuplicateIndex.Signature(content) : null;
        return new ProcessedRecord(record.File, record.Line, record.Id, Disposition.Keep, rewritten, reasons, entries, source.Path)
        {
            CsvHeader = csvHeader,
            ExactHash = ExactHash(content),
            Signature = signature,
            SplitSignature = read is null ? null : signature is not null && read.SequenceEqual(content, StringComparer.Ordinal) ? signature : NearDuplicateIndex.Signature(read),
            SplitText = read is null ? null : string.Join('\n', read),
        };
    }

    // XxHash128 of the lower-cased content's UTF-8 bytes, each field followed by U+001F, through reused per-thread
    // buffers (the fields are never joined or copied per record).
    private static UInt128 ExactHash(List<string> content)
    {
        var hash = t_hash ??= new XxHash128();
        hash.Reset();
        foreach (var part in content)
        {
            if (t_lower is null || t_lower.Length < part.Length) t_lower = new char[Math.Max(part.Length, 4096)];
            var byteCount = Encoding.UTF8.GetMaxByteCount(part.Length);
            if (t_utf8 is null || t_utf8.Length < byteCount) t_utf8 = new byte[Math.Max(byteCount, 12288)];
            var lower = t_lower.AsSpan(0, part.Length);
            part.AsSpan().ToLowerInvariant(lower);
            hash.Append(t_utf8.AsSpan(0, Encoding.UTF8.GetBytes(lower, t_utf8)));
            hash.Append("\u001f"u8);
        }

        return hash.GetCurrentHashAsUInt128();
    }

    [ThreadStatic]
    private static XxHash128? t_hash;

    [ThreadStatic]
    private static char[]? t_lower;

    [ThreadStatic]
    private static byte[]? t_utf8;

    // Replaces spans right to left; overlapping spans keep the first.
    private static string Apply(string text, List<(int Start, int End, string Replacement)> redactions)
    {
        if (redactions.Count == 0) return text;
        var builder = new StringBuilder(text.Length);
        var at = 0;
        foreach (var (start, end, replacement) in redactions.OrderBy(r => r.Start).ThenByDescending(r => r.End))
        {
            if (start < at) continue;
            builder.Append(text, at, start - at).Append(replacement);
            at = end;
        }

        return builder.Append(text, at, text.Length - at).ToString();
    }

    private static string Sha256OfFile(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    internal enum Disposition
    {
        Keep,
        Quarantine,
        Drop,
        Malformed,
    }

    internal sealed record ProcessedRecord(string File, long Line, string? Id, Disposition Disposition, string? Text, List<string> Reasons, List<LedgerEntry> Ledger, string Source)
    {
        public UInt128 ExactHash { get; init; }

        public uint[]? Signature { get; init; }

        /// <summary>The signature of the text as training reads it (without ids and roles), when there is a held-out split.</summary>
        public uint[]? SplitSignature { get; init; }

        public string? SplitText { get; init; }

        /// <summary>The header line, for CSV records.</summary>
        public string? CsvHeader { get; init; }
    }

    internal sealed record LedgerEntry(string? RecordId, string File, long Line, string? Field, string Rule, string Category, string Type, string Action, string Reason, string? ValueHash);

    // A stream and the SHA-256 of everything written to it, so that no output is read back to be hashed.
    private sealed class HashedOutput(Stream stream) : IDisposable
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        private byte[] _encoded = new byte[64 * 1024];

        // Encoded into one reused buffer: no copy of the record per write.
        public void Write(string text)
        {
            var most = Encoding.UTF8.GetMaxByteCount(text.Length);
            if (_encoded.Length < most) _encoded = new byte[Math.Max(most, _encoded.Length * 2)];
            Write(_encoded.AsSpan(0, Encoding.UTF8.GetBytes(text, _encoded)));
        }

        public void WriteLine(string text)
        {
            Write(text);
            Write("\n"u8);
        }

        public void WriteLine(ReadOnlySpan<byte> bytes)
        {
            Write(bytes);
            Write("\n"u8);
        }

        public string Sha256() => Convert.ToHexStringLower(_hash.GetHashAndReset());

        public void Dispose() => _hash.Dispose();

        private void Write(ReadOnlySpan<byte> bytes)
        {
            stream.Write(bytes);
            _hash.AppendData(bytes);
        }
    }

    internal sealed class InputEntry(string file, string format, long bytes, SourcePolicy source)
    {
        public SourcePolicy Source { get; } = source;
        public string File { get; } = file;
        public string Format { get; } = format;
        public string Sha256 { get; set; } = "";
        public long Bytes { get; } = bytes;
        public long Records { get; set; }
    }

    // The sequential part: de-duplication, the held-out split, selection, and every write, in input order.
    private sealed class RunState(CleanOptions options, CleaningPolicy policy) : IDisposable
    {
        // Where each kept record came from, by ordinal (file index and line: a few bytes per record, even for millions).
        private readonly List<string> _files = [];
        private readonly List<(int File, long Line)> _positions = [];
        private readonly Dictionary<UInt128, int> _exact = [];
        private readonly NearDuplicateIndex _near = new(policy.NearDuplicateThreshold);
        private readonly List<int> _nearKept = [];

        // Every record written to each side of the held-out split (by ordinal), indexed at the near-duplicate threshold
        // the membership evaluation applies (or the policy's, when lower): a record goes to the side of its near
        // duplicates, whatever the policy's own near-duplicate removal does.
        private readonly double _splitThreshold = SplitThreshold(policy);
        private readonly NearCopyIndex _placed = new(SplitThreshold(policy));
        private readonly List<(int Ordinal, bool HeldOut, int Family)> _placedRecords = [];
        private readonly Dictionary<int, HashSet<string>> _mistypedNeighbours = [];
        private readonly Dictionary<int, (bool HeldOut, int Size)> _familySizes = [];
        private readonly List<(ProcessedRecord Record, ulong Rank)> _selection = [];
        private readonly SortedDictionary<string, long> _actions = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, long> _categories = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, long> _types = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, long> _dispositions = new(StringComparer.Ordinal);
        private HashedOutput? _output;
        private HashedOutput? _quarantine;
        private HashedOutput? _ledger;
        private HashedOutput? _holdout;
        private bool _asArray;
        private bool _asCsv;
        private bool _headerWritten;
        private bool _holdoutHeaderWritten;
        private long _written;
        private long _heldOut;
        private long _quarantined;
        private long _ledgerEntries;

        // One buffer and writer for every quarantine and ledger line (reset per line).
        private readonly System.Buffers.ArrayBufferWriter<byte> _line = new();
        private Utf8JsonWriter? _writer;

        public void Open(Stream output, Stream quarantine, Stream ledger, Stream? holdout, bool asArray, bool asCsv)
        {
            (_output, _quarantine, _ledger) = (new HashedOutput(output), new HashedOutput(quarantine), new HashedOutput(ledger));
            _holdout = holdout is null ? null : new HashedOutput(holdout);
            (_asArray, _asCsv) = (asArray, asCsv);
            if (_asArray) _output.Write("[\n");
        }

        public void Accept(ProcessedRecord record, string policyHash)
        {
            foreach (var entry in record.Ledger) Log(entry, policyHash);
            switch (record.Disposition)
            {
                case Disposition.Malformed:
                    options.OnMalformed?.Invoke($"{record.File}:{record.Line}: {record.Reasons[0]}");
                    goto case Disposition.Quarantine;
                case Disposition.Quarantine:
                    Count(_dispositions, record.Disposition == Disposition.Malformed ? "malformed" : "quarantined");
                    WriteQuarantine(record);
                    return;
                case Disposition.Drop:
                    Count(_dispositions, "dropped");
                    return;
            }

            if (policy.ExactDedup && _exact.TryGetValue(record.ExactHash, out var firstOrdinal))
            {
                Log(new LedgerEntry(record.Id, record.File, record.Line, null, ExactRule, "dedup", "exact-duplicate", "drop", $"exact duplicate of {Where(firstOrdinal)}", null), policyHash);
                Count(_dispositions, "exact-duplicate");
                return;
            }

            if (_files.Count == 0 || !string.Equals(_files[^1], record.File, StringComparison.Ordinal)) _files.Add(record.File);
            var ordinal = _positions.Count;
            _positions.Add((_files.Count - 1, record.Line));
            if (policy.ExactDedup) _exact[record.ExactHash] = ordinal;
            var holdout = options.HoldoutFraction > 0 && Fraction(record.ExactHash, options.Seed) < options.HoldoutFraction;
            if (record.Signature is { } signature)
            {
                var cluster = _near.FindOrAdd(signature);
                if (cluster >= 0)
                {
                    Log(new LedgerEntry(record.Id, record.File, record.Line, null, NearRule, "dedup", "near-duplicate", "drop",
                        $"near duplicate (Jaccard ≥ {policy.NearDuplicateThreshold.ToString("0.##", CultureInfo.InvariantCulture)}) of {Where(_nearKept[cluster])}", null), policyHash);
                    Count(_dispositions, "near-duplicate");
                    return;
                }

                _nearKept.Add(ordinal);
            }

            if (record.SplitSignature is { } split && record.SplitText is { } splitText && options.HoldoutFraction > 0)
            {
                // A near-duplicate family stays on one side: the side of the records it nearly duplicates, the seeded
                // hash only for a record that nearly duplicates none. One that nearly duplicates records on both sides
                // (it bridges two families) can go to neither without leaking one into the other: it is dropped. A
                // near copy only with a long number mistyped binds the two records to one side when it is a pair
                // (NearCopyIndex.MistypedPair: neither has a mistyped link to other numbers), and chains no further:
                // sequential ids are different values, a retyped record lands beside its original.
                var links = _placed.FindLinks(splitText, split);
                var values = links.Mistyped.Select(_placed.NumbersOf).ToHashSet(StringComparer.Ordinal);
                var bound = links.Copies.Concat(links.Mistyped.Where(m => NearCopyIndex.MistypedPair(
                    links.Numbers, values, _placed.NumbersOf(m), _mistypedNeighbours.TryGetValue(m, out var theirs) ? theirs : []))).ToList();
                var inTraining = bound.FirstOrDefault(b => !_placedRecords[b].HeldOut, -1);
                var heldOut = bound.FirstOrDefault(b => _placedRecords[b].HeldOut, -1);
                if (inTraining >= 0 && heldOut >= 0)
                {
                    Log(new LedgerEntry(record.Id, record.File, record.Line, null, SplitRule, "dedup", "split-conflict", "drop",
                        $"near copy (Jaccard ≥ {_splitThreshold.ToString("0.##", CultureInfo.InvariantCulture)}, a few edits, or contained) of {Where(_placedRecords[inTraining].Ordinal)} (training) and of {Where(_placedRecords[heldOut].Ordinal)} (held out): kept on neither side of the split", null), policyHash);
                    Count(_dispositions, "split-conflict");
                    return;
                }

                if (bound.Count > 0) holdout = _placedRecords[bound[0]].HeldOut;
                var family = bound.Count > 0 ? _placedRecords[bound[0]].Family : ordinal;
                var id = _placed.Add(splitText, split);
                _placedRecords.Add((ordinal, holdout, family));
                if (values.Count > 0) _mistypedNeighbours[id] = values;
                foreach (var m in links.Mistyped)
                {
                    if (!_mistypedNeighbours.TryGetValue(m, out var set)) _mistypedNeighbours[m] = set = new HashSet<string>(StringComparer.Ordinal);
                    set.Add(links.Numbers);
                }

                _familySizes[family] = (holdout, _familySizes.GetValueOrDefault(family).Size + 1);
            }

            if (holdout)
            {
                if (_asCsv && !_holdoutHeaderWritten && record.CsvHeader is not null)
                {
                    _holdout!.WriteLine(record.CsvHeader);
                    _holdoutHeaderWritten = true;
                }

                _holdout!.WriteLine(record.Text!);
                _heldOut++;
                Count(_dispositions, "held-out");
                return;
            }

            if (options.Keep is not null)
            {
                _selection.Add((record, XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(record.Text!), options.Seed)));
                return;
            }

            WriteRecord(record);
        }

        /// <summary>
        /// Refuses a split that is not the one asked for: a side left empty, or a held-out share further from the
        /// fraction asked than chance allows when whole families are drawn (see <see cref="MinSplitSkew"/>), naming
        /// the largest families. Called before any output is committed, so nothing is written.
        /// </summary>
        public void CheckSplit()
        {
            if (options.HoldoutFraction <= 0) return;
            var total = _written + _heldOut;
            if (total == 0) return;
            var share = (double)_heldOut / total;
            var p = options.HoldoutFraction;
            var squaredSizes = _familySizes.Values.Sum(f => (double)f.Size * f.Size);
            var tolerance = Math.Clamp(3 * Math.Sqrt(p * (1 - p) * squaredSizes) / total, MinSplitSkew, MaxSplitSkew);
            if (_written > 0 && _heldOut > 0 && Math.Abs(share - p) <= tolerance) return;
            var largest = _familySizes.OrderByDescending(f => f.Value.Size).ThenBy(f => f.Key).Take(3)
                .Select(f => $"{f.Value.Size} records like {Where(f.Key)} ({(f.Value.HeldOut ? "held out" : "training")})");
            throw new CleanException(string.Create(CultureInfo.InvariantCulture,
                $"--holdout {options.HoldoutFraction:0.###}: the split kept {_written} and held out {_heldOut} records ({share:P0} held out), not the fraction asked (within {tolerance:P0} for these family sizes, both sides non-empty), because near-copy families decide each record's side; largest families: {string.Join("; ", largest)}. No output written"));
        }

        public void Finish(string policyHash)
        {
            if (options.Keep is { } keep)
            {
                // Round-robin over sources (each in a seeded random order) until N are chosen; then input order.
                var chosen = new HashSet<ProcessedRecord>(ReferenceEqualityComparer.Instance);
                var queues = _selection.GroupBy(s => s.Record.Source, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => new Queue<ProcessedRecord>(g.OrderBy(s => s.Rank).Select(s => s.Record))).ToList();
                while (chosen.Count < keep && queues.Any(q => q.Count > 0))
                {
                    foreach (var queue in queues)
                    {
                        if (chosen.Count < keep && queue.Count > 0) chosen.Add(queue.Dequeue());
                    }
                }

                foreach (var (record, _) in _selection)
                {
                    if (chosen.Contains(record))
                    {
                        WriteRecord(record);
                    }
                    else
                    {
                        Log(new LedgerEntry(record.Id, record.File, record.Line, null, KeepRule, "minimisation", "not-selected", "drop", $"not among the {keep} records kept for diversity", null), policyHash);
                        Count(_dispositions, "not-selected");
                    }
                }
            }

            if (_asArray) _output!.Write(_written == 0 ? "]\n" : "\n]\n");
        }

        public CleanManifest Manifest(List<InputEntry> inputs, CleaningPolicy policy, string policyHash, string toolVersion)
        {
            return new CleanManifest
            {
                ToolVersion = toolVersion,
                DatasetVersion = _output!.Sha256(),
                Output = options.Output,
                Records = _written,
                Holdout = options.HoldoutFraction > 0 ? options.Holdout : null,
                HoldoutRecords = _heldOut,
                HoldoutSha256 = _holdout?.Sha256(),
                Quarantine = options.Quarantine,
                QuarantineRecords = _quarantined,
                QuarantineSha256 = _quarantine!.Sha256(),
                Ledger = options.Ledger,
                LedgerEntries = _ledgerEntries,
                LedgerSha256 = _ledger!.Sha256(),
                Inputs = [.. inputs.Select(i => new ManifestInput(i.File, i.Format, i.Sha256, i.Bytes, i.Records, i.Source))],
                PolicyHash = policyHash,
                UseCase = policy.UseCase,
                MaxClassification = policy.MaxClassification,
                Project = policy.Project,
                Actions = _actions,
                Categories = _categories,
                Types = _types,
                Dispositions = _dispositions,
                HoldoutFraction = options.HoldoutFraction,
                Seed = options.Seed,
                Keep = options.Keep,
            };
        }

        private static double SplitThreshold(CleaningPolicy policy) => Math.Min(policy.NearDuplicateThreshold, NearDuplicateIndex.DefaultThreshold);

        private string Where(int ordinal) => $"{_files[_positions[ordinal].File]}:{_positions[ordinal].Line}";

        private static double Fraction(UInt128 hash, int seed)
        {
            Span<byte> bytes = stackalloc byte[20];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt128LittleEndian(bytes, hash);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes[16..], seed);
            return XxHash64.HashToUInt64(bytes) / (double)ulong.MaxValue;
        }

        private void WriteRecord(ProcessedRecord record)
        {
            if (_asCsv && !_headerWritten && record.CsvHeader is not null)
            {
                _output!.WriteLine(record.CsvHeader);
                _headerWritten = true;
            }

            if (_asArray)
            {
                _output!.Write(_written == 0 ? "  " : ",\n  ");
                _output.Write(record.Text!);
            }
            else
            {
                _output!.WriteLine(record.Text!);
            }

            _written++;
            Count(_dispositions, "kept");
        }

        private void WriteQuarantine(ProcessedRecord record)
        {
            var w = StartLine();
            w.WriteStartObject();
            w.WriteString("file", record.File);
            w.WriteNumber("line", record.Line);
            if (record.Id is null) w.WriteNull("recordId"); else w.WriteString("recordId", record.Id);
            w.WriteStartArray("reasons");
            foreach (var reason in record.Reasons) w.WriteStringValue(reason);
            w.WriteEndArray();
            // The record itself, as read: a reviewer can release it unchanged.
            if (record.Text is null) w.WriteNull("record"); else w.WriteString("record", record.Text);
            w.WriteEndObject();
            w.Flush();
            _quarantine!.WriteLine(_line.WrittenSpan);
            _quarantined++;
        }

        private void Log(LedgerEntry e, string policyHash)
        {
            var w = StartLine();
            w.WriteStartObject();
            if (e.RecordId is null) w.WriteNull("recordId"); else w.WriteString("recordId", e.RecordId);
            w.WriteString("file", e.File);
            w.WriteNumber("line", e.Line);
            if (e.Field is null) w.WriteNull("field"); else w.WriteString("field", e.Field);
            w.WriteString("rule", e.Rule);
            w.WriteString("category", e.Category);
            w.WriteString("type", e.Type);
            w.WriteString("action", e.Action);
            w.WriteString("reason", e.Reason);
            w.WriteString("policy", policyHash);
            if (e.ValueHash is null) w.WriteNull("valueHash"); else w.WriteString("valueHash", e.ValueHash);
            w.WriteEndObject();
            w.Flush();
            _ledger!.WriteLine(_line.WrittenSpan);
            _ledgerEntries++;
            Count(_actions, e.Action);
            Count(_categories, e.Category);
            Count(_types, e.Type);
        }

        public void Dispose()
        {
            _writer?.Dispose();
            foreach (var output in new[] { _output, _quarantine, _ledger, _holdout }) output?.Dispose();
        }

        private Utf8JsonWriter StartLine()
        {
            _line.ResetWrittenCount();
            if (_writer is null) _writer = new Utf8JsonWriter(_line, s_json);
            else _writer.Reset(_line);
            return _writer;
        }

        private static void Count(SortedDictionary<string, long> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;
    }
}
