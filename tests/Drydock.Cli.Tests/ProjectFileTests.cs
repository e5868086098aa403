using System.Net;
using System.Text;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// drydock.yaml as users run it: the built CLI in its own process. A typo or a value of the wrong shape at any level
/// stops every verb with exit 2 and a message naming file, line and field; --policy (alias --config) names the file
/// every verb reads, rules included.
/// </summary>
public sealed class ProjectFileTests : IDisposable
{
    private readonly TempDir _dir = new();

    public ProjectFileTests() => File.Copy(Path.Combine(AppContext.BaseDirectory, "samples", "support-tickets.jsonl"), Path.Combine(_dir.Path, "tickets.jsonl"));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private const string Sha = "0000000000000000000000000000000000000000000000000000000000000000";

    private const string Training = $"training:\n  base-model: {{ path: base, sha256: \"{Sha}\" }}\n  dataset: ds-1\n";

    public static TheoryData<string, string, string, string> Typos => new()
    {
        // yaml, verb, where, field
        { "gateway:\n  tiers:\n    partner:\n      models: [support-7b]\n      ouput: block\n", "serve", "drydock.yaml:5", "gateway.tiers.partner.ouput" },
        { "gateway:\n  tiers:\n    partner:\n      models: support\n", "serve", "drydock.yaml:4", "gateway.tiers.partner.models" },
        { "sources:\n  - path: data/**\n    clasification: highly-sensitive\n", "clean", "drydock.yaml:3", "sources[0].clasification" },
        { "thresholds:\n  treshold: 0.9\n", "clean", "drydock.yaml:2", "thresholds.treshold" },
        { "untrusted:\n  acton: drop\n", "clean", "drydock.yaml:2", "untrusted.acton" },
        { "types:\n  email:\n    redation: fake\n", "clean", "drydock.yaml:3", "types.email.redation" },
        { Training + "  learning_rate: 0.5\n", "train", "drydock.yaml:4", "training.learning_rate" },
        { Training + "  epoch: 40\n", "train", "drydock.yaml:4", "training.epoch" },
        { Training + "  lora:\n    rnak: 64\n", "train", "drydock.yaml:5", "training.lora.rnak" },
        { "version: banana\n", "scan", "drydock.yaml:1", "version" },
        { "types:\n  emial:\n    action: drop\n", "clean", "drydock.yaml:2", "types.emial" },
        { "types:\n  aws-acess-key-id: { action: drop }\n", "scan", "drydock.yaml:2", "types.aws-acess-key-id" },
        { "gate:\n  pii-leek: 0.5\n", "gate", "drydock.yaml:2", "gate.pii-leek" },
        { "rules:\n  - id: ACME-1\n    category: secret\n    type: acme\n    severity: high\n    pattern: 'ACME-[0-9]{6}'\n    keyword: [ACME]\n", "scan", "drydock.yaml:7", "rules[0].keyword" },
    };

    private static string[] Verb(string verb) => verb switch
    {
        "serve" => ["serve", "--upstream", "http://127.0.0.1:9/v1", "--listen", $"http://127.0.0.1:{DrydockProcess.FreePort()}"],
        "clean" => ["clean", "tickets.jsonl", "-o", "out.jsonl"],
        "train" => ["train", "plan"],
        "gate" => ["gate", "--model", "mv-000000000000"],
        _ => ["scan", "tickets.jsonl"],
    };

    [Theory]
    [MemberData(nameof(Typos))]
    public async Task ATypoAtAnyLevel_StopsTheVerb_NamingFileLineAndField(string yaml, string verb, string where, string field)
    {
        _dir.File("drydock.yaml", yaml);
        var result = await DrydockProcess.Run(_dir.Path, Verb(verb), timeout: TimeSpan.FromMinutes(1), cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains($"{where}: {field}:", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir.Path, "out.jsonl")), "nothing is written under a file that cannot be read");
        Assert.False(File.Exists(Path.Combine(_dir.Path, ".drydock", "registry.db")), "no registry is made under a file that cannot be read");

        // The file is read whole, once, by every verb: a typo in a section a verb does not use still stops it.
        var other = await DrydockProcess.Run(_dir.Path, ["scan", "tickets.jsonl"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(other.Exit == 2, other.ToString());
        Assert.Contains($"{where}: {field}:", other.Stderr, StringComparison.Ordinal);
    }

    private const string AcmeRule = """
        rules:
          - id: ACME-1
            category: secret
            type: acme-token
            severity: critical
            pattern: 'acme_[a-z0-9]{20}'
            keywords: [acme_]
        """;

    private const string AcmeToken = "acme_k3j4h5g6f7d8s9a0p1o2";

    [Fact]
    public async Task PolicyAndItsAliasConfig_NameTheFileScanAndReviewRead()
    {
        _dir.File("drydock.yaml", "project: plain\n");
        _dir.File("custom.yaml", AcmeRule + "\n");
        _dir.File("data.jsonl", $$"""{"prompt": "deploy with {{AcmeToken}} please", "completion": "ok"}""" + "\n");
        var plain = await DrydockProcess.Run(_dir.Path, ["scan", "data.jsonl", "--format", "json"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.DoesNotContain("acme-token", plain.Stdout, StringComparison.Ordinal);
        foreach (var option in new[] { "--policy", "--config" })
        {
            var scan = await DrydockProcess.Run(_dir.Path, ["scan", "data.jsonl", "--format", "json", option, "custom.yaml"], cancellationToken: TestContext.Current.CancellationToken);
            Assert.True(scan.Exit == 1, scan.ToString());
            Assert.Contains("\"acme-token\"", scan.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain(AcmeToken, scan.Stdout, StringComparison.Ordinal);
        }

        var review = await DrydockProcess.Run(_dir.Path, ["review", "sample", "data.jsonl", "--size", "1", "--policy", "custom.yaml"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(review.Exit == 0, review.ToString());
        Assert.Contains("acme-token", File.ReadAllText(Path.Combine(_dir.Path, "review", "sample.jsonl")), StringComparison.Ordinal);

        var missing = await DrydockProcess.Run(_dir.Path, ["clean", "data.jsonl", "-o", "out.jsonl", "--policy", "nope.yaml"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(missing.Exit == 2, missing.ToString());
        Assert.Contains("nope.yaml", missing.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_AppliesTheRulesOfThePolicyFile_ToPrompts()
    {
        Assert.Equal(0, (await DrydockProcess.Run(_dir.Path, ["init"], cancellationToken: TestContext.Current.CancellationToken)).Exit);
        _dir.File("custom.yaml", AcmeRule + "\ngateway:\n  tiers:\n    default:\n      input: block\n");
        var key = await DrydockProcess.Run(_dir.Path, ["keys", "create", "--name", "app"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(key.Exit == 0, key.ToString());
        var port = DrydockProcess.FreePort();
        var listen = new Uri($"http://127.0.0.1:{port}");
        using var serve = DrydockProcess.Start(_dir.Path, ["serve", "--upstream", "http://127.0.0.1:9/v1", "--listen", listen.ToString().TrimEnd('/'), "--policy", "custom.yaml"]);
        await serve.WaitUntilListening(new Uri(listen, "/v1/models"));
        using var http = new HttpClient { BaseAddress = listen };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key.Stdout.Trim());

        async Task<(HttpStatusCode Status, string Body)> Ask(string text)
        {
            var body = $$"""{"model": "m", "messages": [{"role": "user", "content": "{{text}}"}]}""";
            using var response = await http.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }

        var blocked = await Ask($"use {AcmeToken} for the deploy");
        Assert.True(blocked.Status == HttpStatusCode.BadRequest && blocked.Body.Contains("input_blocked", StringComparison.Ordinal), $"{blocked}\n{serve.Output}");
        var ordinary = await Ask("what is a deploy?");
        Assert.NotEqual(HttpStatusCode.BadRequest, ordinary.Status); // passes the guard; the upstream is down
        Assert.Contains($"project {_dir.Path}", serve.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Types_OfTheFilesOwnRulesAndTheCatalogue_AreAccepted_ATypoIsNamedWithASuggestion()
    {
        _dir.File("drydock.yaml", "types:\n  email: { action: drop }\n  acme-token: { action: drop }\nrules:\n  - id: ACME-1\n    category: secret\n    type: acme-token\n    severity: high\n    pattern: 'ACME-[0-9]{6}'\n    keywords: [ACME]\n");
        var ok = await DrydockProcess.Run(_dir.Path, ["scan", "tickets.jsonl"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(ok.Exit is 0 or 1, ok.ToString());

        _dir.File("drydock.yaml", "types:\n  emial: { action: drop }\n");
        var typo = await DrydockProcess.Run(_dir.Path, ["clean", "tickets.jsonl", "-o", "out.jsonl"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(typo.Exit == 2, typo.ToString());
        Assert.Contains("drydock.yaml:2: types.emial: no rule reports the finding type 'emial' (did you mean email?)", typo.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AProjectFileOverOneMiB_IsRefusedWithExit2()
    {
        _dir.File("drydock.yaml", "project: big\n" + string.Concat(Enumerable.Repeat("# padding padding padding padding padding padding padding padding\n", 17_000)));
        var result = await DrydockProcess.Run(_dir.Path, ["scan", "tickets.jsonl"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains("drydock.yaml:0: file: cannot read: larger than the 1 MiB", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AProjectFileThatIsAFifo_IsRefusedAtOnce()
    {
        if (!OperatingSystem.IsLinux()) return;
        Fifo(Path.Combine(_dir.Path, "drydock.yaml"));
        var result = await DrydockProcess.Run(_dir.Path, ["scan", "tickets.jsonl"], timeout: TimeSpan.FromSeconds(60), cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains("drydock.yaml:0: file: not a regular file (a FIFO (named pipe))", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysRevoke_IsNotBlockedByATypoInDrydockYaml_AndWarns()
    {
        Assert.True((await DrydockProcess.Run(_dir.Path, ["init"], cancellationToken: TestContext.Current.CancellationToken)).Exit == 0);
        var created = await DrydockProcess.Run(_dir.Path, ["keys", "create", "--name", "ci"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(created.Exit == 0, created.ToString());
        var id = created.Stdout.Trim().Split('_')[1];
        File.AppendAllText(Path.Combine(_dir.Path, "drydock.yaml"), "\ntreshold: 0.9\n");

        // Creating a key reads the gateway's tiers: it stops on the typo; revoking must not.
        var blocked = await DrydockProcess.Run(_dir.Path, ["keys", "create", "--name", "other"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(blocked.Exit == 2, blocked.ToString());
        var revoked = await DrydockProcess.Run(_dir.Path, ["keys", "revoke", id], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(revoked.Exit == 0, revoked.ToString());
        Assert.Contains("drydock.yaml:", revoked.Stderr, StringComparison.Ordinal);
        Assert.Contains("treshold: unknown setting", revoked.Stderr, StringComparison.Ordinal);
        Assert.Contains("warning", revoked.Stderr, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_dir.Path, "drydock.yaml"), "project: fixed\n");
        var list = await DrydockProcess.Run(_dir.Path, ["keys", "list"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Contains("revoked", list.Stdout, StringComparison.Ordinal);
        var audit = await DrydockProcess.Run(_dir.Path, ["audit", "verify"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(audit.Exit == 0, audit.ToString());
    }

    internal static void Fifo(string path)
    {
        using var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }
}
