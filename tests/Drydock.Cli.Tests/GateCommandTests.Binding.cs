using System.Text.Json;
using Drydock.Evaluation.Tests;

namespace Drydock.Cli.Tests;

/// <summary>
/// Endpoint evidence bound to the model version it is recorded against: an endpoint states the digest of the model it
/// serves (as drydock serve-model does); another model's digest is refused at record, a model swapped mid-run is not
/// recorded, and an endpoint that states none counts only with <c>gate: unbound-endpoints: allow</c>.
/// </summary>
public sealed partial class GateCommandTests
{
    private const string OtherDigest = "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f";

    [Fact]
    public async Task Eval_AnEndpointServingAnotherModel_IsRefusedBeforeAnyProbe_AndNothingIsRecorded()
    {
        var model = await Project(ProbesOnly);
        var digest = Provenance.Registry.ModelDigest.Of(Path.Combine(_dir, "model")).Digest;
        await using var other = await ScriptedModel.StartAsync();
        (other.As, other.Digest) = ("refuser", OtherDigest);

        var probes = await Eval(other, model);
        Assert.True(probes.Exit == 2, probes.ToString());
        Assert.Contains($"serves a model of digest sha256:{OtherDigest}, not {model}'s sha256:{digest}", probes.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, other.Requests);
        Assert.DoesNotContain("recorded ev-", probes.Stderr, StringComparison.Ordinal);

        var memorization = await Run("eval", "memorization", "--target", other.BaseUrl, "--model", "memorizer", "--canaries", "tickets", "--candidates", "100", "--record", model);
        Assert.True(memorization.Exit == 2, memorization.ToString());
        Assert.Contains($"sha256:{OtherDigest}, not {model}'s sha256:{digest}", memorization.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, other.Requests);

        var gate = await Run("gate", "--model", model);
        Assert.Equal(1, gate.Exit);
        Assert.Contains("no probes evaluation recorded", gate.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eval_AModelSwappedMidRun_ErrorsThoseProbes_AndIsNotRecorded()
    {
        var model = await Project(ProbesOnly);
        await using var swapping = await Serving();
        (swapping.As, swapping.DigestLater, swapping.DigestAfterRequests) = ("refuser", OtherDigest, 20);

        var run = await Eval(swapping, model);
        Assert.True(run.Exit == 2, run.ToString());
        Assert.Contains($"not recorded against {model}: the endpoint stated model digest {OtherDigest} in an answer", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("the model changed mid-run", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("recorded ev-", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, (await Run("gate", "--model", model)).Exit);
    }

    [Fact]
    public async Task TheGate_CountsAnUnboundEndpoint_OnlyWithUnboundEndpointsAllow_AndSaysSo()
    {
        var model = await Project(ProbesOnly);
        await using var unbound = await ScriptedModel.StartAsync();
        unbound.As = "refuser";

        var run = await Eval(unbound, model);
        Assert.True(run.Exit == 0, run.ToString());
        Assert.Contains("states no model digest (x-drydock-model-digest)", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("gate: unbound-endpoints: allow", run.Stderr, StringComparison.Ordinal);
        var evaluation = EvaluationId().Match(run.Stderr).Groups[1].Value;

        var refused = await Run("gate", "--model", model);
        Assert.True(refused.Exit == 1, refused.ToString());
        Assert.Contains($"the newest probes evaluation {evaluation} of ", refused.Stdout, StringComparison.Ordinal);
        Assert.Contains("an endpoint not bound to the artifact (it stated no model digest", refused.Stdout, StringComparison.Ordinal);
        Assert.Contains("set gate: unbound-endpoints: allow to count such evidence", refused.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{model}: NO-SHIP", refused.Stdout, StringComparison.Ordinal);

        await File.AppendAllTextAsync(Path.Combine(_dir, "drydock.yaml"), "  unbound-endpoints: allow\n", TestContext.Current.CancellationToken);
        var table = await Run("gate", "--model", model);
        Assert.True(table.Exit == 0, table.ToString());
        Assert.Contains($"evidence  {evaluation}  probes", table.Stdout, StringComparison.Ordinal);
        Assert.Contains($"model tiny: endpoint, not bound to the artifact (allowed by gate.unbound-endpoints)", table.Stdout, StringComparison.Ordinal);

        var json = await Run("gate", "--model", model, "--format", "json");
        Assert.True(json.Exit == 0, json.ToString());
        using var decision = JsonDocument.Parse(json.Stdout);
        Assert.Equal("ship", decision.RootElement.GetProperty("decision").GetString());
        Assert.EndsWith("endpoint, not bound to the artifact (allowed by gate.unbound-endpoints)", decision.RootElement.GetProperty("evidence")[0].GetProperty("target").GetString(), StringComparison.Ordinal);
        Assert.Equal("allow", decision.RootElement.GetProperty("policy").GetProperty("unboundEndpoints").GetString());

        // A bound run of the registered model (as serve-model states it) counts without the setting.
        await File.WriteAllTextAsync(Path.Combine(_dir, "drydock.yaml"), (await File.ReadAllTextAsync(Path.Combine(_dir, "drydock.yaml"), TestContext.Current.CancellationToken)).Replace("  unbound-endpoints: allow\n", "", StringComparison.Ordinal), TestContext.Current.CancellationToken);
        await using var bound = await Serving();
        bound.As = "refuser";
        Assert.Equal(0, (await Eval(bound, model)).Exit);
        var boundGate = await Run("gate", "--model", model);
        Assert.True(boundGate.Exit == 0, boundGate.ToString());
        Assert.Contains($"model tiny sha256:{Provenance.Registry.ModelDigest.Of(Path.Combine(_dir, "model")).Digest[..12]}", boundGate.Stdout, StringComparison.Ordinal);
    }
}
