using BenchmarkDotNet.Attributes;
using Drydock.Detection.Analyzers;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway;
using Drydock.Gateway.Guards;

namespace Drydock.Bench;

/// <summary>
/// The combined tail of a stream of tool calls, one a chunk (<c>CombinedTail</c>): each chunk's call has a new id and
/// index, so the tails of those paths are one run of text without spaces with a point where each chunk's value joins the
/// last. Every point's window was widened to the whole run and judged again with every chunk (super-linear); a chunk now
/// costs at most one window of bounded length.
/// </summary>
[MemoryDiagnoser]
public class ToolCallStreamBench
{
    private readonly TextGuard _guard = new(Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers));
    private readonly GuardedAnswer _answer = new(new Tier("bench", [], 4096, true, GuardMode.Block, GuardMode.Redact, 1000, 100000), new CanaryAnalyzer([]));

    [Params(1_000, 3_000)]
    public int Chunks { get; set; }

    [Benchmark]
    public int OneToolCallAChunk()
    {
        var tail = new CombinedTail(64);
        var found = 0;
        for (var i = 0; i < Chunks; i++)
        {
            tail.AddRepeated("choices[0].delta.tool_calls[0].index", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            tail.AddRepeated("choices[0].delta.tool_calls[0].id", "call" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            tail.Add(0, "delta.tool_calls[0].function.arguments", "{\"a\":\"b\"}");
            found += tail.Across(_guard, _answer).Count;
        }

        return found;
    }
}
