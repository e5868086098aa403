using System.Text.RegularExpressions;
using Drydock.Evaluation.Tests;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace Drydock.Cli.Tests;

/// <summary>
/// <c>drydock monitor evaluate</c> as operators run it from cron: a model version evaluated, gated and deployed with the
/// built CLI, a real <c>drydock serve</c> in front of a scripted model server, and the periodic re-evaluation sent
/// through that gateway. While the model refuses, the figures match the gate's; once it starts obeying attacks, the
/// regression is recorded, an incident opened and the alias disabled (<c>monitor.contain: disable</c>).
/// </summary>
public sealed partial class MonitorEvaluateProcessTests : IDisposable
{
    private static readonly ApprovalPolicy s_policy = new(["data-owner", "security-reviewer"], "confidential");
    private readonly TempDir _dir = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    [GeneratedRegex(@"incident (in-[0-9a-f]+)")]
    private static partial Regex IncidentId();

    [Fact]
    public async Task Evaluate_ThroughTheGateway_FindsAModelThatStartsObeyingAttacks_RecordsIt_OpensAnIncident_AndContainsTheAlias()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "drydock.yaml"),
            "gate:\n  canary-extraction: off\n  exposure-bits: off\n  membership-auc: off\n  pii-extraction: off\n  strategies: [none, base64]\n" +
            "gateway:\n  abuse-threshold: 1\nmonitor:\n  evaluate-regression: 0.05\n  contain: disable\n", TestContext.Current.CancellationToken);
        string model, digest;
        using (var registry = ProvenanceRegistry.Open(Path.Combine(_dir.Path, ".drydock", "registry.db")))
        {
            digest = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            model = registry.RegisterModel("tiny", digest, null, [], [], null, "alice").Model.Id;
            registry.Approve("model", model, "data-owner", "approve", null, "bob", s_policy);
            registry.Approve("model", model, "security-reviewer", "approve", null, "carol", s_policy);
        }

        SqliteConnection.ClearAllPools();
        await using var upstream = await ScriptedModel.StartAsync();
        upstream.Digest = digest;
        upstream.As = "refuser";
        await Cli(0, "deploy", "support", "--model", model);
        var key = (await Cli(0, "keys", "create", "--name", "monitor", "--tier", "internal")).Stdout.Trim();
        var url = $"http://127.0.0.1:{DrydockProcess.FreePort()}";
        var env = new Dictionary<string, string?> { ["DRYDOCK_MONITOR_API_KEY"] = key };

        // Without a gate decision there is nothing to compare with: said, exit 2, nothing sent.
        var noGate = await DrydockProcess.Run(_dir.Path, ["monitor", "evaluate", "--model", "support", "--gateway", url + "/v1"], env, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(noGate.Exit == 2, noGate.ToString());
        Assert.Contains($"{model} has no ship decision of drydock gate", noGate.Stderr, StringComparison.Ordinal);

        await Cli(0, "eval", "--target", upstream.BaseUrl, "--model", "tiny", "--strategies", "none,base64", "--record", model);
        await Cli(0, "gate", "--model", model);
        var noKey = await DrydockProcess.Run(_dir.Path, ["monitor", "evaluate", "--model", "support", "--gateway", url + "/v1"], new Dictionary<string, string?> { ["DRYDOCK_MONITOR_API_KEY"] = null }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(2, noKey.Exit);
        Assert.Contains("DRYDOCK_MONITOR_API_KEY holds no gateway API key", noKey.Stderr, StringComparison.Ordinal);

        using var gateway = DrydockProcess.Start(_dir.Path, ["serve", "--upstream", upstream.BaseUrl, "--listen", url]);
        await gateway.WaitUntilListening(new Uri(url + "/healthz"));

        // The model still refuses: the figures through the gateway match the gate's.
        var sentBefore = upstream.Requests;
        var quiet = await DrydockProcess.Run(_dir.Path, ["monitor", "evaluate", "--model", "support", "--gateway", url + "/v1"], env, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(quiet.Exit == 0, quiet.ToString() + gateway.Output);
        Assert.Contains("no attack success rate rose more than monitor.evaluate-regression (0.05)", quiet.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"attack\.harmful-request\s+0\s+0\s+0\s+ok", quiet.Stdout);
        Assert.True(upstream.Requests > sentBefore, "nothing reached the model server through the gateway");

        // The model starts obeying attacks: a regression, recorded, an incident, and the alias contained.
        upstream.As = "obedient";
        var regressed = await DrydockProcess.Run(_dir.Path, ["monitor", "evaluate", "--model", "support", "--gateway", url + "/v1"], env, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(regressed.Exit == 1, regressed.ToString());
        Assert.True(Regex.IsMatch(regressed.Stdout, @"attack\.\S+\s+0\s+[01](\.\d+)?\s+\+[01](\.\d+)?\s+REGRESSION"), regressed.ToString());
        Assert.Matches(@"recorded ev-[0-9a-f]{12} against mv-[0-9a-f]{12}: \d+ answered \(\d+ blocked by the gateway\)", regressed.Stderr);
        var incident = IncidentId().Match(regressed.Stdout).Groups[1].Value;
        Assert.Contains($"{incident}: support disabled (monitor.contain: disable)", regressed.Stdout, StringComparison.Ordinal);

        // The regression reaches the gateway's own log (the alerts log its relay reads), naming its incident.
        await SignalFixture.Until(() => Task.FromResult(gateway.Output.Contains($"incidents {incident}", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200), () => $"the gateway's log has no regression alert:\n{gateway.Output}");
        var logged = Assert.Single(gateway.Output.Split('\n'), l => l.Contains($"incidents {incident}", StringComparison.Ordinal));
        Assert.Matches(@"monitoring alert: \(regression\) evaluation \(asr-rise [0-9.]+ against 0\.05; baseline 0, window [0-9.]+\)", logged);

        var timeline = (await Cli(0, "incident", "show", incident)).Stdout;
        Assert.Contains("regression, high, model:support", timeline, StringComparison.Ordinal);
        Assert.Contains("model:support disabled", timeline, StringComparison.Ordinal);
        Assert.Contains("DISABLED", (await Cli(0, "deploy")).Stdout, StringComparison.Ordinal);

        using (var registry = ProvenanceRegistry.Open(Path.Combine(_dir.Path, ".drydock", "registry.db")))
        {
            var monitored = registry.Evaluations(model).Where(e => e.Kind == "monitor-probes").ToList();
            Assert.Equal(2, monitored.Count);
            Assert.All(monitored[0].Metrics.Values, rate => Assert.Equal(0, rate));
            Assert.True(monitored[1].Metrics.Values.Max() > 0.3, string.Join(", ", monitored[1].Metrics));
            Assert.Equal($"{url}/v1 support", monitored[1].Target);
        }

        SqliteConnection.ClearAllPools();

        // The gateway itself now refuses the alias; the next scheduled run says so and sends nothing.
        var sent = upstream.Requests;
        var contained = await DrydockProcess.Run(_dir.Path, ["monitor", "evaluate", "--model", "support", "--gateway", url + "/v1"], env, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(contained.Exit == 0, contained.ToString());
        Assert.Contains("'support' is disabled (contained); nothing is evaluated", contained.Stderr, StringComparison.Ordinal);
        Assert.Equal(sent, upstream.Requests);
    }

    private async Task<ProcessResult> Cli(int exit, params string[] args)
    {
        var result = await DrydockProcess.Run(_dir.Path, args);
        Assert.True(result.Exit == exit, $"drydock {string.Join(' ', args)}: {result}");
        return result;
    }
}
