using System.Text;
using System.Text.Json.Nodes;
using Drydock.Evaluation.Gate;
using Drydock.Evaluation.Probes;
using Drydock.Provenance.Registry;
using Drydock.Provenance.Signing;

namespace Drydock.Evaluation.Tests;

/// <summary>The gate's <c>max-epsilon</c>: the ε in the model version's signed statement, as <c>drydock train run</c> records it.</summary>
public sealed class PrivacyGateTests
{
    private const string At = "2026-11-28T10:00:00.000Z";

    private static readonly GatePolicy s_policy = new GatePolicy(GatePolicy.Default.Thresholds.ToDictionary(t => t.Key, t => t.Key == "membership-auc" ? t.Value : null), 5) { MaxEpsilon = 4 };

    // A model version whose DSSE envelope carries a model statement with (or without) a privacy section.
    private static ModelRecord Model(JsonObject? privacy)
    {
        var statement = Dsse.Statement([new Subject("m/model.onnx", new string('c', 64))], Dsse.ModelPredicate, w =>
        {
            var predicate = new JsonObject { ["modelId"] = "mv-1", ["run"] = new JsonObject { ["plan"] = "tp-1" } };
            if (privacy is not null) predicate["privacy"] = privacy;
            System.Text.Json.JsonDocument.Parse(predicate.ToJsonString()).WriteTo(w);
        });
        var envelope = new JsonObject { ["payloadType"] = Dsse.PayloadType, ["payload"] = Convert.ToBase64String(statement), ["signatures"] = new JsonArray() }.ToJsonString();
        return new ModelRecord("mv-1", "tuned", new string('c', 64), null, [], [], envelope, "alice", At);
    }

    private static EvaluationRecord Membership() =>
        new("ev-1", "mv-1", "membership", "t", new Dictionary<string, double> { ["membership.auc"] = 0.52 }, null, "alice", At)
        {
            Evidence = EvidenceBuilder.Privacy("membership", new TargetIdentity("endpoint", "http://t/v1", null, "m"), new JsonObject { ["membersFromLineage"] = true, ["disjoint"] = true, ["mistypedChecked"] = true },
                new JsonObject { ["members"] = 100, ["nonMembers"] = 100, ["distinctScores"] = 200, ["tiedPairShare"] = 0.0, ["probes"] = 200, ["errors"] = 0 }, "1"),
        };

    private static GateCheck Decide(ModelRecord model) =>
        Assert.Single(ReleaseGate.Decide(model, [Membership()], null, null, s_policy, [.. ProbeSuite.BuiltIn.Select(ProbeSuite.Load)]).Checks, c => c.Name == "max-epsilon");

    [Fact]
    public void MaxEpsilon_PassesARecordedEpsilonWithinTheLimit()
    {
        var check = Decide(Model(new JsonObject { ["epsilon"] = 3.2, ["delta"] = 1e-5 }));
        Assert.True(check.Passed, check.Evidence);
        Assert.Contains("privacy.epsilon = 3.2", check.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void MaxEpsilon_RecordsTheObservedBoundOfTheMembershipAudit_BesideTheGuarantee()
    {
        var audited = Membership() with { Metrics = new Dictionary<string, double> { ["membership.auc"] = 0.52, ["membership.observed-epsilon"] = 0.9 } };
        var checks = ReleaseGate.Decide(Model(new JsonObject { ["epsilon"] = 3.2, ["delta"] = 1e-5 }), [audited], null, null, new GatePolicy(GatePolicy.Default.Thresholds.ToDictionary(t => t.Key, t => t.Key == "membership-auc" ? t.Value : null), 5) { MaxEpsilon = 4, AllowUnboundEndpoints = true }, [.. ProbeSuite.BuiltIn.Select(ProbeSuite.Load)]).Checks;
        var epsilon = Assert.Single(checks, c => c.Name == "max-epsilon");
        Assert.Contains("privacy.epsilon = 3.2", epsilon.Evidence, StringComparison.Ordinal);
        Assert.Contains("observed ε ≥ 0.9 (the attack's audit in evaluation ev-1)", epsilon.Evidence, StringComparison.Ordinal);
        Assert.Contains(checks, c => c.Evidence.Contains("membership.auc", StringComparison.Ordinal) && c.Evidence.Contains("observed ε ≥ 0.9", StringComparison.Ordinal));
    }

    [Fact]
    public void MaxEpsilon_FailsALargerEpsilon() => Assert.False(Decide(Model(new JsonObject { ["epsilon"] = 7.9, ["delta"] = 1e-5 })).Passed);

    [Fact]
    public void MaxEpsilon_FailsAModelTrainedWithoutDp()
    {
        var check = Decide(Model(null));
        Assert.False(check.Passed);
        Assert.Contains("not trained with differential privacy", check.Evidence, StringComparison.Ordinal);
        Assert.False(Decide(new ModelRecord("mv-1", "tuned", new string('c', 64), null, [], [], null, "alice", At)).Passed);
        Assert.False(Decide(new ModelRecord("mv-1", "tuned", new string('c', 64), null, [], [], "{\"payloadType\": 1}", "alice", At)).Passed);
    }

    [Fact]
    public void MaxEpsilon_IsReadStrictly_AndRecordedInThePolicy()
    {
        var dir = Directory.CreateTempSubdirectory();
        try
        {
            var path = Path.Combine(dir.FullName, "d.yaml");
            File.WriteAllText(path, "gate:\n  membership-auc: 0.6\n  max-epsilon: 8\n");
            var policy = GatePolicy.From(Detection.Configuration.ConfigReader.Load(path, Detection.Configuration.ConfigShape.Map(("gate", GatePolicy.Shape)))["gate"]);
            Assert.Equal(8, policy.MaxEpsilon);
            Assert.Equal(8, (double)policy.ToJson([])["maxEpsilon"]!);
            Assert.False(GatePolicy.Default.ToJson([]).ContainsKey("maxEpsilon"));
            File.WriteAllText(path, "gate:\n  membership-auc: 0.6\n  max-epsilon: 0\n");
            var error = Assert.ThrowsAny<Exception>(() => GatePolicy.From(Detection.Configuration.ConfigReader.Load(path, Detection.Configuration.ConfigShape.Map(("gate", GatePolicy.Shape)))["gate"]));
            Assert.Contains("max-epsilon", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
