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
        var record = Records(500).Last().Text;
        _verbatim = (string.Join(' ', other)[..(1000 - record.Length - 1)] + " " + record)[..1000];
    }

    /// <summary>An answer of 1,000 characters that repeats no record: every n-gram is looked up (the usual case).</summary>
    [Benchmark]
    public bool CleanAnswer() => _index.Find(_clean) is null;

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
        var answer = string.Join(' ', Records(40, seed: 99).Select(r => r.Text))[..1000];
        clock.Restart();
        var misses = 0;
        for (var i = 0; i < 20_000; i++) misses += index.Find(answer) is null ? 1 : 0;
        var perAnswer = clock.Elapsed.TotalMicroseconds / 20_000;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{count:N0} records: {index.Count:N0} n-gram entries, built in {build.TotalSeconds:0.0} s, {bytes / 1048576.0:0.0} MiB on disk ({bytes / (double)count:0} bytes/record), loaded in {load.TotalSeconds:0.00} s, {perAnswer:0.0} µs per 1,000-character answer ({misses:N0} of 20,000 without a hit); peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:0} MiB"));
        return 0;
    }
}
