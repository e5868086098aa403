using BenchmarkDotNet.Attributes;
using Drydock.Detection.Analyzers;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway;
using Drydock.Gateway.Guards;

namespace Drydock.Bench;

/// <summary>
/// The combined tail of a stream (<c>CombinedTail</c>): a value split across the fields or choices of a stream is judged
/// around the points where one field's text gives way to another's, with every chunk. Two choices streamed interleaved,
/// 7 characters a chunk, 8,000 characters each (ordinary prose, no finding): every chunk adds a point.
/// </summary>
[MemoryDiagnoser]
public class StreamTailBench
{
    private readonly TextGuard _guard = new(Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers));
    private readonly GuardedAnswer _answer = new(new Tier("bench", [], 4096, true, GuardMode.Block, GuardMode.Redact, 1000, 100000), new CanaryAnalyzer([]));
    private string[] _chunks = [];

    [GlobalSetup]
    public void Setup()
    {
        const string prose = "Both are retirement accounts. Contributions to a traditional IRA may be deductible now and are taxed when withdrawn; Roth contributions are taxed now and qualified withdrawals are tax-free. ";
        var text = string.Concat(Enumerable.Repeat(prose, 8000 / prose.Length + 1))[..8000];
        _chunks = [.. text.Chunk(7).Select(c => new string(c))];
    }

    [Benchmark]
    public int TwoChoicesInterleaved()
    {
        var tail = new CombinedTail(64);
        var found = 0;
        foreach (var chunk in _chunks)
        {
            tail.Add(0, "delta.content", chunk);
            tail.Add(1, "delta.content", chunk);
            found += tail.Across(_guard, _answer).Count;
        }

        return found;
    }
}
