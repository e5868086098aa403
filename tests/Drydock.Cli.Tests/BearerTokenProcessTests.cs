using System.ClientModel;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Drydock.Gateway.Tests;
using Drydock.Tests.Shared;
using OpenAI;
using OpenAI.Chat;

namespace Drydock.Cli.Tests;

/// <summary>
/// Identity-provider tokens as operators run them: gateway.identity in drydock.yaml, a <c>drydock serve</c> process,
/// a test issuer's JWKS on loopback, and the official OpenAI .NET client presenting the token.
/// </summary>
public sealed class BearerTokenProcessTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task DrydockServe_AcceptsTheIssuersTokens_RefusesBadOnes_AndKeepsApiKeys()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var issuer = await TestIssuer.StartAsync();
        Assert.Equal(0, (await DrydockProcess.Run(_dir.Path, "init")).Exit);
        var yaml = Path.Combine(_dir.Path, "drydock.yaml");
        await File.AppendAllTextAsync(yaml, $"""

            gateway:
              identity:
                issuer: {issuer.Issuer}
                audience: {TestIssuer.Audience}
                jwks-url: {issuer.JwksUrl}
                clock-skew: 30
                tiers:
                  support-agents: internal
                roles:
                  ops-admins: admin

            """, TestContext.Current.CancellationToken);
        var created = await DrydockProcess.Run(_dir.Path, "keys", "create", "--name", "app", "--tier", "internal");
        Assert.True(created.Exit == 0, created.ToString());
        var url = $"http://127.0.0.1:{DrydockProcess.FreePort()}";
        using var gateway = DrydockProcess.Start(_dir.Path, ["serve", "--upstream", upstream.BaseUrl, "--listen", url]);
        await gateway.WaitUntilListening(new Uri(url + "/healthz"));

        ChatClient Client(string credential) => new("tiny", new ApiKeyCredential(credential), new OpenAIClientOptions { Endpoint = new Uri(url + "/v1") });
        var token = issuer.Token(["support-agents"], "ec-1");
        ChatCompletion answer = await Client(token).CompleteChatAsync([new UserChatMessage("hello")], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("tiny", answer.Model);
        Assert.Equal(1, upstream.Requests);

        var expired = issuer.Token(["support-agents"], notBefore: DateTime.UtcNow.AddHours(-2), expires: DateTime.UtcNow.AddHours(-1));
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => Client(expired).CompleteChatAsync([new UserChatMessage("hello")], cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(401, refused.Status);
        var hmac = await Assert.ThrowsAsync<ClientResultException>(() => Client(issuer.SignedWithPublicKeyAsHmac(["support-agents"])).CompleteChatAsync([new UserChatMessage("hello")], cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(401, hmac.Status);
        Assert.Equal(1, upstream.Requests);

        // API keys keep working beside tokens.
        await Client(created.Stdout.Trim()).CompleteChatAsync([new UserChatMessage("hello")], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(2, upstream.Requests);

        // The admin API takes the admin role's token.
        using var admin = new HttpClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", issuer.Token(["ops-admins"]));
        Assert.True((await admin.GetAsync(url + "/admin/incidents", TestContext.Current.CancellationToken)).IsSuccessStatusCode);

        // The log says why a token was refused, and holds no token; the request log holds the subject's hash only.
        Assert.Contains("the token has expired", gateway.Output, StringComparison.Ordinal);
        Assert.Contains("algorithm 'HS256' is not accepted", gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(expired, gateway.Output, StringComparison.Ordinal);
        var folder = Path.Combine(_dir.Path, ".drydock", "gateway", "requests");
        string[] lines = [];
        for (var wait = 0; wait < 100 && !lines.Any(l => l.Contains("\"subject\"", StringComparison.Ordinal)); wait++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            lines = [.. Directory.GetFiles(folder).SelectMany(File.ReadAllLines).Where(l => l.Length > 0)];
        }

        var first = JsonNode.Parse(lines.First(l => l.Contains("\"subject\"", StringComparison.Ordinal)))!;
        Assert.StartsWith("sub_", (string?)first["subject"], StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.Contains("alice", StringComparison.Ordinal) || l.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task DrydockServe_RefusesABadIdentitySection_NamingFileLineAndField()
    {
        Assert.Equal(0, (await DrydockProcess.Run(_dir.Path, "init")).Exit);
        var yaml = Path.Combine(_dir.Path, "drydock.yaml");
        await File.AppendAllTextAsync(yaml, "\ngateway:\n  identity:\n    issuer: https://idp/\n    audience: a\n    jwks-url: https://idp/keys\n    algorithms: [HS256]\n    tiers: {g: internal}\n", TestContext.Current.CancellationToken);
        var result = await DrydockProcess.Run(_dir.Path, "serve", "--upstream", "http://127.0.0.1:9/v1", "--listen", $"http://127.0.0.1:{DrydockProcess.FreePort()}");
        Assert.Equal(2, result.Exit);
        Assert.Contains("drydock.yaml:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("gateway.identity.algorithms[0]", result.Stderr, StringComparison.Ordinal);
    }
}
