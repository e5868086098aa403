using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// A protected project's key store reached from another folder through a link in that folder's own <c>.drydock/</c>
/// (<c>.drydock/keys -> P/.drydock/keys</c>), through the built CLI in separate processes: every <c>keys</c> verb run
/// there is decided by the protected project's access control (links resolved), and a key store whose changes this
/// folder's registry never recorded is neither read nor changed from it.
/// </summary>
public sealed class AccessControlLinkTests : IDisposable
{
    private readonly ActorProject _project = new();
    private readonly TempDir _other = new();
    private readonly TempDir _outside = new();

    public void Dispose()
    {
        _project.Dispose();
        _other.Dispose();
        _outside.Dispose();
    }

    private Task<ProcessResult> In(string folder, string? actor, params string[] args) => _project.In(folder, actor, args);

    private static void Ok(ProcessResult result) => ActorProject.Ok(result);

    private static void Refused(ProcessResult result, params string[] expected)
    {
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains("refused", result.Stderr, StringComparison.Ordinal);
        foreach (var text in expected) Assert.Contains(text, result.Stderr, StringComparison.Ordinal);
    }

    private string KeyFile => Path.Combine(_project.Dir.Path, ".drydock", "keys", "api-keys.json");

    // The protected project P (access required, admin root) with one administrator key, and its key id.
    private async Task<string> Protected()
    {
        Ok(await In(_project.Dir.Path, null, "init"));
        Ok(await In(_project.Dir.Path, null, "actor", "bootstrap", "root", "--expires", "30d", "--reason", "first admin"));
        await File.AppendAllTextAsync(Path.Combine(_project.Dir.Path, "drydock.yaml"), "\naccess: required\n", TestContext.Current.CancellationToken);
        var created = await In(_project.Dir.Path, "root", "keys", "create", "--name", "ops", "--admin");
        Ok(created);
        return created.Stdout.Trim().Split('_')[1];
    }

    private long Refusals(string like)
    {
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_project.Dir.Path, ".drydock", "registry.db")};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var query = db.CreateCommand();
        query.CommandText = "SELECT count(*) FROM access_decisions WHERE decision = 'refused' AND reason LIKE @r";
        query.Parameters.AddWithValue("@r", like);
        return (long)query.ExecuteScalar()!;
    }

    [Fact]
    public async Task TheKeysFolderLinkedFromAFolderThatIsNoProtectedProject_IsDecidedByTheProjectItBelongsTo()
    {
        var keyId = await Protected();
        var before = await File.ReadAllBytesAsync(KeyFile, TestContext.Current.CancellationToken);

        // A bare folder whose .drydock/keys is a link to P's keys folder: no drydock.yaml, no registry of its own.
        Directory.CreateDirectory(Path.Combine(_outside.Path, ".drydock"));
        Directory.CreateSymbolicLink(Path.Combine(_outside.Path, ".drydock", "keys"), Path.Combine(_project.Dir.Path, ".drydock", "keys"));
        Refused(await In(_outside.Path, null, "keys", "create", "--name", "mine", "--admin"), "no actor was given");
        Refused(await In(_outside.Path, null, "keys", "revoke", "ddk_" + keyId), "no actor was given");
        Refused(await In(_outside.Path, null, "keys", "rotate", keyId), "no actor was given");
        Refused(await In(_outside.Path, null, "keys", "list"), "no actor was given");
        Refused(await In(_outside.Path, null, "incident", "contain", "--key", keyId), "no actor was given");

        // Another project, protected by its own admin 'me', with the same link: 'me' is nobody in P.
        Ok(await In(_other.Path, null, "init"));
        Ok(await In(_other.Path, null, "actor", "bootstrap", "me", "--expires", "30d", "--reason", "mine"));
        await File.AppendAllTextAsync(Path.Combine(_other.Path, "drydock.yaml"), "\naccess: required\n", TestContext.Current.CancellationToken);
        Directory.Delete(Path.Combine(_other.Path, ".drydock", "keys"), recursive: true);
        Directory.CreateSymbolicLink(Path.Combine(_other.Path, ".drydock", "keys"), Path.Combine(_project.Dir.Path, ".drydock", "keys"));
        Refused(await In(_other.Path, "me", "keys", "create", "--name", "mine", "--admin"), "actor 'me'");
        Refused(await In(_other.Path, "me", "keys", "revoke", keyId), "actor 'me'");

        // The whole state folder as a link: P's registry (with its actors) decides, and this folder's missing
        // 'access: required' does not switch it off.
        var third = Path.Combine(_outside.Path, "third");
        Directory.CreateDirectory(third);
        Directory.CreateSymbolicLink(Path.Combine(third, ".drydock"), Path.Combine(_project.Dir.Path, ".drydock"));
        Refused(await In(third, null, "keys", "create", "--name", "mine", "--admin"), "the registry has actors");
        Refused(await In(third, "root", "keys", "revoke", keyId), "the registry has actors");

        // P's own admin passes P's access control from the linked folder, but the store is not the bare folder's:
        // its registry never recorded it, so it is neither read nor changed from there.
        Refused(await In(_outside.Path, "root", "keys", "create", "--name", "mine", "--admin"), "another project's key store");
        Refused(await In(_outside.Path, "root", "keys", "list"), "another project's key store");

        Assert.Equal(before, await File.ReadAllBytesAsync(KeyFile, TestContext.Current.CancellationToken));
        Assert.Equal(5L, Refusals("%no actor was given%"));
        Assert.Equal(2L, Refusals("%actor 'me'%"));
        Assert.Equal(2L, Refusals("%the registry has actors%"));
        var list = await In(_project.Dir.Path, "root", "keys", "list");
        Ok(list);
        Assert.Contains("active", list.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("mine", list.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACopyOfAProjectsKeyStore_IsNotReadOrChangedFromAnotherProject()
    {
        var keyId = await Protected();
        Ok(await In(_other.Path, null, "init"));
        var copy = Path.Combine(_other.Path, ".drydock", "keys");
        if (Directory.Exists(copy)) Directory.Delete(copy, recursive: true);
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(Path.Combine(_project.Dir.Path, ".drydock", "keys"), "api-keys.*")) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        Refused(await In(_other.Path, null, "keys", "revoke", keyId), "another project's key store");
        Refused(await In(_other.Path, null, "keys", "list"), "another project's key store");
    }
}
