using Npgsql;

namespace Drydock.Tests.Shared;

/// <summary>
/// A throw-away PostgreSQL database on the server DRYDOCK_TEST_POSTGRES names (test.sh, or
/// <c>tests/services/postgres.sh start DIR</c>, starts one and prints that connection string): created empty, dropped
/// with its connections on <see cref="Dispose"/>. Without the variable the test is skipped, unless
/// DRYDOCK_REQUIRE_POSTGRES=1 (as in test.sh), where it fails. Linked only into the test projects that reference Npgsql.
/// </summary>
public sealed class TestDatabase : IDisposable
{
    private readonly string _server;
    private readonly string _name = "drydock_test_" + Guid.NewGuid().ToString("N")[..16];

    public TestDatabase()
    {
        var server = Environment.GetEnvironmentVariable("DRYDOCK_TEST_POSTGRES");
        if (string.IsNullOrEmpty(server))
        {
            if (Environment.GetEnvironmentVariable("DRYDOCK_REQUIRE_POSTGRES") == "1") Assert.Fail("DRYDOCK_TEST_POSTGRES is not set but DRYDOCK_REQUIRE_POSTGRES=1");
            Assert.Skip("DRYDOCK_TEST_POSTGRES is not set (./test.sh starts PostgreSQL and sets it)");
        }

        _server = server;
        Execute($"CREATE DATABASE {_name}");
        ConnectionString = new NpgsqlConnectionStringBuilder(_server) { Database = _name }.ConnectionString;
    }

    /// <summary>The SQLite and PostgreSQL cases of a test that runs on both registry backends.</summary>
    public static TheoryData<string> Backends => new() { "sqlite", "postgres" };

    /// <summary>The Npgsql connection string of the new database (as <c>--registry</c>, DRYDOCK_REGISTRY or drydock.yaml take it).</summary>
    public string ConnectionString { get; }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        Execute($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)");
    }

    private void Execute(string sql)
    {
        using var connection = new NpgsqlConnection(_server);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
