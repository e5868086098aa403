using System.Net;
using Drydock.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace Drydock.Cli.Tests;

/// <summary>
/// A running <c>drydock serve</c> (its own process) never forgets how far the audit log reached: the longest head it
/// verified, and the audit witness, are checked at every 2 s re-read of the registry, so an older registry copy put
/// back with its witness files, or the newest canary deleted with its audit entries, is never served from (503 for
/// model and admin requests, canary still blocked), however many whole walks of the older log hold. A log whose chain
/// check failed gets no entry of the gateway's own, so putting back the copy from before an edit is served again.
/// </summary>
public sealed class HeldHeadProcessTests : IAsyncLifetime
{
    private readonly ServedProject _served = new();

    public static TheoryData<string> Backends => TestDatabase.Backends;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _served.DisposeAsync();

    private ActorProject Project => _served.Project;

    private static void Ok(ProcessResult result) => ActorProject.Ok(result);

    private static void Status((HttpStatusCode Status, string Body) reply, HttpStatusCode status, params string[] expected) => ServedProject.Status(reply, status, expected);

    // A served project with an administrator key and an application key; returns (admin, app).
    private async Task<(string Admin, string App)> Serve(string backend, string gateway = "")
    {
        await _served.WriteYaml(backend, gateway);
        var admin = await Project.As(null, "keys", "create", "--name", "ops", "--admin");
        Ok(admin);
        var app = await Project.As(null, "keys", "create", "--name", "app", "--tier", "internal");
        Ok(app);
        await _served.Serve(null);
        return (admin.Stdout.Trim(), app.Stdout.Trim());
    }

    private async Task<string> Canary(string label)
    {
        var created = await Project.As(null, "canary", "create", "--label", label, "--count", "1");
        Ok(created);
        return created.Stdout.Trim().Split('\n')[^1].Trim();
    }

    private Task<(HttpStatusCode Status, string Body)> Deployments(string admin) =>
        _served.Get("/admin/deployments", admin);

    // Blocked (the canary is known) or refused (the state is not served): never echoed back.
    private async Task NotLeaked(string app, string canary)
    {
        var reply = await _served.Ask(app, $"code {canary} end");
        Assert.DoesNotContain(canary, reply.Body, StringComparison.Ordinal);
    }

    private static void Copy(string from, string to)
    {
        SqliteConnection.ClearAllPools();
        using var source = new SqliteConnection($"Data Source={from};Pooling=False");
        using var target = new SqliteConnection($"Data Source={to};Pooling=False");
        source.Open();
        target.Open();
        source.BackupDatabase(target);
    }

    private static void CopyWitness(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "audit-*.json")) File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
    }

    [Fact]
    public async Task AnOlderCopyPutBackWithItsWitness_IsRefusedForGood_UntilTheNewerLogIsBack()
    {
        var (admin, app) = await Serve("sqlite", "gateway:\n  chain-walk-every: 1\n");
        using var saved = new TempDir();
        var old = Path.Combine(saved.Path, "old.db");
        Copy(Project.Registry, old);
        CopyWitness(Project.State.Path, Path.Combine(saved.Path, "state-old"));

        var canary = await Canary("new");
        Status(await Deployments(admin), HttpStatusCode.OK); // the gateway verifies the newer head
        var newer = _served.Entries();
        await Task.Delay(3000, TestContext.Current.CancellationToken);
        await NotLeaked(app, canary);
        Status(await _served.Ask(app), HttpStatusCode.OK);
        var current = Path.Combine(saved.Path, "new.db");
        Copy(Project.Registry, current);
        CopyWitness(Project.State.Path, Path.Combine(saved.Path, "state-new"));

        // The old registry and its witness files put back together: the 2 s re-read refuses it, and every whole walk
        // of the older log (every second here) holds but does not make the gateway forget the newer head.
        Copy(old, Project.Registry);
        CopyWitness(Path.Combine(saved.Path, "state-old"), Project.State.Path);
        await Task.Delay(3000, TestContext.Current.CancellationToken);
        // The model caller is told that, not what (no entry numbers); the gateway's log names it.
        Status(await _served.Ask(app), HttpStatusCode.ServiceUnavailable, "registry_state_broken", "log names the problem");
        Assert.DoesNotContain("rolled back", (await _served.Ask(app)).Body, StringComparison.Ordinal);
        Assert.Contains("rolled back", _served.Gateway.Output, StringComparison.Ordinal);
        await NotLeaked(app, canary);
        Status(await _served.Get("/readyz"), HttpStatusCode.ServiceUnavailable);
        for (var i = 0; i < 3; i++)
        {
            Status(await Deployments(admin), HttpStatusCode.ServiceUnavailable, "audit_log_broken", "rolled back");
            await Task.Delay(1500, TestContext.Current.CancellationToken);
        }

        Status(await _served.Ask(app), HttpStatusCode.ServiceUnavailable, "registry_state_broken");
        await NotLeaked(app, canary);
        Status(await _served.Get("/readyz"), HttpStatusCode.ServiceUnavailable);

        // The newer log back: served again.
        Copy(current, Project.Registry);
        CopyWitness(Path.Combine(saved.Path, "state-new"), Project.State.Path);
        Status(await Deployments(admin), HttpStatusCode.OK);
        for (var i = 0; i < 100 && (await _served.Ask(app)).Status != HttpStatusCode.OK; i++) await Task.Delay(100, TestContext.Current.CancellationToken);
        Status(await _served.Ask(app), HttpStatusCode.OK);
        await NotLeaked(app, canary);
    }

    [Fact]
    public async Task AnOlderCopyPutBackWithItsWitness_AfterAReReadTookInTheNewerRows_IsRefused()
    {
        // No admin decision and no whole walk (chain-walk-every at its default): only the 2 s re-read that took in the
        // new canary knows the newer head.
        var (_, app) = await Serve("sqlite");
        using var saved = new TempDir();
        var old = Path.Combine(saved.Path, "old.db");
        Copy(Project.Registry, old);
        CopyWitness(Project.State.Path, Path.Combine(saved.Path, "state-old"));
        var canary = await Canary("new");
        await Task.Delay(3000, TestContext.Current.CancellationToken);
        await NotLeaked(app, canary);

        Copy(old, Project.Registry);
        CopyWitness(Path.Combine(saved.Path, "state-old"), Project.State.Path);
        await Task.Delay(3000, TestContext.Current.CancellationToken);
        Status(await _served.Ask(app), HttpStatusCode.ServiceUnavailable, "registry_state_broken");
        await NotLeaked(app, canary);
        Assert.Contains("rolled back", _served.Gateway.Output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task TheNewestCanaryDeletedWithItsEntries_IsRefusedAtTheNextReRead(string backend)
    {
        // chain-walk-every at its default (10 minutes): only the 2 s re-read can find it within this test.
        var (admin, app) = await Serve(backend);
        var canary = await Canary("tail");
        await Task.Delay(3000, TestContext.Current.CancellationToken);
        await NotLeaked(app, canary);
        var witnessed = _served.Entries();

        var from = _served.Count("SELECT MAX(seq) FROM audit_log WHERE action = 'canary.register'");
        _served.Execute($"DELETE FROM canaries WHERE audit_seq >= {from}");
        _served.Execute($"DELETE FROM access_decisions WHERE audit_seq >= {from}");
        _served.Execute($"DELETE FROM audit_log WHERE seq >= {from}");
        await Task.Delay(3000, TestContext.Current.CancellationToken);
        Status(await _served.Ask(app), HttpStatusCode.ServiceUnavailable, "registry_state_broken", "log names the problem");
        Assert.DoesNotContain("witnessed entry", (await _served.Ask(app)).Body, StringComparison.Ordinal);
        // Found by the witness or by the head the last re-read took in, whichever the re-read checks first.
        Assert.Matches($@"(witnessed entry {witnessed}|audit entry \d+) is missing", _served.Gateway.Output);
        await NotLeaked(app, canary);
        Status(await _served.Get("/readyz"), HttpStatusCode.ServiceUnavailable);
        Status(await Deployments(admin), HttpStatusCode.ServiceUnavailable, "audit_log_broken");
        await NotLeaked(app, canary);
    }

    [Fact]
    public async Task AnEditedEntry_GetsNoEntryOfTheGateway_SoThePreEditCopyIsServedAgain()
    {
        var (admin, app) = await Serve("sqlite");
        await Canary("v");
        using var saved = new TempDir();
        var preEdit = Path.Combine(saved.Path, "pre-edit.db");
        Copy(Project.Registry, preEdit);
        var n = _served.Entries();
        Status(await Deployments(admin), HttpStatusCode.OK);

        Assert.Equal(1, _served.Execute($"UPDATE audit_log SET at = '2026-01-01T00:00:00.000Z' WHERE seq = {n}"));
        Status(await Deployments(admin), HttpStatusCode.ServiceUnavailable, "audit_log_broken", $"audit entry {n}");
        Status(await _served.Ask(app), HttpStatusCode.ServiceUnavailable, "registry_state_broken");
        Status(await Deployments(admin), HttpStatusCode.ServiceUnavailable, "audit_log_broken");
        await Task.Delay(1500, TestContext.Current.CancellationToken);
        Assert.Equal(n, _served.Entries()); // nothing appended to the broken log

        Copy(preEdit, Project.Registry);
        Status(await Deployments(admin), HttpStatusCode.OK);
        for (var i = 0; i < 100 && (await _served.Ask(app)).Status != HttpStatusCode.OK; i++) await Task.Delay(100, TestContext.Current.CancellationToken);
        Status(await _served.Ask(app), HttpStatusCode.OK);
        var verify = await Project.As(null, "audit", "verify");
        Ok(verify);
        Assert.DoesNotContain("rolled back", verify.Stdout + verify.Stderr, StringComparison.Ordinal);
    }
}
