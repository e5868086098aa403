using Drydock.Curation.Policy;
using Drydock.Datasets;

namespace Drydock.Curation.Poisoning;

/// <summary>Reads datasets into analysis records, each with its source and trust tier from the policy.</summary>
public static class PoisoningInput
{
    /// <summary>
    /// Reads every record of <paramref name="files"/> (in order). Malformed records are passed to
    /// <paramref name="onMalformed"/> (never silently dropped) and left out of the analysis.
    /// </summary>
    public static List<AnalysisRecord> Load(IReadOnlyList<string> files, CleaningPolicy policy, DatasetFormat format, Action<MalformedRecord> onMalformed)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(onMalformed);
        var reader = new DatasetReader(new ReaderOptions { KeepRawText = true, Format = format });
        var records = new List<AnalysisRecord>();
        foreach (var file in files)
        {
            var source = policy.SourceOf(file);
            var batches = reader.Read(file, reader.Detect(file));
            foreach (var batch in batches.AsParallel().AsOrdered().Select(b => b.Parse().ToList()))
            {
                foreach (var result in batch)
                {
                    if (result.Problem is { } problem) onMalformed(problem);
                    else if (result.Record is { } record) records.Add(AnalysisRecord.From(records.Count, record, source.Path, source.Trusted));
                }
            }
        }

        return records;
    }
}
