using System.Globalization;
using Drydock.Gateway.Operations;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;

namespace Drydock.Gateway.Tests;

/// <summary>
/// The admin API's chain check (<see cref="AdminChain"/>) and its background whole walk (<see cref="ChainWalker"/>, on a
/// connection of its own) on a real SQLite registry: an entry written since the verified head edited in place is refused
/// by the next decision at once; an entry before that head edited in place is not walked again by the decisions, but is
/// found by the next whole walk, after which every decision is refused until it is put back.
/// </summary>
public sealed class AdminChainTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly ProvenanceRegistry _registry;

    public AdminChainTests() => _registry = ProvenanceRegistry.Open(Path.Combine(_dir.Path, "registry.db"));

    public void Dispose()
    {
        _registry.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private void Decide(int count)
    {
        for (var i = 0; i < count; i++) _registry.RecordAccessDecision("alice", "model list", "viewer", true, "model list as viewer", null);
    }

    private string Edit(long seq)
    {
        var details = (string)_registry.Database.Scalar($"SELECT details FROM audit_log WHERE seq = {seq}", null)!;
        _registry.Database.Execute($"UPDATE audit_log SET details = '{details.Replace("model list", "model lisT", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal)}' WHERE seq = {seq}");
        return details;
    }

    private void PutBack(long seq, string details) =>
        _registry.Database.Execute($"UPDATE audit_log SET details = '{details.Replace("'", "''", StringComparison.Ordinal)}' WHERE seq = {seq}");

    private ChainWalker Walker(AdminChain chain) =>
        new(chain, () => ProvenanceRegistry.Open(Path.Combine(_dir.Path, "registry.db")), TimeSpan.FromHours(1), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, TimeProvider.System);

    [Fact]
    public void AnEntryBeforeTheVerifiedHeadEditedInPlace_IsFoundByTheBackgroundWalk_ThenEveryDecisionIsRefused()
    {
        var chain = new AdminChain(new HeldHead());
        using var walker = Walker(chain);
        Decide(20);
        Assert.Null(chain.Problem(_registry)); // the whole log, at start

        const long seq = 5;
        var details = Edit(seq);
        Decide(1);

        // The decisions walk only the entries since the verified head: the edit is not seen by them.
        Assert.Null(chain.Problem(_registry));

        // The whole walk (outside the decision path) finds it; from then on every decision is refused.
        var found = walker.Walk();
        Assert.NotNull(found);
        Assert.StartsWith($"audit entry {seq.ToString(CultureInfo.InvariantCulture)}:", found, StringComparison.Ordinal);
        var problem = chain.Problem(_registry);
        Assert.NotNull(problem);
        Assert.StartsWith($"audit entry {seq.ToString(CultureInfo.InvariantCulture)}:", problem, StringComparison.Ordinal);
        Assert.NotNull(chain.Problem(_registry));

        // Put back as drydock wrote it: the next decision walks the whole log again and passes.
        PutBack(seq, details);
        Assert.Null(chain.Problem(_registry));
        Assert.Null(walker.Walk());
        Assert.Null(chain.Problem(_registry));
    }

    [Fact]
    public void AnEntryWrittenSinceTheVerifiedHeadEditedInPlace_IsRefusedByTheNextDecision()
    {
        var chain = new AdminChain(new HeldHead());
        Decide(5);
        Assert.Null(chain.Problem(_registry));
        Decide(3);
        var seq = Convert.ToInt64(_registry.Database.Scalar("SELECT MAX(seq) FROM audit_log", null), CultureInfo.InvariantCulture) - 1;
        var details = Edit(seq);
        var problem = chain.Problem(_registry);
        Assert.NotNull(problem);
        Assert.Contains($"audit entry {seq.ToString(CultureInfo.InvariantCulture)} ", problem, StringComparison.Ordinal);
        PutBack(seq, details);
        Assert.Null(chain.Problem(_registry));
    }
}
