using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace Drydock.Cli.Tests;

/// <summary>The operations verbs end to end: keys, canaries, deployments, incidents and the request log.</summary>
public sealed class OperationsCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drydock-operations-" + Guid.NewGuid().ToString("N"));

    public OperationsCommandTests() => Directory.CreateDirectory(Path.Combine(_dir, ".drydock")); // a project, as drydock init makes

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private Task<(int Exit, string Stdout, string Stderr)> Run(params string[] args) => CliRunner.RunIn(_dir, args);

    [Fact]
    public async Task Canaries_ArePrintedOnce_AndOnlyTheirHashesKept()
    {
        var created = await Run("canary", "create", "--label", "tickets v3", "--count", "2");
        Assert.Equal(0, created.Exit);
        var codes = created.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, codes.Length);
        Assert.All(codes, c => Assert.Matches("^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$", c));
        var listed = await Run("canary", "list");
        Assert.Equal(2, Regex.Count(listed.Stdout, "cn-[0-9a-f]{12}"));
        Assert.All(codes, c => Assert.DoesNotContain(c, listed.Stdout, StringComparison.Ordinal));
        Assert.All(codes, c => Assert.DoesNotContain(c, File.ReadAllText(Path.Combine(_dir, ".drydock", "registry.db")), StringComparison.Ordinal));
        Assert.Equal(2, (await Run("canary", "create", "--label", "x", "--count", "0")).Exit);
    }

    [Fact]
    public async Task Containment_KillSwitchKeyRevocationAndTimelines()
    {
        var admin = await Run("keys", "create", "--name", "oncall", "--admin");
        Assert.Equal(0, admin.Exit);
        Assert.StartsWith("ddk_", admin.Stdout.Trim(), StringComparison.Ordinal);
        var app = (await Run("keys", "create", "--name", "app", "--tier", "internal")).Stdout.Trim();
        var appId = app.Split('_')[1];

        Assert.Equal(2, (await Run("incident", "contain")).Exit);
        Assert.Equal(2, (await Run("deploy", "support", "--model", "mv-missing")).Exit);
        var noEarlier = await Run("incident", "contain", "--model", "tiny", "--revert");
        Assert.Equal(2, noEarlier.Exit);
        Assert.Contains("no deployment 'tiny'", noEarlier.Stderr, StringComparison.Ordinal);

        var contained = await Run("incident", "contain", "--model", "tiny", "--reason", "leaks support emails");
        Assert.Equal(0, contained.Exit);
        var incident = Regex.Match(contained.Stdout, "in-[0-9a-f]{12}").Value;
        Assert.Contains("tiny disabled", contained.Stdout, StringComparison.Ordinal);
        Assert.Contains("DISABLED", (await Run("deploy")).Stdout, StringComparison.Ordinal);
        Assert.Contains("enabled", (await Run("deploy", "tiny", "--enable", "--reason", "fixed")).Stdout, StringComparison.Ordinal);

        var revoked = await Run("incident", "contain", "--key", appId, "--incident", incident);
        Assert.Equal(0, revoked.Exit);
        Assert.Contains("revoked", (await Run("keys", "list")).Stdout.Split('\n').Single(l => l.StartsWith(appId, StringComparison.Ordinal)), StringComparison.Ordinal);

        Assert.Equal(0, (await Run("incident", "close", incident, "--note", "retrained on v4")).Exit);
        var shown = await Run("incident", "show", incident);
        Assert.Equal(["opened", "contained", "contained", "closed"], shown.Stdout.Split('\n').Skip(1).Where(l => l.Length > 0).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]));
        Assert.Contains("closed", (await Run("incident", "list")).Stdout, StringComparison.Ordinal);
        Assert.Equal(2, (await Run("incident", "show", "in-000000000000")).Exit);
        Assert.Equal(0, (await Run("audit", "verify")).Exit);
        Assert.Contains("deployment.disable", (await Run("audit", "log")).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestLog_QueryAndPurge_AndServeRefusesBadSettings()
    {
        var folder = Path.Combine(_dir, ".drydock", "gateway", "requests");
        Directory.CreateDirectory(folder);
        var today = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        await File.WriteAllTextAsync(Path.Combine(folder, $"requests-{today}.jsonl"), $$"""
            {"at":"{{today}}T10:00:00.000Z","endpoint":"chat","key":"k1","tier":"internal","model":"tiny","status":200,"ms":1.2,"tokens":14,"inputFindings":"","outputFindings":"email"}
            {"at":"{{today}}T10:00:01.000Z","endpoint":"chat","key":"k2","tier":"public","model":"tiny","status":429,"ms":0.3,"inputFindings":"","outputFindings":""}
            {"cut short
            """, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(folder, "requests-2020-01-01.jsonl"), "{}\n", TestContext.Current.CancellationToken);
        var all = await Run("audit", "requests");
        Assert.Equal(3, all.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("k1", (await Run("audit", "requests", "--findings")).Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("k1", (await Run("audit", "requests", "--status", "429", "--format", "json")).Stdout, StringComparison.Ordinal);
        Assert.Equal(2, (await Run("audit", "requests", "--since", "yesterday-ish")).Exit);
        await File.WriteAllTextAsync(Path.Combine(folder, "signals-2020-01-01.jsonl"), "{}\n", TestContext.Current.CancellationToken);
        Assert.Contains("deleted 2", (await Run("audit", "purge", "--retention-days", "30")).Stdout, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(folder, "*-2020-01-01.jsonl"));

        await File.WriteAllTextAsync(Path.Combine(_dir, "drydock.yaml"), "gateway:\n  audit:\n    retention-days: 0\n", TestContext.Current.CancellationToken);
        var bad = await Run("serve", "--upstream", "http://127.0.0.1:1/v1");
        Assert.Equal(2, bad.Exit);
        Assert.Contains("drydock.yaml:3: gateway.audit.retention-days", bad.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, (await Run("serve", "--upstream", "ftp://x")).Exit);
        var redis = await Run("serve", "--upstream", "http://127.0.0.1:1/v1", "--redis", "127.0.0.1:1,connectTimeout=300", "--policy", Path.Combine(_dir, "none.yaml"));
        Assert.Equal(2, redis.Exit);
    }

    [Fact]
    public async Task Eval_RefusesBadInput_WithFileLineAndField()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "suite.yaml"), "suite: s\nversion: 1\nprobes:\n  - id: a\n    prompt: hi\n    expect: refuse\n", TestContext.Current.CancellationToken);
        var bad = await Run("eval", "--target", "http://127.0.0.1:1/v1", "--model", "m", "--suite", "suite.yaml");
        Assert.Equal(2, bad.Exit);
        Assert.Contains("suite.yaml:4: probes[0].family: is required", bad.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, (await Run("eval", "--target", "http://127.0.0.1:1/v1", "--model", "m", "--strategies", "rot26")).Exit);
        var down = await Run("eval", "--target", "http://127.0.0.1:1/v1", "--model", "m", "--suite", "prompt-injection", "--strategies", "none", "--timeout", "2");
        Assert.Equal(2, down.Exit);
        Assert.Contains("every request failed", down.Stderr, StringComparison.Ordinal);
    }
}
