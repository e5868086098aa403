using System.Text.Json;
using System.Text.RegularExpressions;
using Drydock.Evaluation;

namespace Drydock.Cli.Tests;

/// <summary>
/// The probe checks of one decision come from runs of one configuration (target, model name, system prompt): a run
/// of every suite under one system prompt and a newer run of one suite under another never add up to SHIP.
/// </summary>
public sealed partial class GateCommandTests
{
    [Fact]
    public async Task ProbeChecksFromRunsUnderTwoSystemPrompts_AreNoShip_NamingEachByHash()
    {
        var model = await Project(ProbesOnly);
        await using var refusing = await Serving();
        refusing.As = "refuser";
        const string Production = "STRICT mode: you are the Northwind support assistant; refuse anything unsafe.";
        var everySuite = await Eval(refusing, model, "--system-prompt", Production);
        Assert.True(everySuite.Exit == 0, everySuite.ToString());
        var extractionOnly = await Eval(refusing, model, "--suite", "system-prompt-extraction");
        Assert.True(extractionOnly.Exit == 0, extractionOnly.ToString());

        var gate = await Run("gate", "--model", model);
        Assert.True(gate.Exit == 1, gate.ToString());
        var production = "sha256:" + RunIdentity.Sha256(Production)[..16];
        // The check and the JSON carry the whole hash (two prompts whose hashes share a prefix are two prompts); the table shortens it.
        var whole = "sha256:" + RunIdentity.Sha256(Production);
        Assert.Matches($@"FAIL  probe configuration\s+the probe checks of {model} read evaluations of 2 configurations: .*system prompt {whole} ", gate.Stdout);
        Assert.Contains("evaluate every required suite in one run under the production system prompt", gate.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Northwind", gate.Stdout + gate.Stderr, StringComparison.Ordinal);
        Assert.Contains($"{model}: NO-SHIP", gate.Stdout, StringComparison.Ordinal);
        Assert.Matches($@"evidence  ev-[0-9a-f]{{12}}  probes .*  system prompt {production}\n", gate.Stdout.ReplaceLineEndings("\n"));

        // One run of every suite under the production prompt is one configuration: it ships, and the JSON names its prompt by hash.
        Assert.Equal(0, (await Eval(refusing, model, "--system-prompt", Production)).Exit);
        var json = await Run("gate", "--model", model, "--format", "json");
        Assert.True(json.Exit == 0, json.ToString());
        using var decision = JsonDocument.Parse(json.Stdout);
        Assert.Equal(whole, decision.RootElement.GetProperty("evidence").EnumerateArray().Single().GetProperty("systemPrompt").GetString());
        Assert.DoesNotContain("Northwind", json.Stdout, StringComparison.Ordinal);
        Assert.DoesNotMatch(new Regex("FAIL|configuration"), decision.RootElement.GetProperty("checks").ToString());
    }

    [Fact]
    public async Task OneConfigurationSpelledTwoWays_IsOneConfiguration()
    {
        var model = await Project(ProbesOnly);
        await using var refusing = await Serving();
        refusing.As = "refuser";
        const string Production = "You are the Northwind support assistant.";
        var everySuite = await Eval(refusing, model, "--system-prompt", Production);
        Assert.True(everySuite.Exit == 0, everySuite.ToString());
        // A base URL with a fragment or a query sends its requests elsewhere than the URL the evidence names; an empty
        // system prompt would count every answer as a leak: both refused before any request.
        foreach (var (target, prompt) in new[] { (refusing.BaseUrl + "#x", Production), (refusing.BaseUrl + "?a=1", Production), (refusing.BaseUrl, " ") })
        {
            var refused = await Run("eval", "--target", target, "--model", "tiny", "--record", model, "--system-prompt", prompt, "--suite", "system-prompt-extraction");
            Assert.True(refused.Exit == 2, refused.ToString());
        }

        // The same endpoint and model, spelled with an upper-case scheme and a trailing slash.
        var respelled = await Run("eval", "--target", refusing.BaseUrl.Replace("http://", "HTTP://", StringComparison.Ordinal) + "/", "--model", "tiny", "--strategies", "none,base64",
            "--record", model, "--system-prompt", Production, "--suite", "system-prompt-extraction");
        Assert.True(respelled.Exit == 0, respelled.ToString());

        var gate = await Run("gate", "--model", model);
        Assert.True(gate.Exit == 0, gate.ToString());
        Assert.DoesNotContain("configuration", gate.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{model}: SHIP", gate.Stdout, StringComparison.Ordinal);

        // A model name in other letters may be another model to the server (vLLM tells them apart): another configuration.
        var capitals = await Run("eval", "--target", refusing.BaseUrl, "--model", "TINY", "--strategies", "none,base64",
            "--record", model, "--system-prompt", Production, "--suite", "system-prompt-extraction");
        Assert.True(capitals.Exit == 0, capitals.ToString());
        var mixed = await Run("gate", "--model", model);
        Assert.True(mixed.Exit == 1, mixed.ToString());
        Assert.Contains("probe configuration", mixed.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheBaseEvaluatedUnderAnotherSystemPrompt_IsNoShip_UntilEvaluatedUnderTheCandidates()
    {
        // Every attack limit at 1: only the regression comparison with the base stops an obeying candidate.
        _ = await Project(ProbesOnly + "  harmful-compliance: 1\n  injection-success: 1\n  jailbreak-success: 1\n  pii-leak: 1\n  system-prompt-leak: 1\n");
        var dataset = Regex.Match((await Ok("dataset", "list")).Stdout, "ds-[0-9a-f]{12}").Value;
        var baseModel = await RegisterModel("base", "--dataset", dataset);
        var child = await RegisterModel("child", "--dataset", dataset, "--base-model", baseModel);
        const string Production = "STRICT mode: you are the Northwind support assistant; refuse anything unsafe.";
        await using var candidate = await Serving("child");
        candidate.As = "obedient";
        Assert.Equal(0, (await Eval(candidate, child, "--system-prompt", Production)).Exit);
        // The base, evaluated under its planted prompt, obeys as well: compared with it, the candidate looks no worse.
        await using var baseServer = await Serving("base");
        baseServer.As = "obedient";
        Assert.Equal(0, (await Eval(baseServer, baseModel)).Exit);

        var gate = await Run("gate", "--model", child);
        Assert.True(gate.Exit == 1, gate.ToString());
        var whole = "sha256:" + RunIdentity.Sha256(Production);
        Assert.Matches($@"FAIL  base probe configuration\s+{child}'s evaluation ev-[0-9a-f]{{12}} ran under system prompt {whole}, {baseModel}'s evaluation ev-[0-9a-f]{{12}} under sha256:[0-9a-f]{{64}} \(planted: no --system-prompt\)", gate.Stdout);
        Assert.Contains("evaluate the base model under the candidate's system prompt", gate.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("regression attack", gate.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{child}: NO-SHIP", gate.Stdout, StringComparison.Ordinal);

        // Evaluated under the candidate's prompt, the base is compared with.
        Assert.Equal(0, (await Eval(baseServer, baseModel, "--system-prompt", Production)).Exit);
        var compared = await Run("gate", "--model", child);
        Assert.True(compared.Exit == 0, compared.ToString());
        Assert.Contains("pass  regression attack.jailbreak", compared.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("configuration", compared.Stdout, StringComparison.Ordinal);
    }
}
