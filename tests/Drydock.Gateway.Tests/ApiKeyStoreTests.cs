using System.Text.Json.Nodes;
using Drydock.Gateway.Keys;
using Drydock.Provenance.Audit;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;

namespace Drydock.Gateway.Tests;

/// <summary>
/// The key store on its own: it re-reads a file another store (another process) changed, serialises changes between
/// stores, records each change in the journal before writing it, and refuses a file edited or put back.
/// </summary>
public sealed class ApiKeyStoreTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private string Folder => Path.Combine(_dir.Path, "keys");

    private string FilePath => Path.Combine(Folder, "api-keys.json");

    [Fact]
    public void ChangesByAnotherStore_AreSeen_OnceTheCheckIntervalHasPassed()
    {
        var time = new ManualTime();
        var gateway = ApiKeyStore.Open(Folder, new ApiKeyStoreOptions { Time = time });
        var cli = ApiKeyStore.Open(Folder); // what another process holds
        var (key, record) = cli.Create("app", "internal", [], null);
        time.Advance(ApiKeyStore.CheckInterval);
        Assert.Equal(record.Id, gateway.Authenticate(key)?.Id);

        Assert.True(cli.Revoke(record.Id));
        time.Advance(ApiKeyStore.CheckInterval);
        Assert.Null(gateway.Authenticate(key));

        var (other, _) = cli.Create("other", "internal", [], TimeSpan.FromDays(1));
        var rotated = cli.Rotate(other.Split('_')[1])!.Value;
        time.Advance(ApiKeyStore.CheckInterval);
        Assert.Null(gateway.Authenticate(other));
        Assert.NotNull(gateway.Authenticate(rotated.Key));
        Assert.NotNull(rotated.Record.Expires);
        time.Advance(TimeSpan.FromDays(2));
        Assert.Null(gateway.Authenticate(rotated.Key)); // the replacement keeps the lifetime, on the store's clock
        Assert.Null(gateway.Problem);
    }

    [Fact]
    public async Task ConcurrentChanges_FromTwoStores_LoseNothing()
    {
        var a = ApiKeyStore.Open(Folder);
        var b = ApiKeyStore.Open(Folder);
        var created = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => (i % 2 == 0 ? a : b).Create($"k{i}", "internal", [], null), TestContext.Current.CancellationToken)));
        Assert.Equal(40, ApiKeyStore.Open(Folder).List().Count);
        Assert.All(created, c => Assert.NotNull(ApiKeyStore.Open(Folder).Authenticate(c.Key)));
    }

    public static TheoryData<string> Edits => new("un-revoke", "tier", "expiry", "models", "hash", "add", "remove-mac");

    [Theory]
    [MemberData(nameof(Edits))]
    public void AnEditedFile_IsRefused_AtOpen_AndByARunningStore_WhichThenAcceptsNoKey(string edit)
    {
        var time = new ManualTime();
        var running = ApiKeyStore.Open(Folder, new ApiKeyStoreOptions { Time = time });
        var (key, record) = running.Create("app", "public", ["tiny"], TimeSpan.FromDays(1));
        var (gone, goneRecord) = running.Create("gone", "public", [], null);
        running.Revoke(goneRecord.Id);

        var file = JsonNode.Parse(File.ReadAllText(FilePath))!.AsObject();
        var keys = file["keys"]!.AsArray();
        var app = keys.Single(k => (string?)k!["id"] == record.Id)!;
        switch (edit)
        {
            case "un-revoke": keys.Single(k => (string?)k!["id"] == goneRecord.Id)!["revoked"] = null; break;
            case "tier": app["tier"] = "internal"; break;
            case "expiry": app["expires"] = null; break;
            case "models": app["models"] = new JsonArray(); break;
            case "hash": app["hash"] = new string('a', 64); break;
            case "add": keys.Add(app.DeepClone()); keys[^1]!["id"] = "0badc0de"; break;
            default: file.Remove("mac"); break;
        }

        File.WriteAllText(FilePath, file.ToJsonString());
        var refused = Assert.Throws<ApiKeyStoreException>(() => ApiKeyStore.Open(Folder));
        Assert.Contains(FilePath, refused.Message, StringComparison.Ordinal);

        time.Advance(ApiKeyStore.CheckInterval);
        Assert.Null(running.Authenticate(key));
        Assert.Null(running.Authenticate(gone));
        Assert.NotNull(running.Problem);
        Assert.Throws<ApiKeyStoreException>(() => running.Revoke(record.Id));
        Assert.DoesNotContain(key.Split('_')[2], running.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void AFilePutBack_IsRefusedByARunningStore_AndByTheAuditLog_ThoughItsCodeIsRight()
    {
        var registryPath = Path.Combine(_dir.Path, "registry.db");
        var journal = new RegistryApiKeyJournal(() => ProvenanceRegistry.Open(registryPath), "alice");
        var time = new ManualTime();
        var running = ApiKeyStore.Open(Folder, new ApiKeyStoreOptions { Time = time, Journal = journal });
        var (key, record) = running.Create("app", "internal", [], null);
        var (bystander, _) = running.Create("bystander", "internal", [], null);
        var before = File.ReadAllBytes(FilePath);
        Assert.True(ApiKeyStore.Open(Folder, new ApiKeyStoreOptions { Journal = journal }).Revoke(record.Id, "left"));
        using (var registry = ProvenanceRegistry.Open(registryPath))
        {
            Assert.Empty(running.Compare(registry.ApiKeyEvents()));
            Assert.True(AuditLog.Verify(registry.Database).Ok);
            Assert.Equal(["create", "create", "revoke"], registry.ApiKeyEvents().Select(e => e.Action));
            Assert.Equal("left", registry.ApiKeyEvents()[^1].Reason);
            Assert.DoesNotContain(key.Split('_')[2], string.Join("\n", AuditLog.Query(registry.Database, new AuditFilter()).Select(e => e.Details)), StringComparison.Ordinal);
        }

        File.WriteAllBytes(FilePath, before);
        time.Advance(ApiKeyStore.CheckInterval);
        Assert.Null(running.Authenticate(key));
        Assert.Null(running.Authenticate(bystander));
        Assert.Contains("is not any more", running.Problem, StringComparison.Ordinal);

        using (var registry = ProvenanceRegistry.Open(registryPath))
        {
            var fresh = ApiKeyStore.Open(Folder); // a new process accepts the file's code, not its history
            var problems = fresh.Compare(registry.ApiKeyEvents());
            Assert.Contains(problems, p => p.Contains($"key {record.Id} (app): revoked is (none)", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void AChangeTheJournalCannotRecord_IsNotMade()
    {
        var journal = new Journal();
        var store = ApiKeyStore.Open(Folder, new ApiKeyStoreOptions { Journal = journal });
        var (key, record) = store.Create("app", "internal", [], null);
        journal.Fail = true;
        Assert.Throws<InvalidOperationException>(() => store.Revoke(record.Id));
        Assert.Throws<InvalidOperationException>(() => store.Create("more", "internal", [], null));
        Assert.NotNull(ApiKeyStore.Open(Folder).Authenticate(key));
        Assert.Single(ApiKeyStore.Open(Folder).List());
        Assert.Equal(["create"], journal.Changes.Select(c => c.Action));
    }

    [Fact]
    public void AFileWithoutACode_IsRefused_UntilSealed_AndSealingRecordsEveryKey()
    {
        var store = ApiKeyStore.Open(Folder);
        var (key, record) = store.Create("app", "internal", [], null);
        store.Revoke(store.Create("gone", "internal", [], null).Record.Id);
        File.WriteAllText(FilePath, JsonNode.Parse(File.ReadAllText(FilePath))!["keys"]!.ToJsonString()); // as an older drydock wrote it
        Assert.Contains("without an integrity code", Assert.Throws<ApiKeyStoreException>(() => ApiKeyStore.Open(Folder)).Message, StringComparison.Ordinal);

        var journal = new Journal();
        var sealedKeys = ApiKeyStore.Seal(Folder, new ApiKeyStoreOptions { Journal = journal });
        Assert.Equal(2, sealedKeys.Count);
        Assert.Equal(2, journal.Changes.Count(c => c.Action == "create" && c.Reason!.StartsWith("sealed", StringComparison.Ordinal)));
        Assert.Equal(record.Id, ApiKeyStore.Open(Folder).Authenticate(key)?.Id);
        Assert.Throws<ApiKeyStoreException>(() => ApiKeyStore.Seal(Folder, new ApiKeyStoreOptions()));

        // Once the audit log holds the store's changes, a code-less file is an edit (here: the revocation dropped).
        var legacy = JsonNode.Parse(File.ReadAllText(FilePath))!["keys"]!.AsArray();
        foreach (var k in legacy) k!["revoked"] = null;
        File.WriteAllText(FilePath, legacy.ToJsonString());
        Assert.Contains("already records", Assert.Throws<ApiKeyStoreException>(() => ApiKeyStore.Seal(Folder, new ApiKeyStoreOptions { Journal = journal })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AKeyFileWithADuplicateField_IsRefused_NotHalfRead()
    {
        ApiKeyStore.Open(Folder).Create("app", "internal", [], null);
        var text = File.ReadAllText(FilePath);
        File.WriteAllText(FilePath, "{\"format\":\"drydock-api-keys/1\"," + text.TrimStart()[1..]);
        Assert.Contains("not a readable key file", Assert.Throws<ApiKeyStoreException>(() => ApiKeyStore.Open(Folder)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyFiles_AreOwnerOnly_AndAPepperOthersCanRead_IsRefused()
    {
        ApiKeyStore.Open(Folder).Create("app", "internal", [], null);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Folder));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(FilePath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Folder, "api-keys.pepper")));
        File.SetUnixFileMode(FilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherWrite);
        Assert.Throws<Provenance.KeyRingException>(() => ApiKeyStore.Open(Folder));
    }

    private sealed class Journal : IApiKeyJournal
    {
        public bool Fail { get; set; }

        public List<ApiKeyChange> Changes { get; } = [];

        public void Record(ApiKeyChange change)
        {
            if (Fail) throw new InvalidOperationException("the registry is unreachable");
            Changes.Add(change);
        }

        public bool HasEntries(string store) => Changes.Any(c => c.Store == store);
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;
        private DateTimeOffset _now = DateTimeOffset.UtcNow;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by)
        {
            _ticks += by.Ticks;
            _now += by;
        }
    }
}
