using System.ClientModel;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway.Identity;
using Drydock.Gateway.Keys;
using Drydock.Gateway.Operations;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;
using Microsoft.Extensions.Logging;
using OpenAI;
using OpenAI.Chat;

namespace Drydock.Gateway.Tests;

/// <summary>
/// Identity-provider tokens at the gateway, against real token handling: a test issuer (RSA and P-256 keys, its JWKS
/// on loopback Kestrel, rotated mid-run), the official OpenAI .NET client presenting the token, every refusal answered
/// 401 or 403 with the model server never reached, and the admin API taking tokens by role.
/// </summary>
public sealed class BearerTokenTests : IAsyncLifetime
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
    private static readonly ApprovalPolicy s_policy = new(["security-reviewer"], "confidential");
    private readonly TempDir _dir = new();
    private readonly CapturedLogs _logs = new();
    private FakeUpstream _upstream = null!;
    private TestIssuer _issuer = null!;
    private ApiKeyStore _keys = null!;
    private GatewayHost _gateway = null!;
    private ProvenanceRegistry _registry = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _issuer = await TestIssuer.StartAsync();
        _keys = ApiKeyStore.Open(Path.Combine(_dir.Path, "keys"));
        var location = Path.Combine(_dir.Path, "registry.db");
        _registry = ProvenanceRegistry.Open(location);
        _gateway = await Start(Options(_issuer.JwksUrl), location);
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _issuer.DisposeAsync();
        await _upstream.DisposeAsync();
        _registry.Dispose();
        _dir.Dispose();
    }

    private GatewayOptions Options(Uri? jwks, string? jwksFile = null)
    {
        var tiers = GatewayOptions.DefaultTiers.ToDictionary(t => t.Name);
        tiers["tiny-only"] = new Tier("tiny-only", ["tiny"], 512, Streaming: false, GuardMode.Block, GuardMode.Redact, RequestsPerMinute: 3, TokensPerMinute: 10_000);
        return new GatewayOptions
        {
            Upstream = new Uri(_upstream.BaseUrl), Tiers = tiers, UpstreamTimeout = TimeSpan.FromSeconds(2), AuditFolder = Path.Combine(_dir.Path, "requests"),
            Identity = new IdentityOptions
            {
                Issuer = _issuer.Issuer, Audience = TestIssuer.Audience, JwksUrl = jwks, JwksFile = jwksFile, MinRefetch = TimeSpan.FromMilliseconds(300),
                Tiers = [new("support-agents", "internal"), new("tiny-users", "tiny-only")],
                Roles = [new("ops-admins", "admin"), new("on-call", "incident-responder")],
            },
        };
    }

    private async Task<GatewayHost> Start(GatewayOptions options, string? registry = null)
    {
        var operations = registry is null ? null : new GatewayOperations(ProvenanceRegistry.Open(registry), options.Aliases, s_policy, TimeSpan.FromMilliseconds(200));
        return await GatewayHost.StartAsync(options, new GatewayServices(_keys, s_detector) { Logs = _logs, Operations = operations }, "http://127.0.0.1:0");
    }

    private static ChatClient Client(GatewayHost gateway, string token, string model = "tiny") =>
        new(model, new ApiKeyCredential(token), new OpenAIClientOptions { Endpoint = new Uri(gateway.Urls[0] + "/v1") });

    private async Task<string> RequestLog()
    {
        await _gateway.FlushAuditAsync();
        return string.Concat(await Task.WhenAll(Directory.GetFiles(Path.Combine(_dir.Path, "requests"), "*.jsonl").Where(f => !Path.GetFileName(f).StartsWith("signals-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Select(f => File.ReadAllTextAsync(f))));
    }

    [Fact]
    public async Task OpenAIClient_WithRsaAndEcTokens_GetsGuardedAnswers_AndTheLogHoldsOnlyASubjectHash()
    {
        foreach (var kid in new[] { "rsa-1", "ec-1" })
        {
            var token = _issuer.Token(["support-agents"], kid);
            ChatCompletion completion = await Client(_gateway, token).CompleteChatAsync([new UserChatMessage("please LEAK")], cancellationToken: TestContext.Current.CancellationToken);
            Assert.Contains("[EMAIL]", completion.Content[0].Text, StringComparison.Ordinal);
            Assert.DoesNotContain(FakeUpstream.Email, completion.Content[0].Text, StringComparison.Ordinal);
        }

        Assert.Equal(2, _upstream.Requests);
        var log = await RequestLog();
        var line = JsonNode.Parse(log.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0])!;
        Assert.StartsWith(BearerTokens.SubjectPrefix, (string?)line["subject"], StringComparison.Ordinal);
        Assert.Equal("internal", (string?)line["tier"]);
        Assert.DoesNotContain("alice", log, StringComparison.Ordinal);
        Assert.DoesNotContain("eyJ", log, StringComparison.Ordinal);
    }

    public static TheoryData<string> Refusals() =>
    [
        "wrong-issuer", "wrong-audience", "expired", "not-yet-valid", "no-expiry", "unknown-kid", "no-kid", "no-subject", "alg-none", "hs256-with-public-key",
        "malformed", "oversized", "no-tier", "model-not-in-tier", "roles-only",
        "lifetime-over-the-cap", "lifetime-over-the-cap-without-iat", "iat-in-the-future", "crit-header", "exp-as-string", "nbf-as-string", "iat-as-string",
    ];

    // A payload of this issuer and audience, subject mallory in support-agents, valid for an hour, with one claim written as given.
    private string Payload(string exp, string nbf, string iat) =>
        $$"""{"iss":"{{_issuer.Issuer}}","aud":"{{TestIssuer.Audience}}","sub":"mallory","groups":["support-agents"],"exp":{{exp}},"nbf":{{nbf}},"iat":{{iat}}}""";

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task EveryRefusal_Answers401Or403_AndNeverReachesTheModelServer(string refusal)
    {
        var now = DateTime.UtcNow;
        var (token, status, model) = refusal switch
        {
            "wrong-issuer" => (_issuer.Token(["support-agents"], issuer: "https://login.example.com/"), 401, "tiny"),
            "wrong-audience" => (_issuer.Token(["support-agents"], audience: "another-api"), 401, "tiny"),
            "expired" => (_issuer.Token(["support-agents"], notBefore: now.AddHours(-2), expires: now.AddHours(-1)), 401, "tiny"),
            "not-yet-valid" => (_issuer.Token(["support-agents"], notBefore: now.AddHours(1), expires: now.AddHours(2)), 401, "tiny"),
            "no-expiry" => (_issuer.Token(["support-agents"], withExpiry: false), 401, "tiny"),
            "unknown-kid" => (_issuer.Token(["support-agents"], _issuer.Unpublished()), 401, "tiny"),
            "no-kid" => (_issuer.Token(["support-agents"], withKid: false), 401, "tiny"),
            "no-subject" => (_issuer.Token(["support-agents"], subject: ""), 401, "tiny"),
            "alg-none" => (_issuer.Unsigned(["support-agents"]), 401, "tiny"),
            "hs256-with-public-key" => (_issuer.SignedWithPublicKeyAsHmac(["support-agents"]), 401, "tiny"),
            "malformed" => ("eyJhbGciOiJSUzI1NiJ9.not-json.@@@", 401, "tiny"),
            "oversized" => (_issuer.Token([.. Enumerable.Range(0, 600).Select(i => "group-" + i)]), 401, "tiny"),
            "no-tier" => (_issuer.Token(["marketing"]), 403, "tiny"),
            "model-not-in-tier" => (_issuer.Token(["tiny-users"]), 403, "large"),
            "roles-only" => (_issuer.Token(["ops-admins"]), 403, "tiny"),
            "lifetime-over-the-cap" => (_issuer.Token(["support-agents"], expires: now.AddHours(25)), 401, "tiny"),
            "lifetime-over-the-cap-without-iat" => (_issuer.Token(["support-agents"], expires: now.AddHours(25), withIssuedAt: false), 401, "tiny"),
            "iat-in-the-future" => (_issuer.Token(["support-agents"], issuedAt: now.AddHours(47), expires: now.AddHours(48)), 401, "tiny"),
            "crit-header" => (_issuer.Token(["support-agents"], header: new Dictionary<string, object> { ["crit"] = new[] { "x-drydock-test" }, ["x-drydock-test"] = true }), 401, "tiny"),
            "exp-as-string" => (_issuer.Signed(Payload($"\"{Unix(now.AddHours(1))}\"", $"{Unix(now.AddMinutes(-1))}", $"{Unix(now.AddMinutes(-1))}")), 401, "tiny"),
            "nbf-as-string" => (_issuer.Signed(Payload($"{Unix(now.AddHours(1))}", $"\"{Unix(now.AddMinutes(-1))}\"", $"{Unix(now.AddMinutes(-1))}")), 401, "tiny"),
            "iat-as-string" => (_issuer.Signed(Payload($"{Unix(now.AddHours(1))}", $"{Unix(now.AddMinutes(-1))}", $"\"{Unix(now.AddMinutes(-1))}\"")), 401, "tiny"),
            _ => throw new ArgumentOutOfRangeException(nameof(refusal)),
        };

        var e = await Assert.ThrowsAsync<ClientResultException>(() => Client(_gateway, token, model).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(status, e.Status);
        using var http = Http(_gateway, token);
        if (refusal != "model-not-in-tier") Assert.Equal(status, (int)(await http.GetAsync(_gateway.Urls[0] + "/v1/models", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(0, _upstream.Requests);

        // The log says why (a 401 only), and never holds the token.
        var log = _logs.Text;
        Assert.DoesNotContain(token, log, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Split('.')[^1] is { Length: > 8 } signature ? signature : "\u0000", log, StringComparison.Ordinal);
        if (status == 401) Assert.Contains("bearer token refused", log, StringComparison.Ordinal);
        var reason = refusal switch
        {
            "wrong-issuer" => "issuer is not the one configured",
            "wrong-audience" => "not for this audience",
            "expired" => "has expired",
            "not-yet-valid" => "not yet valid",
            "no-expiry" => "no expiry",
            "unknown-kid" => "a signing key the issuer does not publish",
            "no-kid" => "names no signing key (kid)",
            "no-subject" => "no subject (sub)",
            "alg-none" => "algorithm 'none' is not accepted",
            "hs256-with-public-key" => "algorithm 'HS256' is not accepted",
            "malformed" => "malformed",
            "oversized" => "longer than 8192 characters",
            "model-not-in-tier" => "",
            "lifetime-over-the-cap" or "lifetime-over-the-cap-without-iat" or "iat-in-the-future" => "the token is valid for longer than the gateway allows (gateway.identity.max-token-lifetime: 86400 s)",
            "crit-header" => "the token's header marks extensions the gateway does not understand as critical (crit: x-drydock-test)",
            "exp-as-string" => "the token's exp is not a number",
            "nbf-as-string" => "the token's nbf is not a number",
            "iat-as-string" => "the token's iat is not a number",
            _ => "no claim value maps to a tier",
        };
        Assert.Contains(reason, log, StringComparison.Ordinal);
    }

    private static string Unix(DateTime time) => new DateTimeOffset(time).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task ATokenValidForADay_IsAccepted_AndALongerOneIsNotOnceALowerCapIsSet()
    {
        var now = DateTime.UtcNow;
        var day = _issuer.Token(["support-agents"], issuedAt: now.AddMinutes(-1), expires: now.AddHours(23).AddMinutes(58));
        await Client(_gateway, day).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(1, _upstream.Requests);

        // A cap of an hour: the same token is now too long-lived; one of 50 minutes is not.
        var options = Options(_issuer.JwksUrl);
        await using var capped = await Start(options with { Identity = options.Identity! with { MaxTokenLifetime = TimeSpan.FromHours(1) } });
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Client(capped, day).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(401, e.Status);
        Assert.Contains("valid for longer than the gateway allows (gateway.identity.max-token-lifetime: 3600 s)", _logs.Text, StringComparison.Ordinal);
        await Client(capped, _issuer.Token(["support-agents"], expires: now.AddMinutes(50))).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(2, _upstream.Requests);
    }

    [Fact]
    public async Task AModelListForAToken_IsItsTiersOnly_AndARefusedTokenGetsNoList()
    {
        using var tiny = Http(_gateway, _issuer.Token(["tiny-users"]));
        var list = await tiny.GetStringAsync(_gateway.Urls[0] + "/v1/models", TestContext.Current.CancellationToken);
        Assert.Contains("\"tiny\"", list, StringComparison.Ordinal);
        Assert.DoesNotContain("\"large\"", list, StringComparison.Ordinal);
        using var expired = Http(_gateway, _issuer.Token(["tiny-users"], notBefore: DateTime.UtcNow.AddHours(-2), expires: DateTime.UtcNow.AddHours(-1)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await expired.GetAsync(_gateway.Urls[0] + "/v1/models", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task RateLimits_CountPerSubject()
    {
        var alice = _issuer.Token(["tiny-users"], subject: "alice");
        for (var i = 0; i < 3; i++) await Client(_gateway, alice).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken);
        using (var http = Http(_gateway, alice))
        {
            var limited = await http.PostAsync(_gateway.Urls[0] + "/v1/chat/completions", Chat("hi"), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        }

        // Another subject of the same tier has its own minute; so does alice with a new token (same subject: not).
        await Client(_gateway, _issuer.Token(["tiny-users"], subject: "bob")).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken);
        using var again = Http(_gateway, _issuer.Token(["tiny-users"], "ec-1", subject: "alice"));
        Assert.Equal(HttpStatusCode.TooManyRequests, (await again.PostAsync(_gateway.Urls[0] + "/v1/chat/completions", Chat("hi"), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(4, _upstream.Requests);
    }

    [Fact]
    public async Task KeyRotationMidRun_TheNewKeyIsFetchedOnce_TheRetiredOneStopsWorking()
    {
        var old = _issuer.Token(["support-agents"], "rsa-1");
        await Client(_gateway, old).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken);
        var readsBefore = _issuer.JwksReads;

        var kid = _issuer.Rotate(retire: "rsa-1");
        await Task.Delay(400, TestContext.Current.CancellationToken); // past the least time between two reads
        var fresh = _issuer.Token(["support-agents"], kid);
        await Client(_gateway, fresh).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(readsBefore + 1, _issuer.JwksReads);

        // The retired key is no longer published: its tokens are refused although they have not expired.
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Client(_gateway, old).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(401, e.Status);

        // A burst of unknown kids reads the JWKS at most once more.
        var unknown = _issuer.Token(["support-agents"], _issuer.Unpublished());
        using var http = Http(_gateway, unknown);
        for (var i = 0; i < 20; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync(_gateway.Urls[0] + "/v1/chat/completions", Chat("hi"), TestContext.Current.CancellationToken)).StatusCode);
        Assert.InRange(_issuer.JwksReads, readsBefore + 1, readsBefore + 2);
        Assert.Equal(2, _upstream.Requests);
    }

    [Fact]
    public async Task JwksDown_TokensGet401WithTheReasonLogged_ApiKeysStillWork()
    {
        _issuer.Down = true;
        await using var gateway = await Start(Options(_issuer.JwksUrl));
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Client(gateway, _issuer.Token(["support-agents"])).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(401, e.Status);
        Assert.Contains("no signing keys: the JWKS at " + _issuer.JwksUrl + " answered 503", _logs.Text, StringComparison.Ordinal);

        var (key, _) = _keys.Create("app", "internal", [], null);
        ChatCompletion answered = await Client(gateway, key).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("tiny", answered.Model);
        Assert.Equal(1, _upstream.Requests);

        // Once the JWKS answers again, tokens work (after the least time between two reads).
        _issuer.Down = false;
        await Task.Delay(400, TestContext.Current.CancellationToken);
        await Client(gateway, _issuer.Token(["support-agents"])).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(2, _upstream.Requests);
    }

    [Fact]
    public async Task AnOfflineJwksFile_IsEnough()
    {
        var file = _dir.File("jwks.json", _issuer.Jwks());
        await using var gateway = await Start(Options(null, file));
        await _issuer.DisposeAsync(); // nothing to fetch from: the file is all it has
        _issuer = await TestIssuer.StartAsync();
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Client(gateway, _issuer.Token(["support-agents"])).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(401, e.Status); // a new issuer's keys are not in the file (and its issuer differs)
        Assert.Equal(0, _upstream.Requests);
    }

    [Fact]
    public async Task TheAdminApi_TakesTokensByRole_IncidentRespondersContainAndRevokeKeys_AgentsDoNeither()
    {
        var id = _registry.RegisterModel("tiny", new string('1', 64), null, [], [], null, "alice").Model.Id;
        _registry.Approve("model", id, "security-reviewer", "approve", null, "bob", s_policy);
        _registry.Deploy("support", id, null, null, "ops", s_policy);
        var (_, victim) = _keys.Create("app", "internal", [], null);
        var url = _gateway.Urls[0];
        using var responder = Http(_gateway, _issuer.Token(["on-call"], subject: "carol"));
        using var admin = Http(_gateway, _issuer.Token(["ops-admins"], "ec-1", subject: "dave"));
        using var agent = Http(_gateway, _issuer.Token(["support-agents"]));

        Assert.Equal(HttpStatusCode.Forbidden, (await agent.GetAsync(url + "/admin/deployments", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await responder.GetAsync(url + "/admin/deployments", TestContext.Current.CancellationToken)).StatusCode);
        var contained = await responder.PostAsync(url + "/admin/contain", Json("""{"model":"support","reason":"jailbreak reports"}"""), TestContext.Current.CancellationToken);
        Assert.True(contained.IsSuccessStatusCode, await contained.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        // Revoking a leaked key is containment: an incident responder may, an agent may not (docs/identity.md).
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.PostAsync(url + "/admin/keys/revoke", Json($$"""{"id":"{{victim.Id}}"}"""), TestContext.Current.CancellationToken)).StatusCode);
        Assert.True(_keys.List().Single(k => k.Id == victim.Id).Active(DateTimeOffset.UtcNow));

        var revoked = await responder.PostAsync(url + "/admin/keys/revoke", Json($$"""{"id":"{{victim.Id}}","reason":"pasted in a ticket"}"""), TestContext.Current.CancellationToken);
        Assert.True(revoked.IsSuccessStatusCode, await revoked.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.False(_keys.List().Single(k => k.Id == victim.Id).Active(DateTimeOffset.UtcNow));
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(url + "/admin/incidents", TestContext.Current.CancellationToken)).StatusCode);

        // The registry records who acted as the subject's hash, never the subject.
        var actors = _registry.Incidents().SelectMany(i => i).Select(e => e.Actor).ToList();
        Assert.Contains(actors, a => a.StartsWith("oidc:" + BearerTokens.SubjectPrefix, StringComparison.Ordinal));
        Assert.DoesNotContain(actors, a => a.Contains("carol", StringComparison.Ordinal) || a.Contains("dave", StringComparison.Ordinal));

        // An expired admin token is 401 on the admin API too.
        using var stale = Http(_gateway, _issuer.Token(["ops-admins"], notBefore: DateTime.UtcNow.AddHours(-2), expires: DateTime.UtcNow.AddHours(-1)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await stale.GetAsync(url + "/admin/incidents", TestContext.Current.CancellationToken)).StatusCode);
    }

    private static HttpClient Http(GatewayHost gateway, string token)
    {
        _ = gateway;
        var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static StringContent Chat(string text) => Json($$"""{"model":"tiny","messages":[{"role":"user","content":"{{text}}"}]}""");

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>The gateway's structured log, kept in memory.</summary>
    private sealed class CapturedLogs : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public string Text => string.Join("\n", _lines);

        public ILogger CreateLogger(string categoryName) => new Logger(_lines);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) => lines.Enqueue(formatter(state, exception));
        }
    }
}
