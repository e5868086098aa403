using System.Security.Cryptography;
using Drydock.Curation.Cleaning;
using Drydock.Curation.Normalization;
using Drydock.Curation.Policy;
using Drydock.Curation.Redaction;
using Drydock.Datasets;
using Drydock.Datasets.Formats;
using Drydock.Datasets.Input;
using Drydock.Datasets.Output;
using Drydock.Detection.Engine;

namespace Drydock.Curation;

/// <summary>
/// <c>drydock clean</c>: normalises, scans, redacts, quarantines, de-duplicates, splits and minimises a dataset as a
/// policy says, and writes the cleaned dataset, quarantine, ledger and manifest atomically. Records are processed in
/// parallel and written in input order; the same inputs, policy, key and version give byte-identical outputs.
/// </summary>
/// <remarks>
/// The run is put together from parts in <c>Cleaning/</c>: each record is cleaned on its own, in parallel
/// (<see cref="RecordCleaner"/>, built per run so that nothing a run decides is shared between runs); then, in input
/// order, <see cref="CleanRun"/> de-duplicates, splits, selects and writes. An instance can be reused.
/// </remarks>
public sealed class Cleaner
{
    private readonly CleaningPolicy _policy;
    private readonly Detector _detector;
    private readonly TextNormalizer _normalizer;
    private readonly Redactor _redactor;
    private readonly string _toolVersion;
    private readonly string _policyHash;

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

        var records = new RecordCleaner(_policy, _detector, _normalizer, _redactor, Poisoned(files, options), options.ReviewDecisions, split: options.HoldoutFraction > 0);
        var asArray = formats.Count > 0 && formats.All(f => f.Container == Container.Array);
        using var run = new CleanRun(options, _policy, _policyHash);
        using var output = new AtomicFile(options.Output);
        using var quarantine = new AtomicFile(options.Quarantine);
        using var ledger = new AtomicFile(options.Ledger);
        using var holdout = options.HoldoutFraction > 0 ? new AtomicFile(options.Holdout ?? throw new ArgumentException("a held-out path is needed", nameof(options))) : null;
        run.Open(output.Stream, quarantine.Stream, ledger.Stream, holdout?.Stream, asArray, asCsv);

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
                .Select(batch => batch.Parse().Select(r => records.Process(r, source)).ToList());
            try
            {
                foreach (var batch in processed)
                {
                    foreach (var record in batch)
                    {
                        entry.Records++;
                        run.Accept(record);
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

        run.Finish();
        run.CheckSplit();
        output.Commit();
        quarantine.Commit();
        ledger.Commit();
        holdout?.Commit();

        var manifest = run.Manifest(manifestInputs, _toolVersion);
        using (var manifestFile = new AtomicFile(options.Manifest))
        {
            manifestFile.Stream.Write(manifest.ToJson());
            manifestFile.Commit();
        }

        return manifest;
    }

    // Poisoning is a property of the whole dataset: analysed first, then the records it flags are acted on.
    private Dictionary<(string File, long Line), Poisoning.PoisoningFinding> Poisoned(IReadOnlyList<string> files, CleanOptions options)
    {
        var poisoned = new Dictionary<(string File, long Line), Poisoning.PoisoningFinding>();
        if (!_policy.PoisoningAnalyze) return poisoned;
        var analysis = Poisoning.PoisoningAnalyzer.Analyze(Poisoning.PoisoningInput.Load(files, _policy, options.Reader.Format, _ => { }));
        foreach (var finding in analysis.Findings.Where(f => f.Severity >= _policy.PoisoningMinSeverity))
        {
            foreach (var r in finding.Records) poisoned.TryAdd((r.File, r.Line), finding);
        }

        return poisoned;
    }

    private static string Sha256OfFile(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
