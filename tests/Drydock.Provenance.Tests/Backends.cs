using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;

namespace Drydock.Provenance.Tests;

/// <summary>
/// A fresh, empty registry on each backend. PostgreSQL comes from DRYDOCK_TEST_POSTGRES (test.sh starts a real
/// server and sets it); each registry gets its own database, dropped afterwards. Without the variable the PostgreSQL
/// cases are skipped, unless DRYDOCK_REQUIRE_POSTGRES=1 (as in test.sh), where they fail.
/// </summary>
public sealed class TestRegistry : IDisposable
{
    private readonly TempDir? _dir;
    private readonly TestDatabase? _postgres;

    public TestRegistry(string backend)
    {
        if (backend == "sqlite")
        {
            _dir = new TempDir();
            Location = Path.Combine(_dir.Path, "registry.db");
        }
        else
        {
            _postgres = new TestDatabase();
            Location = _postgres.ConnectionString;
        }

        Registry = ProvenanceRegistry.Open(Location);
    }

    public static TheoryData<string> Both => TestDatabase.Backends;

    public string Location { get; }

    public ProvenanceRegistry Registry { get; private set; }

    public RegistryDatabase Db => Registry.Database;

    /// <summary>A second, independent connection to the same registry.</summary>
    public ProvenanceRegistry OpenAnother() => ProvenanceRegistry.Open(Location);

    /// <summary>Runs raw SQL as an attacker with database access would.</summary>
    public void Tamper(string sql) => Db.Execute(sql);

    public void Dispose()
    {
        Registry.Dispose();
        _postgres?.Dispose();
        _dir?.Dispose();
    }
}
