namespace Drydock.Curation.Poisoning;

/// <summary>
/// Dataset-level poisoning analysis: backdoor triggers, payload stuffing, conflicting answers and outliers, with a
/// profile of each source against the trusted baseline. Findings come most suspicious first.
/// </summary>
public static class PoisoningAnalyzer
{
    /// <summary>Analyses the records (in input order; <see cref="AnalysisRecord.Index"/> is the position).</summary>
    public static PoisoningReport Analyze(IReadOnlyList<AnalysisRecord> records, PoisoningOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        options ??= new PoisoningOptions();
        List<PoisoningFinding> stuffing = [], conflicts = [];
        List<PoisoningFinding> triggers = [];
        List<TriggerProbe> probes = [];
        OutlierDetector.Result? outliers = null;
        Parallel.Invoke(
            () => (triggers, probes) = TriggerDetector.Run(records, options),
            () => stuffing = StuffingDetector.Run(records, options),
            () => conflicts = ConflictDetector.Run(records, options),
            () => outliers = OutlierDetector.Run(records, options));

        var findings = triggers.Concat(stuffing).Concat(conflicts).Concat(outliers!.Findings)
            .OrderByDescending(f => f.Severity).ThenByDescending(f => f.Score).ThenBy(f => f.Records.Count > 0 ? f.Records[0].Line : 0).ToList();

        var flagged = new HashSet<(string, long)>(findings.SelectMany(f => f.Records).Select(r => (r.File, r.Line)));
        var sources = records.GroupBy(r => (r.Source, r.Trusted)).OrderBy(g => g.Key.Source, StringComparer.Ordinal).Select(g =>
        {
            var members = g.ToList();
            var lengths = members.Select(r => (double)r.Text.Length).Order().ToArray();
            var cross = members.Average(r => outliers.CrossEntropy[r.Index]);
            return new SourceProfile(g.Key.Source, g.Key.Trusted, members.Count, lengths[lengths.Length / 2], Math.Round(cross, 3),
                Math.Round((cross - outliers.BaselineMean) / outliers.BaselineSd, 2),
                Math.Round(members.Count(r => outliers.Outlier[r.Index]) / (double)members.Count, 4),
                Math.Round(members.Count(r => flagged.Contains((r.File, r.Line))) / (double)members.Count, 4));
        }).ToList();

        return new PoisoningReport(records.Count, findings, sources, probes);
    }
}
