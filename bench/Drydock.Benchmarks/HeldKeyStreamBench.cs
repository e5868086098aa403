using BenchmarkDotNet.Attributes;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway;
using Drydock.Gateway.Guards;

namespace Drydock.Bench;

/// <summary>
/// The stream guard holding a key block whole (<c>StreamGuard</c>): a <c>-----BEGIN RSA PRIVATE KEY-----</c> line, then
/// a body sent one character a chunk (2,000 characters, then 20,000 on a redacting tier), and the end of the stream.
/// Held text was judged whole again with every chunk (quadratic); it is now judged every 256 characters or eighth of itself.
/// </summary>
[MemoryDiagnoser]
public class HeldKeyStreamBench
{
    private readonly TextGuard _guard = new(Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers));

    [Params(2_000, 20_000)]
    public int Chunks { get; set; }

    [Benchmark]
    public int OneCharacterAChunk()
    {
        var stream = new StreamGuard(_guard, GuardMode.Redact, 64);
        var sent = stream.Push("Here:\n").Length + stream.Push("-----BEGIN RSA PRIVATE KEY-----\n").Length;
        for (var i = 0; i < Chunks && !stream.Blocked; i++) sent += stream.Push((i % 65) == 64 ? "\n" : "Q").Length;
        return sent + stream.Flush().Length;
    }
}
