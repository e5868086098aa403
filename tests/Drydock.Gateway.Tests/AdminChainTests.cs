using System.Globalization;
using Drydock.Gateway.Operations;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;

namespace Drydock.Gateway.Tests;

/// <summary>
/// The admin API's chain check (<see cref="AdminChain"/>) on a real SQLite registry with the clock under the test's
/// control: an entry before the verified head edited in place (later hashes not recomputed) is not walked again by the
/// check that follows, but is found once the last whole walk is <see cref="AdminChain.WholeWalkEvery"/> old.
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

    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private void Decide(int count)
    {
        for (var i = 0; i < count; i++) _registry.RecordAccessDecision("alice", "model list", "viewer", true, "model list as viewer", null);
    }

    [Fact]
    public void AnEntryBeforeTheVerifiedHeadEditedInPlace_IsFoundByTheWholeWalkAfterTheInterval()
    {
        var clock = new Clock();
        var chain = new AdminChain(clock);
        Decide(20);
        Assert.Null(chain.Problem(_registry)); // the whole log, at start

        var seq = 5L;
        var details = (string)_registry.Database.Scalar($"SELECT details FROM audit_log WHERE seq = {seq}", null)!;
        _registry.Database.Execute($"UPDATE audit_log SET details = '{details.Replace("model list", "model lisT", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal)}' WHERE seq = {seq}");
        Decide(1);

        // Within the interval only the entries since the verified head are walked: the edit is not seen yet.
        clock.Now += AdminChain.WholeWalkEvery - TimeSpan.FromSeconds(1);
        Assert.Null(chain.Problem(_registry));

        // Once the last whole walk is the interval old, the next decision walks the whole log again and is refused.
        clock.Now += TimeSpan.FromSeconds(1);
        var problem = chain.Problem(_registry);
        Assert.NotNull(problem);
        Assert.StartsWith($"audit entry {seq.ToString(CultureInfo.InvariantCulture)}:", problem, StringComparison.Ordinal);
        Assert.NotNull(chain.Problem(_registry)); // and every decision after it, until the entry is put back

        _registry.Database.Execute($"UPDATE audit_log SET details = '{details.Replace("'", "''", StringComparison.Ordinal)}' WHERE seq = {seq}");
        Assert.Null(chain.Problem(_registry));
    }
}
