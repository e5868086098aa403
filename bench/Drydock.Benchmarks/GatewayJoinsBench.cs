using BenchmarkDotNet.Attributes;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway;
using Drydock.Gateway.Guards;

namespace Drydock.Bench;

/// <summary>
/// The input guard's judgement of a value split across the texts of a request: the texts joined with no separator
/// (<c>JoinedTexts.SecretsAcross</c>: judged whole up to 64 KiB, in wide windows above it), against the whole join
/// scanned by the guard alone. Requests of 4 and 40 chat messages of about 420 characters each, no finding.
/// </summary>
[MemoryDiagnoser]
public class GatewayJoinsBench
{
    private readonly TextGuard _guard = new(Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers));
    private List<string> _texts = [];

    [Params(4, 40)]
    public int Messages { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        string[] lines =
        [
            "Could you explain the difference between a Roth IRA and a traditional IRA? I am trying to decide before the end of the tax year, and my adviser is away until March. ",
            "Both are retirement accounts. Contributions to a traditional IRA may be deductible now and are taxed when withdrawn; Roth contributions are taxed now and qualified withdrawals are tax-free. ",
            "The quarterly report is attached; revenue grew 4% year over year. Step 1: open Settings. Step 2: choose Security. Thanks, that solved it! ",
        ];
        _texts = [.. Enumerable.Range(0, Messages).Select(i => lines[i % 3] + lines[(i + 1) % 3] + "Ticket " + i.ToString(System.Globalization.CultureInfo.InvariantCulture))];
    }

    [Benchmark(Baseline = true)]
    public int WholeJoinScanned() => _guard.Input(string.Concat(_texts), GuardMode.Block).Findings.Count;

    [Benchmark]
    public int BoundaryWindowsJudged() => JoinedTexts.SecretsAcross(_guard, _texts, GuardMode.Block).Count;
}
