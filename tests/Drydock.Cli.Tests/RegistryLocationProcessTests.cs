using Drydock.Tests.Shared;
using Npgsql;

namespace Drydock.Cli.Tests;

/// <summary>
/// drydock.yaml's <c>registry:</c> through the built CLI in its own process: a PostgreSQL registry, written as an Npgsql
/// connection string (<c>Host=…</c>) or as a <c>postgres://</c> URL, is that database (PostgreSQL where
/// DRYDOCK_TEST_POSTGRES names a server), never a SQLite file named after the text; a value that is neither a file
/// path nor a PostgreSQL location is refused (exit 2) and creates nothing.
/// </summary>
public sealed class RegistryLocationProcessTests : IDisposable
{
    private readonly ActorProject _project = new();
    private TestDatabase? _postgres;

    public void Dispose()
    {
        _postgres?.Dispose();
        _project.Dispose();
    }

    private async Task Registry(string location) =>
        await File.WriteAllTextAsync(Path.Combine(_project.Dir.Path, "drydock.yaml"), $"registry: \"{location}\"\n", TestContext.Current.CancellationToken);

    private string[] Project() => Directory.GetFileSystemEntries(_project.Dir.Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();

    [Theory]
    [InlineData("connection string")]
    [InlineData("url")]
    public async Task APostgresRegistryInDrydockYaml_IsThatDatabase(string form)
    {
        _postgres = new TestDatabase();
        var server = new NpgsqlConnectionStringBuilder(_postgres.ConnectionString);
        await Registry(form == "url" ? $"postgres://{server.Username}@{server.Host}:{server.Port}/{server.Database}" : _postgres.ConnectionString);

        ActorProject.Ok(await _project.As(null, "keys", "create", "--name", "app", "--tier", "internal"));

        await using var db = new NpgsqlConnection(_postgres.ConnectionString);
        await db.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand("SELECT COUNT(*) FROM api_key_events WHERE name = 'app' AND action = 'create'", db);
        Assert.Equal(1L, await command.ExecuteScalarAsync(TestContext.Current.CancellationToken));
        Assert.DoesNotContain(Project(), p => Path.GetFileName(p).Contains("Host=", StringComparison.OrdinalIgnoreCase) || Path.GetFileName(p).Contains("postgres", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Database=drydock;Host=127.0.0.1", "Database=", "does not begin with Host=")]
    [InlineData("Username = drydock; Host=127.0.0.1", "Username", "does not begin with Host=")]
    [InlineData("file:/srv/registry.db", "file:", "is a URL of scheme 'file:'")]
    [InlineData("mysql://drydock:hunter2-pw@db.example/registry", "mysql:", "is a URL of scheme 'mysql:'")]
    public async Task ADrydockYamlRegistryThatIsNoLocation_IsRefused_NoRegistryIsCreated(string location, string start, string expected)
    {
        await Registry(location);

        var result = await _project.As(null, "model", "list");
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(Project(), p => Path.GetFileName(p).StartsWith(start, StringComparison.Ordinal));
        Assert.False(File.Exists("/srv/registry.db"));
    }
}
