using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;
using Npgsql;

namespace Drydock.Provenance.Tests;

/// <summary>
/// A fresh, empty registry on each backend. PostgreSQL comes from DRYDOCK_TEST_POSTGRES (test.sh starts a real
/// server and sets it); each registry gets its own database, dropped afterwards. Without the variable the PostgreSQL
/// cases are skipped, unless DRYDOCK_REQUIRE_POSTGRES=1 (as in test.sh), where they fail.
/// </summary>
public sealed class TestRegistry : IDisposable
{
    private readonly TempDir? _dir;
    private readonly string? _database;
    private readonly string? _admin;

    public TestRegistry(string backend)
    {
        if (backend == "sqlite")
        {
            _dir = new TempDir();
            Location = Path.Combine(_dir.Path, "registry.db");
        }
        else
        {
            _admin = Environment.GetEnvironmentVariable("DRYDOCK_TEST_POSTGRES");
            if (string.IsNullOrEmpty(_admin))
            {
                if (Environment.GetEnvironmentVariable("DRYDOCK_REQUIRE_POSTGRES") == "1") Assert.Fail("DRYDOCK_TEST_POSTGRES is not set but DRYDOCK_REQUIRE_POSTGRES=1");
                Assert.Skip("DRYDOCK_TEST_POSTGRES is not set (./test.sh starts PostgreSQL and sets it)");
            }

            _database = "drydock_test_" + Guid.NewGuid().ToString("N")[..16];
            using (var connection = new NpgsqlConnection(_admin))
            {
                connection.Open();
                using var command = new NpgsqlCommand($"CREATE DATABASE {_database}", connection);
                command.ExecuteNonQuery();
            }

            Location = new NpgsqlConnectionStringBuilder(_admin) { Database = _database }.ConnectionString;
        }

        Registry = ProvenanceRegistry.Open(Location);
    }

    public static TheoryData<string> Both => new() { "sqlite", "postgres" };

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
        if (_database is not null)
        {
            NpgsqlConnection.ClearAllPools();
            using var connection = new NpgsqlConnection(_admin);
            connection.Open();
            using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)", connection);
            command.ExecuteNonQuery();
        }

        _dir?.Dispose();
    }
}
