using BenchmarkDotNet.Attributes;
using Drydock.Provenance.Audit;
using Drydock.Provenance.Registry;

namespace Drydock.Bench;

/// <summary>
/// What the audit-chain check of an access decision costs (<see cref="AuditChain.Check"/>), on a SQLite registry whose
/// log holds <see cref="Entries"/> entries: with the verified head kept (nothing new since the last check; one entry
/// appended since, with the append's own cost measured beside it), and the first check on a machine, which walks the
/// chain from the grant (entry 1) to the head.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class AccessChainBench
{
    private string _folder = "";
    private string? _stateHome;
    private ProvenanceRegistry _registry = null!;

    [Params(10_000)]
    public int Entries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("drydock-bench-chain").FullName;
        _stateHome = Environment.GetEnvironmentVariable("DRYDOCK_STATE_HOME");
        Environment.SetEnvironmentVariable("DRYDOCK_STATE_HOME", Path.Combine(_folder, "state"));
        _registry = ProvenanceRegistry.Open(Path.Combine(_folder, "project", ".drydock", "registry.db"));
        using (var transaction = _registry.Database.BeginWrite())
        {
            for (var i = 0; i < Entries; i++)
            {
                AuditLog.Append(_registry.Database, transaction, "access_decisions", $"acd-{i:x12}", new Dictionary<string, string?>
                {
                    ["actor"] = "alice", ["verb"] = "model list", ["role"] = "viewer", ["decision"] = "allowed", ["reason"] = "model list as viewer", ["challenge_sha256"] = new string('a', 64), ["at"] = RegistryDatabase.Now(),
                }, "alice", "access.allowed");
            }

            transaction.Commit();
        }

        if (AuditChain.Check(_registry.Database, 1) is { } problem) throw new InvalidOperationException(problem);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _registry.Dispose();
        Environment.SetEnvironmentVariable("DRYDOCK_STATE_HOME", _stateHome);
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>A check with the verified head kept and nothing written since.</summary>
    [Benchmark(Baseline = true)]
    public string? CheckNothingNew() => AuditChain.Check(_registry.Database, 1);

    /// <summary>One access decision recorded, then a check (the head moves by one: one entry walked, the head file rewritten).</summary>
    [Benchmark]
    public string? AppendThenCheck()
    {
        _registry.RecordAccessDecision("alice", "model list", "viewer", true, "model list as viewer", null);
        return AuditChain.Check(_registry.Database, 1);
    }

    /// <summary>One access decision recorded, no check: what <see cref="AppendThenCheck"/> pays for the write alone.</summary>
    [Benchmark]
    public void AppendOnly() => _registry.RecordAccessDecision("alice", "model list", "viewer", true, "model list as viewer", null);

    /// <summary>The first check on a machine (no head kept): the whole chain from the grant (entry 1) walked.</summary>
    [Benchmark]
    public string? WalkFromGrant() => AuditChain.Walk(_registry.Database, 1, null).Problem;
}
