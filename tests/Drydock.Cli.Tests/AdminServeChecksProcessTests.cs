using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Drydock.Gateway.Tests;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace Drydock.Cli.Tests;

/// <summary>
/// <c>POST /admin/contain</c> with a revert and <c>POST /admin/enable</c> at a running <c>drydock serve</c> (its own
/// process) check what the CLI's <c>incident contain --revert</c> and <c>deploy --enable</c> check: separation of duties
/// on the version that ends up served (403: an administrator key is the key itself, never the actor its name names, so
/// while access control is on it cannot be checked and is refused) and the regurgitation tripwire index of that
/// version (409, noted on the incident). A refusal leaves the alias as it was and is an audit entry.
/// </summary>
public sealed class AdminServeChecksProcessTests : IAsyncLifetime
{
    private readonly ActorProject _project = new();
    private FakeUpstream _upstream = null!;
    private RunningDrydock? _gateway;
    private string _url = null!;
    private string _first = null!;
    private string _second = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        (_first, _second) = await RevertChecksProcessTests.DeployTwoVersions(_project.Dir.Path, (actor, args) => As(actor, args));
    }

    public async ValueTask DisposeAsync()
    {
        _gateway?.Dispose();
        await _upstream.DisposeAsync();
        _project.Dispose();
    }

    private string Registry => _project.Registry;

    private Dictionary<string, string?> Env(string? actor) => _project.Env(actor);

    private Task<ProcessResult> As(string? actor, params string[] args) => _project.As(actor, args);

    private static void Ok(ProcessResult result) => ActorProject.Ok(result);

    private async Task<string> AdminKey(string name, string? actor)
    {
        var created = await As(actor, "keys", "create", "--name", name, "--admin");
        Ok(created);
        return created.Stdout.Trim();
    }

    private async Task Serve(string? actor)
    {
        _url = $"http://127.0.0.1:{DrydockProcess.FreePort()}";
        _gateway = DrydockProcess.Start(_project.Dir.Path, ["serve", "--upstream", _upstream.BaseUrl, "--listen", _url], Env(actor));
        await _gateway.WaitUntilListening(new Uri(_url + "/healthz"));
    }

    private async Task<(HttpStatusCode Status, string Body)> Post(string key, string path, string json)
    {
        using var http = new HttpClient { BaseAddress = new Uri(_url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var response = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static void Refused((HttpStatusCode Status, string Body) reply, HttpStatusCode status, params string[] expected)
    {
        Assert.True(reply.Status == status, $"{(int)reply.Status} {reply.Body}");
        foreach (var text in expected) Assert.Contains(text, reply.Body, StringComparison.Ordinal);
    }

    private static void Ok((HttpStatusCode Status, string Body) reply) => Assert.True(reply.Status == HttpStatusCode.OK, $"{(int)reply.Status} {reply.Body}");

    private (string? Model, bool Enabled, int Notes, List<string> Refusals) Now()
    {
        using var registry = ProvenanceRegistry.Open(Registry);
        var state = registry.Deployment("support")!;
        var notes = registry.Incidents().SelectMany(t => t).Count(e => e.Action == "note");
        using var query = registry.Database.Command("SELECT actor || ' ' || verb || ' ' || reason FROM access_decisions WHERE decision = 'refused' ORDER BY audit_seq", null);
        using var reader = query.ExecuteReader();
        var refusals = new List<string>();
        while (reader.Read()) refusals.Add(reader.GetString(0));
        SqliteConnection.ClearAllPools();
        return (state.ModelId, state.Enabled, notes, refusals);
    }

    private static string KeyActor(string key) => "adminkey:" + key.Split('_')[1];

    [Fact]
    public async Task AnAdministratorKeyNamedAfterAnActor_IsTheKeyItself_AndCannotServeAVersionAgainAsThatActor()
    {
        Ok(await As(null, "actor", "bootstrap", "root", "--expires", "30d", "--reason", "first admin"));
        await File.AppendAllTextAsync(Path.Combine(_project.Dir.Path, "drydock.yaml"), "access: required\n", TestContext.Current.CancellationToken);
        Ok(await As("root", "actor", "create", "alice", "--role", "incident-responder", "--expires", "30d", "--reason", "on call"));
        Ok(await As("root", "actor", "create", "bob", "--role", "incident-responder", "--expires", "30d", "--reason", "on call"));
        // Whoever may create administrator keys names them as they like: after alice, after bob, after nobody.
        var alice = await AdminKey("alice", "root");
        var bob = await AdminKey("bob", "root");
        var ops = await AdminKey("ops", "root");
        await Serve("root");

        // Reverting to the version alice registered is releasing it. A key named bob is not bob: no key is a person the
        // registry knows, so separation of duties cannot be checked for any of them and the revert is refused.
        foreach (var key in new[] { bob, alice, ops })
        {
            Refused(await Post(key, "/admin/contain", """{"model":"support","revert":true}"""), HttpStatusCode.Forbidden, "separation_of_duties", $"cannot be checked for {KeyActor(key)}");
        }

        Assert.Equal((_second, true), (Now().Model, Now().Enabled));

        // The kill switch is never held back; it is recorded as the key that threw it, never as the person it is named after.
        Ok(await Post(bob, "/admin/contain", """{"model":"support"}"""));
        Refused(await Post(bob, "/admin/enable", """{"model":"support"}"""), HttpStatusCode.Forbidden, "separation_of_duties", $"cannot be checked for {KeyActor(bob)}");
        Assert.False(Now().Enabled);

        var (model, _, _, refusals) = Now();
        Assert.Equal(_second, model);
        Assert.Equal(4, refusals.Count(r => r.StartsWith("adminkey:", StringComparison.Ordinal) && r.Contains("separation of duties cannot be checked", StringComparison.Ordinal)));
        Assert.DoesNotContain(refusals, r => r.StartsWith("admin:", StringComparison.Ordinal) || r.StartsWith("bob ", StringComparison.Ordinal) || r.StartsWith("alice ", StringComparison.Ordinal));
        Assert.DoesNotContain(refusals, r => r.Contains(alice, StringComparison.Ordinal) || r.Contains(bob, StringComparison.Ordinal) || r.Contains(ops, StringComparison.Ordinal));
        using (var registry = ProvenanceRegistry.Open(Registry))
        {
            var contained = registry.Incidents().SelectMany(t => t).Where(e => e.Action == "contained").ToList();
            Assert.NotEmpty(contained);
            Assert.All(contained, e => Assert.Equal(KeyActor(bob), e.Actor));
        }

        SqliteConnection.ClearAllPools();

        // The CLI, with bob's own actor key, is where bob serves alice's version again.
        Ok(await As("bob", "deploy", "support", "--enable"));
        Assert.True(Now().Enabled);
    }

    [Fact]
    public async Task RevertAndEnable_AtTheAdminApi_NeedTheTripwireIndexOfTheVersionServed()
    {
        var ops = await AdminKey("ops", null);
        await Serve(null);
        var index = Path.Combine(_project.Dir.Path, ".drydock", "tripwire", _first + ".idx");
        File.Delete(index);
        Refused(await Post(ops, "/admin/contain", """{"model":"support","revert":true}"""), HttpStatusCode.Conflict, "tripwire_index", "revert refused", $"recorded for {_first}", "is missing");
        var (model, enabled, notes, refusals) = Now();
        Assert.Equal((_second, true, 1), (model, enabled, notes));
        Assert.Single(refusals, r => r.StartsWith(KeyActor(ops) + " admin contain --revert", StringComparison.Ordinal) && r.Contains("is missing", StringComparison.Ordinal));

        // The kill switch needs no index; serving the version again does.
        Ok(await Post(ops, "/admin/contain", """{"model":"support"}"""));
        var served = Path.Combine(_project.Dir.Path, ".drydock", "tripwire", _second + ".idx");
        var bytes = await File.ReadAllBytesAsync(served, TestContext.Current.CancellationToken);
        bytes[^1] ^= 1;
        await File.WriteAllBytesAsync(served, bytes, TestContext.Current.CancellationToken);
        Refused(await Post(ops, "/admin/enable", """{"model":"support"}"""), HttpStatusCode.Conflict, "tripwire_index", "does not match the SHA-256");
        Assert.False(Now().Enabled);
        bytes[^1] ^= 1;
        await File.WriteAllBytesAsync(served, bytes, TestContext.Current.CancellationToken);
        Ok(await Post(ops, "/admin/enable", """{"model":"support"}"""));
        Assert.Equal((_second, true), (Now().Model, Now().Enabled));
    }
}
