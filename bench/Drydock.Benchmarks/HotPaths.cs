using System.Text;
using BenchmarkDotNet.Attributes;
using Drydock.Datasets;
using Drydock.Datasets.Formats;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Bench;

/// <summary>
/// Micro-benchmarks of the per-field hot paths: detection on typical texts, JSON record parsing, and the near-duplicate
/// signature of a record's content. The clean field rotates through 4,096 variants: the detector skips a short text it
/// has just found clean, so one repeated text would time that lookup instead of a scan.
/// </summary>
[MemoryDiagnoser]
public class HotPaths
{
    private readonly Detector _detector = Detector.Create(BuiltInRules.All);
    private readonly JsonRecordParser _parser = new(DatasetFormat.Chat, 128);
    private byte[] _record = [];
    private string[] _cleanVariants = [];
    private int _next;
    private readonly string[] _content =
    [
        "You are a helpful support assistant for an online bank. Answer briefly and never ask for full card numbers.",
        "Could you explain the difference between a Roth IRA and a traditional IRA? I am trying to decide before the end of the tax year.",
        "Both are retirement accounts. Contributions to a traditional IRA may be deductible now and are taxed when withdrawn; Roth contributions are taxed now and qualified withdrawals are tax-free.",
    ];

    private const string Clean = "Could you explain the difference between a Roth IRA and a traditional IRA? The quarterly report is attached; " +
                                 "revenue grew 4% year over year. Step 1: open Settings. Step 2: choose Security. Thanks, that solved it!";

    private const string WithFindings = "Hi, my name is Maria Gonzalez. My card 4539 1488 0343 6467 was declined; reach me at maria.gonzalez@fastmail.com " +
                                        "or +44 20 7946 0321. Our config has AKIAGNSUV3QBWQSDXU6S in it, sorry.";

    [GlobalSetup]
    public void Setup()
    {
        var (json, _) = new Synthetic(3).ChatRecord(1, findingRate: 0);
        _record = Encoding.UTF8.GetBytes(json);
        _cleanVariants = [.. Enumerable.Range(0, 4096).Select(i => Clean + " Ticket " + i.ToString(System.Globalization.CultureInfo.InvariantCulture))];
    }

    [Benchmark]
    public int ScanCleanField() => _detector.Scan(_cleanVariants[_next++ & 4095]).Count;

    [Benchmark]
    public int ScanFieldWithFindings() => _detector.Scan(WithFindings).Count;

    [Benchmark]
    public int ParseChatRecord() => _parser.Parse("bench.jsonl", 1, _record).Record!.Fields.Count;

    [Benchmark]
    public uint NearDuplicateSignature() => Datasets.Similarity.NearDuplicateIndex.Signature(_content)[0];
}
