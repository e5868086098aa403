using System.Security.Cryptography;
using System.Text;
using Drydock.Curation.Policy;
using Drydock.Curation.Poisoning;
using Drydock.Datasets;
using Drydock.Detection;
using Drydock.Detection.Engine;

namespace Drydock.Curation.Review;

/// <summary>A finding shown to a reviewer (offsets are UTF-16 into the field; the excerpt is masked).</summary>
public sealed record ReviewFinding(string Category, string Type, Severity Severity, string Field, int Start, int End, string RuleId, string Excerpt);

/// <summary>One record of a review set.</summary>
public sealed record ReviewItem(
    string ReviewId, string File, long Line, string? RecordId, string Source, bool Trusted, string RecordSha256, bool Flagged,
    IReadOnlyList<string> Categories, IReadOnlyList<ReviewFinding> Findings, IReadOnlyList<TextField> Fields, string? Poisoning);

/// <summary>
/// Builds a review set: flagged records (a finding of medium severity or more, or a poisoning finding) stratified
/// by source and/or category, mixed with a random sample of unflagged records stratified by source, half and half
/// (one side fills in when the other runs short). Seeded: the same inputs and seed give the same set.
/// </summary>
public static class ReviewSampler
{
    private sealed record Candidate(string File, long Line, string Source, bool Flagged, string Stratum);

    /// <summary>Samples <paramref name="size"/> records of <paramref name="files"/>.</summary>
    public static List<ReviewItem> Sample(IReadOnlyList<string> files, CleaningPolicy policy, Detector detector, int size, bool bySource, bool byCategory, int seed,
        DatasetFormat format, Action<MalformedRecord> onMalformed)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(detector);
        var poisoning = PoisoningAnalyzer.Analyze(PoisoningInput.Load(files, policy, format, onMalformed));
        var poisoned = new Dictionary<(string, long), PoisoningFinding>();
        foreach (var f in poisoning.Findings.Where(f => f.Severity >= Severity.Medium))
        {
            foreach (var r in f.Records) poisoned.TryAdd((r.File, r.Line), f);
        }

        // Pass 1: what each record holds (the detector on every field), kept small.
        var candidates = new List<Candidate>();
        foreach (var (record, source) in Read(files, policy, format, keepRaw: false))
        {
            var worst = record.Fields.SelectMany(f => detector.Scan(f.Text)).Where(f => f.Severity >= Severity.Medium).MaxBy(f => f.Severity);
            var category = poisoned.ContainsKey((record.File, record.Line)) ? Categories.Poisoning : worst?.Category;
            var stratum = (bySource ? source.Path : "") + "|" + (byCategory && category is not null ? category : "");
            candidates.Add(new Candidate(record.File, record.Line, source.Path, category is not null, stratum));
        }

        var random = new Random(seed);
        var flagged = RoundRobin(candidates.Where(c => c.Flagged), c => c.Stratum, random);
        var unflagged = RoundRobin(candidates.Where(c => !c.Flagged), c => bySource ? c.Source : "", random);
        var wantFlagged = Math.Min(flagged.Count, Math.Max((size + 1) / 2, size - unflagged.Count));
        var chosen = flagged.Take(wantFlagged).Concat(unflagged.Take(size - wantFlagged)).Select(c => (c.File, c.Line)).ToHashSet();

        // Pass 2: the chosen records in full, in input order.
        var items = new List<ReviewItem>();
        foreach (var (record, source) in Read(files, policy, format, keepRaw: true))
        {
            if (!chosen.Contains((record.File, record.Line))) continue;
            var findings = record.Fields.SelectMany(field => detector.Scan(field.Text).Select(f => new ReviewFinding(f.Category, f.Type, f.Severity, field.Path, f.Start, f.End, f.RuleId, f.Excerpt))).ToList();
            poisoned.TryGetValue((record.File, record.Line), out var poison);
            var categories = findings.Where(f => f.Severity >= Severity.Medium).Select(f => f.Category).Concat(poison is null ? [] : [Categories.Poisoning]).Distinct().ToList();
            var sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(record.Raw?.Text ?? "")));
            items.Add(new ReviewItem($"rv-{items.Count + 1:D4}", record.File, record.Line, record.Id, source.Path, source.Trusted, sha, categories.Count > 0, categories, findings,
                record.Fields, poison is null ? null : $"{poison.Type}: {poison.Summary}"));
        }

        return items;
    }

    /// <summary>SHA-256 of a record's text as read: how decisions find their record again.</summary>
    public static string RecordSha256(string raw) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(raw)));

    private static IEnumerable<(DatasetRecord Record, SourcePolicy Source)> Read(IReadOnlyList<string> files, CleaningPolicy policy, DatasetFormat format, bool keepRaw)
    {
        var reader = new DatasetReader(new ReaderOptions { KeepRawText = keepRaw, Format = format });
        foreach (var file in files)
        {
            var source = policy.SourceOf(file);
            foreach (var batch in reader.Read(file, reader.Detect(file)))
            {
                foreach (var result in batch.Parse())
                {
                    if (result.Record is { } record) yield return (record, source);
                }
            }
        }
    }

    // Shuffles each stratum, then takes one from each in turn: small strata are represented.
    private static List<Candidate> RoundRobin(IEnumerable<Candidate> candidates, Func<Candidate, string> key, Random random)
    {
        var queues = candidates.GroupBy(key).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new Queue<Candidate>(g.OrderBy(_ => random.Next()))).ToList();
        var result = new List<Candidate>();
        while (queues.Any(q => q.Count > 0))
        {
            foreach (var q in queues.Where(q => q.Count > 0)) result.Add(q.Dequeue());
        }

        return result;
    }
}
