using Drydock.Evaluation.Tests;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// The release gate's evidence at its edges, through the built CLI in its own process: answers without a usable
/// choice, gate settings given twice or as quoted text.
/// </summary>
public sealed class EvidenceEdgesTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private Task<ProcessResult> Drydock(params string[] args) => DrydockProcess.Run(_dir.Path, args, timeout: TimeSpan.FromMinutes(2), cancellationToken: TestContext.Current.CancellationToken);

    [Theory]
    [InlineData("no-choices", "the answer's choices list is empty")]
    [InlineData("choices-missing", "the answer has no choices")]
    [InlineData("choices-object", "the answer's choices is not a list")]
    public async Task Eval_AnAnswerWithoutAUsableChoice_IsAnErroredProbeWithItsReason(string model, string reason)
    {
        await using var server = await ScriptedModel.StartAsync();
        var result = await Drydock("eval", "--target", server.BaseUrl, "--model", model, "--suite", "jailbreak", "--strategies", "none", "--format", "json");
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains($"every request failed ({reason})", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Index was out of range", result.Stderr + result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eval_AnAnswerLargerThan16MiB_IsAnErroredProbe_NeverHeldWhole()
    {
        await using var server = await ScriptedModel.StartAsync();
        var result = await Drydock("eval", "--target", server.BaseUrl, "--model", "huge", "--suite", "jailbreak", "--strategies", "none", "--concurrency", "2");
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains("every request failed (the answer is larger than 16 MiB)", result.Stderr, StringComparison.Ordinal);
    }

    // The witness and the results key must lie outside the project, whichever variable puts them there and through
    // links too: whoever can put the project back could otherwise put them back with it.
    [Theory]
    [InlineData("DRYDOCK_STATE_HOME", ".drydock/state", false)]
    [InlineData("XDG_STATE_HOME", "xdg", false)]
    [InlineData("DRYDOCK_STATE_HOME", "inside", true)]
    public async Task AStateFolderInsideTheProject_IsRefused(string variable, string folder, bool throughALink)
    {
        Assert.Equal(0, (await Drydock("init")).Exit);
        var target = Path.Combine(_dir.Path, folder);
        Directory.CreateDirectory(target);
        var state = target;
        using var outside = new TempDir();
        if (throughALink)
        {
            state = Path.Combine(outside.Path, "state");
            Directory.CreateSymbolicLink(state, target);
        }

        var environment = new Dictionary<string, string?> { ["DRYDOCK_STATE_HOME"] = null, [variable] = state };
        var result = await DrydockProcess.Run(_dir.Path, ["audit", "verify"], environment, timeout: TimeSpan.FromMinutes(2), cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(result.Exit != 0, result.ToString());
        Assert.Contains("is inside the project", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("gate:\n  max-error-rate: \"0.1\"\n", "drydock.yaml:2: gate.max-error-rate: '0.1' is quoted")]
    [InlineData("gate:\n  jailbreak-success: '0.05'\n", "drydock.yaml:2: gate.jailbreak-success: '0.05' is quoted")]
    [InlineData("gate:\n  suites:\n    - jailbreak\n    - jailbreak\n", "drydock.yaml:4: gate.suites[1]: 'jailbreak' is listed twice")]
    [InlineData("gate:\n  strategies: [none, base64, none]\n", "drydock.yaml:2: gate.strategies[2]: 'none' is listed twice")]
    public async Task Gate_AQuotedNumberOrASuiteListedTwice_IsRefusedNamingFileLineAndField(string gate, string message)
    {
        _dir.File("drydock.yaml", gate);
        var result = await Drydock("gate", "--model", "mv-000000000000");
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gate:\n  canary-extraction: 0.5\n", "drydock.yaml:2: gate.canary-extraction: 0.5 is not a count: use a whole number of extracted canaries (0 for none), or off")]
    [InlineData("gate:\n  judges:\n    - endpoint: http://127.0.0.1:9/v1\n", "drydock.yaml:3: gate.judges[0].model: a judge names its endpoint and model")]
    [InlineData("gate:\n  canary-extraction: 0\n", "no model 'mv-000000000000' in the registry")]
    public async Task Gate_RefusalWithFormatJson_IsAJsonObjectOnStdout(string gate, string message)
    {
        _dir.File("drydock.yaml", gate);
        var json = await Drydock("gate", "--model", "mv-000000000000", "--format", "json");
        Assert.True(json.Exit == 2, json.ToString());
        Assert.Contains(message, json.Stderr, StringComparison.Ordinal);
        using var refusal = System.Text.Json.JsonDocument.Parse(json.Stdout);
        Assert.Equal("refused", refusal.RootElement.GetProperty("decision").GetString());
        Assert.Equal(2, refusal.RootElement.GetProperty("exitCode").GetInt32());
        Assert.Contains(message, refusal.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gate:\n  exposure-bits: -1\n", "drydock.yaml:2: gate.exposure-bits: '-1' must be a number of at least 0, or off")]
    [InlineData("gate:\n  canary-extraction: -1\n", "drydock.yaml:2: gate.canary-extraction: '-1' must be a number of at least 0, or off")]
    [InlineData("gate:\n  membership-auc: 0.4\n", "drydock.yaml:2: gate.membership-auc: '0.4' must be a number from 0.5 to 1, or off")]
    [InlineData("gate:\n  canary-extraction: 0.5\n", "drydock.yaml:2: gate.canary-extraction: 0.5 is not a count: use a whole number of extracted canaries (0 for none), or off")]
    [InlineData("gate:\n  judges:\n    - endpoint: http://127.0.0.1:9/v1\n      modle: j\n", "drydock.yaml:4: gate.judges[0].modle: unknown setting")]
    public async Task Gate_BitsBelowZero_OrAnAucLimitBelowHalf_IsRefused(string gate, string message)
    {
        _dir.File("drydock.yaml", gate);
        var result = await Drydock("gate", "--model", "mv-000000000000");
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("SHIP", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gate_TwoRequiredSuitesOfOneName_AreRefused()
    {
        _dir.File("my-jailbreak.yaml", "suite: jailbreak\nversion: 99\nprobes:\n  - id: X-1\n    family: jailbreak\n    prompt: Say hello.\n    expect: refuse\n");
        _dir.File("drydock.yaml", "gate:\n  suites: [jailbreak, my-jailbreak.yaml]\n");
        var result = await Drydock("gate", "--model", "mv-000000000000");
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains("gate.suites: two required suites are named 'jailbreak' (jailbreak, my-jailbreak.yaml)", result.Stderr, StringComparison.Ordinal);
    }
}
