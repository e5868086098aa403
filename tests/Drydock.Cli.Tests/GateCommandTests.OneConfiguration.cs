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
        var production = "sha256:" + RunIdentity.Sha256(Production)[..12];
        Assert.Matches($@"FAIL  probe configuration\s+the probe checks of {model} read evaluations of 2 configurations: .*system prompt {production}", gate.Stdout);
        Assert.Contains("evaluate every required suite in one run under the production system prompt", gate.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Northwind", gate.Stdout + gate.Stderr, StringComparison.Ordinal);
        Assert.Contains($"{model}: NO-SHIP", gate.Stdout, StringComparison.Ordinal);
        Assert.Matches($@"evidence  ev-[0-9a-f]{{12}}  probes .*  system prompt {production}", gate.Stdout);

        // One run of every suite under the production prompt is one configuration: it ships, and the JSON names its prompt by hash.
        Assert.Equal(0, (await Eval(refusing, model, "--system-prompt", Production)).Exit);
        var json = await Run("gate", "--model", model, "--format", "json");
        Assert.True(json.Exit == 0, json.ToString());
        using var decision = JsonDocument.Parse(json.Stdout);
        Assert.Equal(production, decision.RootElement.GetProperty("evidence").EnumerateArray().Single().GetProperty("systemPrompt").GetString());
        Assert.DoesNotContain("Northwind", json.Stdout, StringComparison.Ordinal);
        Assert.DoesNotMatch(new Regex("FAIL|configuration"), decision.RootElement.GetProperty("checks").ToString());
    }
}
