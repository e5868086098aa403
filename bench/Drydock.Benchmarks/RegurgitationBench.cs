using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using Drydock.Gateway.Guards;

namespace Drydock.Bench;

/// <summary>
/// The regurgitation tripwire's index: build time and size for many records (<c>regurgitation-index RECORDS</c>), and
/// the per-answer check of a 1,000-character answer (BenchmarkDotNet, <c>bdn --filter *Regurgitation*</c>).
/// Records are 40 words drawn from 20,000 (about 280 characters), between a greeting and a closing every record shares.
/// </summary>
[MemoryDiagnoser]
public class RegurgitationBench
{
    private RegurgitationIndex _index = null!;
    private string _clean = "";
    private string _verbatim = "";
    private string[] _cleans = [];
    private int _next;

    internal static IEnumerable<(string Id, string Text)> Records(int count, int seed = 1)
    {
        var random = new Random(seed);
        var vocabulary = Enumerable.Range(0, 20_000).Select(i => "w" + i.ToString("x", CultureInfo.InvariantCulture)).ToArray();
        for (var i = 0; i < count; i++)
        {
            yield return (string.Create(CultureInfo.InvariantCulture, $"ds-1#r{i}"), "Thank you for contacting us. " + string.Join(' ', Enumerable.Range(0, 40).Select(_ => vocabulary[random.Next(vocabulary.Length)])) + ". Kind regards.");
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        _index = RegurgitationIndex.Build("mv-1", ["ds-1"], Records(100_000), key: 3);
        var other = Records(40, seed: 99).Select(r => r.Text).ToList();
        _clean = string.Join(' ', other)[..1000];
        _cleans = [.. Enumerable.Range(0, 4096).Select(i => string.Join(' ', Records(40, seed: 1000 + i).Select(r => r.Text))[..1000])];
        var record = Records(500).Last().Text;
        _verbatim = (string.Join(' ', other)[..(1000 - record.Length - 1)] + " " + record)[..1000];
    }

    /// <summary>An answer of 1,000 characters that repeats no record: every n-gram is looked up (the usual case).</summary>
    [Benchmark]
    public bool CleanAnswer() => _index.Find(_clean) is null;

    /// <summary>1,000-character answers that repeat no record, a different one each call (the index's entries are not all in the caches).</summary>
    [Benchmark]
    public bool CleanAnswers() => _index.Find(_cleans[_next++ & 4095]) is null;

    /// <summary>An answer of 1,000 characters that ends with a training record verbatim.</summary>
    [Benchmark]
    public bool VerbatimAnswer() => _index.Find(_verbatim) is not null;

    /// <summary>Builds the index of <paramref name="count"/> records and writes it; prints time, entries, bytes and the check's speed.</summary>
    public static int Build(int count, string output)
    {
        var clock = Stopwatch.StartNew();
        var index = RegurgitationIndex.Build("mv-1", ["ds-1"], Records(count));
        var build = clock.Elapsed;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        using (var file = File.Create(output)) index.Save(file);
        var bytes = new FileInfo(output).Length;
        clock.Restart();
        using (var file = File.OpenRead(output)) index = RegurgitationIndex.Load(file, "mv-1");
        var load = clock.Elapsed;
        // 4,096 different answers (one answer checked again and again would find its n-grams' entries in the caches,
        // which a gateway's answers do not): wall-clock and processor time per answer, the latter less disturbed by
        // other processes on a shared machine.
        var answers = Enumerable.Range(0, 4096).Select(i => string.Join(' ', Records(40, seed: 1000 + i).Select(r => r.Text))[..1000]).ToArray();
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        clock.Restart();
        var misses = 0;
        for (var i = 0; i < 40_000; i++) misses += index.Find(answers[i & 4095]) is null ? 1 : 0;
        var perAnswer = clock.Elapsed.TotalMicroseconds / 40_000;
        process.Refresh();
        var cpuPerAnswer = (process.TotalProcessorTime - cpu).TotalMicroseconds / 40_000;
        var loadAverage = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{count:N0} records: {index.Count:N0} n-gram entries, built in {build.TotalSeconds:0.0} s, {bytes / 1048576.0:0.0} MiB on disk ({bytes / (double)count:0} bytes/record), loaded in {load.TotalSeconds:0.00} s; per 1,000-character answer (4,096 different answers, {misses:N0} of 40,000 without a hit): {perAnswer:0.0} µs wall-clock, {cpuPerAnswer:0.0} µs of processor time; load average {loadAverage}; peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:0} MiB"));
        return 0;
    }
}
