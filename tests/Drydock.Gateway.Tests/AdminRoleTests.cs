using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Identity;
using Drydock.Gateway.Keys;
using Drydock.Gateway.Operations;
using Drydock.Provenance.Audit;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;

namespace Drydock.Gateway.Tests;

/// <summary>
/// The admin API's role table through HTTP, with tokens of the test issuer (its JWKS on loopback): a viewer reads the
/// deployments only, an auditor reads incidents and the request log (each read an audit entry with the actor), a
/// release manager enables but does not contain, an incident responder revokes a key, and every refusal is 403 naming
/// the role that is missing. A refused API key (unknown, or not an administrator key) is an audit entry without the key.
/// </summary>
public sealed class AdminRoleTests : IAsyncLifetime
{
    private static readonly ApprovalPolicy s_policy = new(["security-reviewer"], "confidential");
    private readonly TempDir _dir = new();
    private FakeUpstream _upstream = null!;
    private TestIssuer _issuer = null!;
    private GatewayHost _gateway = null!;
    private ProvenanceRegistry _registry = null!;
    private ApiKeyStore _keys = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _issuer = await TestIssuer.StartAsync();
        var keys = _keys = ApiKeyStore.Open(Path.Combine(_dir.Path, "keys"));
        var location = Path.Combine(_dir.Path, "registry.db");
        _registry = ProvenanceRegistry.Open(location);
        var options = new GatewayOptions
        {
            Upstream = new Uri(_upstream.BaseUrl), Tiers = GatewayOptions.DefaultTiers.ToDictionary(t => t.Name), UpstreamTimeout = TimeSpan.FromSeconds(2), AuditFolder = Path.Combine(_dir.Path, "requests"),
            Identity = new IdentityOptions
            {
                Issuer = _issuer.Issuer, Audience = TestIssuer.Audience, JwksUrl = _issuer.JwksUrl,
                Tiers = [new("support-agents", "internal")],
                Roles = [new("viewers", "viewer"), new("auditors", "auditor"), new("releasers", "release-manager"), new("on-call", "incident-responder")],
            },
        };
        var operations = new GatewayOperations(ProvenanceRegistry.Open(location), options.Aliases, s_policy, TimeSpan.FromMilliseconds(200));
        _gateway = await GatewayHost.StartAsync(options, new GatewayServices(keys, Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers)) { Operations = operations }, "http://127.0.0.1:0");
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _issuer.DisposeAsync();
        await _upstream.DisposeAsync();
        _registry.Dispose();
        _dir.Dispose();
    }

    private HttpClient As(string group, string subject)
    {
        var http = new HttpClient { BaseAddress = new Uri(_gateway.Urls[0]) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _issuer.Token([group], subject: subject));
        return http;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task Forbidden(HttpResponseMessage response, string role)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{(int)response.StatusCode} {body}");
        Assert.Contains("role_not_allowed", body, StringComparison.Ordinal);
        Assert.Contains(role, body, StringComparison.Ordinal);
    }

    private static async Task Ok(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {body}");
    }

    [Fact]
    public async Task EachRole_ReachesTheRoutesOfItsTable_AndA403NamesTheMissingRole()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = _registry.RegisterModel("tiny", new string('1', 64), null, [], [], null, "alice").Model.Id;
        _registry.Approve("model", id, "security-reviewer", "approve", null, "bob", s_policy);
        _registry.Deploy("support", id, null, null, "ops", s_policy);
        using (var agent = As("support-agents", "erin"))
        {
            var chat = await agent.PostAsync("/v1/chat/completions", Json("""{"model":"tiny","messages":[{"role":"user","content":"hi"}]}"""), ct);
            await Ok(chat);
            await Forbidden(await agent.GetAsync("/admin/deployments", ct), "viewer");
        }

        using var viewer = As("viewers", "vera");
        using var auditor = As("auditors", "aldo");
        using var releaser = As("releasers", "rita");
        using var responder = As("on-call", "carol");

        // viewer: status only.
        await Ok(await viewer.GetAsync("/admin/deployments", ct));
        await Forbidden(await viewer.GetAsync("/admin/incidents", ct), "auditor");
        await Forbidden(await viewer.GetAsync("/admin/requests", ct), "auditor");
        await Forbidden(await viewer.PostAsync("/admin/contain", Json("""{"model":"support"}"""), ct), "incident-responder");

        // auditor: incidents and the request log, nothing that changes state.
        await Ok(await auditor.GetAsync("/admin/incidents", ct));
        var requests = await auditor.GetAsync("/admin/requests?limit=10", ct);
        await Ok(requests);
        var lines = JsonNode.Parse(await requests.Content.ReadAsStringAsync(ct))!["requests"]!.AsArray();
        Assert.Contains(lines, l => ((string?)l!["subject"])?.StartsWith(BearerTokens.SubjectPrefix, StringComparison.Ordinal) == true && (int?)l["status"] == 200);
        Assert.DoesNotContain("eyJ", lines.ToJsonString(), StringComparison.Ordinal);
        await Forbidden(await auditor.PostAsync("/admin/contain", Json("""{"model":"support"}"""), ct), "incident-responder");
        await Forbidden(await auditor.PostAsync("/admin/enable", Json("""{"model":"support"}"""), ct), "release-manager");

        // release manager: enables, does not contain or revoke keys.
        await Forbidden(await releaser.PostAsync("/admin/contain", Json("""{"model":"support"}"""), ct), "incident-responder");
        await Ok(await responder.PostAsync("/admin/contain", Json("""{"model":"support","reason":"reports"}"""), ct));
        Assert.False(_registry.Deployment("support")!.Enabled);
        await Ok(await releaser.PostAsync("/admin/enable", Json("""{"model":"support","reason":"fixed"}"""), ct));
        Assert.True(_registry.Deployment("support")!.Enabled);
        await Forbidden(await releaser.PostAsync("/admin/keys/revoke", Json("""{"id":"dk-0000"}"""), ct), "one of the roles incident-responder, admin");

        // incident responder: revokes a key, as 'drydock keys revoke' lets it (one role list, ActorRoles.KeyRevokeRoles).
        var (_, leaked) = _keys.Create("app", "internal", [], null);
        await Ok(await responder.PostAsync("/admin/keys/revoke", Json($$"""{"id":"{{leaked.Id}}","reason":"leaked"}"""), ct));
        Assert.NotNull(_keys.List().Single(k => k.Id == leaked.Id).Revoked);

        // The read of the request log and the refusals by role are audit entries with the actor's subject hash.
        var allowed = AuditLog.Query(_registry.Database, new AuditFilter(Action: "access.allowed"));
        var read = Assert.Single(allowed);
        Assert.StartsWith("oidc:" + BearerTokens.SubjectPrefix, read.Actor, StringComparison.Ordinal);
        Assert.Contains("admin requests", read.Details, StringComparison.Ordinal);
        Assert.Contains("auditor", read.Details, StringComparison.Ordinal);
        // Eight refusals of four subjects within a minute: one entry per subject, the rest counted (RefusedKeyLog).
        var refused = AuditLog.Query(_registry.Database, new AuditFilter(Action: "access.refused"));
        Assert.Equal(4, refused.Count);
        Assert.Equal(4, refused.Select(e => e.Actor).Distinct().Count());
        Assert.DoesNotContain(refused.Concat(allowed), e => e.Actor.Contains("aldo", StringComparison.Ordinal) || e.Details.Contains("vera", StringComparison.Ordinal));
        Assert.True(AuditLog.Verify(_registry.Database).Ok);
    }

    [Fact]
    public async Task AnIncidentResponderToken_RevokesAKeyAtTheAdminApi_AndTheKeyIsRefusedAtOnce()
    {
        // The role table (docs/identity.md, ActorRoles.KeyRevokeRoles) lets the incident responder revoke keys.
        var ct = TestContext.Current.CancellationToken;
        var (secret, leaked) = _keys.Create("app", "internal", [], null);
        using var app = new HttpClient { BaseAddress = new Uri(_gateway.Urls[0]) };
        app.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        var chat = Json("""{"model":"tiny","messages":[{"role":"user","content":"hi"}]}""");
        await Ok(await app.PostAsync("/v1/chat/completions", chat, ct));

        using (var viewer = As("viewers", "vera"))
        {
            await Forbidden(await viewer.PostAsync("/admin/keys/revoke", Json($$"""{"id":"{{leaked.Id}}"}"""), ct), "one of the roles incident-responder, admin");
        }

        using var responder = As("on-call", "carol");
        var revoked = await responder.PostAsync("/admin/keys/revoke", Json($$"""{"id":"{{leaked.Id}}","reason":"leaked on a forum"}"""), ct);
        await Ok(revoked);
        var answer = JsonNode.Parse(await revoked.Content.ReadAsStringAsync(ct))!;
        Assert.Equal(leaked.Id, (string?)answer["revoked"]);
        Assert.StartsWith("in-", (string?)answer["incident"], StringComparison.Ordinal);
        Assert.NotNull(_keys.List().Single(k => k.Id == leaked.Id).Revoked);
        var after = await app.PostAsync("/v1/chat/completions", Json("""{"model":"tiny","messages":[{"role":"user","content":"hi"}]}"""), ct);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task ARefusedApiKeyAtTheAdminApi_IsAnAuditEntry_WithoutTheKey()
    {
        var ct = TestContext.Current.CancellationToken;
        var (plain, record) = _keys.Create("app", "internal", [], null);
        var wrong = "ddk_" + record.Id + "_" + new string('x', 43);
        foreach (var (key, status) in new[] { (plain, HttpStatusCode.Forbidden), (wrong, HttpStatusCode.Unauthorized), ("ddk_nosuchid_" + new string('y', 43), HttpStatusCode.Unauthorized) })
        {
            using var http = new HttpClient { BaseAddress = new Uri(_gateway.Urls[0]) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            var response = await http.PostAsync("/admin/keys/revoke", Json($$"""{"id":"{{record.Id}}"}"""), ct);
            Assert.Equal(status, response.StatusCode);
        }

        Assert.Null(_keys.List().Single(k => k.Id == record.Id).Revoked);
        var refused = AuditLog.Query(_registry.Database, new AuditFilter(Action: "access.refused"));
        Assert.Equal(3, refused.Count);
        Assert.Contains(refused, e => e.Actor == "key:" + record.Id && e.Details.Contains("not_admin", StringComparison.Ordinal));
        Assert.Equal(2, refused.Count(e => e.Actor.StartsWith("apikey:sha256:", StringComparison.Ordinal) && e.Actor.Length == "apikey:sha256:".Length + 8 && e.Details.Contains("invalid_api_key", StringComparison.Ordinal)));
        Assert.DoesNotContain(refused, e => e.Details.Contains(plain, StringComparison.Ordinal) || e.Details.Contains(wrong, StringComparison.Ordinal) || e.Details.Contains("nosuchid", StringComparison.Ordinal) || e.Details.Contains(plain.Split('_')[2], StringComparison.Ordinal));
        Assert.True(AuditLog.Verify(_registry.Database).Ok);
    }
}
