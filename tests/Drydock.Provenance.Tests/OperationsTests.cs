using Drydock.Provenance.Audit;
using Drydock.Provenance.Registry;

namespace Drydock.Provenance.Tests;

/// <summary>Deployments (deploy, kill switch, revert), incidents and canaries in the registry, on both engines.</summary>
public sealed class OperationsTests
{
    private static readonly ApprovalPolicy s_policy = new(["security-reviewer"], "confidential");

    private static string ApprovedModel(TestRegistry t, char digit, string name)
    {
        var id = t.Registry.RegisterModel(name, Manifests.Hex(digit), null, [], [], null, "alice").Model.Id;
        t.Registry.Approve("model", id, "security-reviewer", "approve", null, "bob", s_policy);
        return id;
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void Deploy_NeedsAnApprovedModel_AndRevertGoesBackOneApprovedVersionAtATime(string backend)
    {
        using var t = new TestRegistry(backend);
        var pending = t.Registry.RegisterModel("support-v0", Manifests.Hex('0'), null, [], [], null, "alice").Model.Id;
        var refused = Assert.Throws<GateException>(() => t.Registry.Deploy("support", pending, null, null, "ops", s_policy));
        Assert.Contains("no approval yet", refused.Message, StringComparison.Ordinal);

        var v1 = ApprovedModel(t, '1', "support-v1");
        var v2 = ApprovedModel(t, '2', "support-v2");
        var v3 = ApprovedModel(t, '3', "support-v3");
        t.Registry.Deploy("support", v1, null, "first release", "ops", s_policy);
        t.Registry.Deploy("support", v2, null, null, "ops", s_policy);
        var current = t.Registry.Deploy("support", v3, "support-v3-awq", null, "ops", s_policy);
        Assert.Equal((true, v3, "support-v3-awq"), (current.Enabled, current.ModelId, current.UpstreamModel));

        var disabled = t.Registry.Disable("support", "canary seen", "ops");
        Assert.False(disabled.Enabled);
        Assert.Equal(v3, disabled.ModelId);

        var back = t.Registry.Revert("support", "canary seen", "ops", s_policy);
        Assert.Equal((true, v2, "support-v2"), (back.Enabled, back.ModelId, back.UpstreamModel));
        // A second revert goes further back, never to the version reverted away from.
        Assert.Equal(v1, t.Registry.Revert("support", null, "ops", s_policy).ModelId);
        Assert.Throws<RegistryException>(() => t.Registry.Revert("support", null, "ops", s_policy));
        Assert.Throws<RegistryException>(() => t.Registry.Revert("never-deployed", null, "ops", s_policy));

        // Kill switch on a pass-through name (never deployed): recorded without a model.
        var passThrough = t.Registry.Disable("tiny", null, "ops");
        Assert.Equal((false, (string?)null), (passThrough.Enabled, passThrough.ModelId));
        Assert.True(t.Registry.Enable("tiny", null, "ops", s_policy).Enabled);
        Assert.Equal(["support", "tiny"], t.Registry.Deployments().Select(d => d.Alias).Order(StringComparer.Ordinal));

        var actions = AuditLog.Query(t.Db, new AuditFilter(Limit: 100)).Select(e => e.Action).ToList();
        Assert.Contains("deployment.revert", actions);
        Assert.Contains("deployment.disable", actions);
        Assert.True(AuditLog.Verify(t.Db).Ok);
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void Enable_RefusesAVersionNoLongerApproved_AndRevertRefusesTheSameUpstreamName(string backend)
    {
        using var t = new TestRegistry(backend);
        var v1 = ApprovedModel(t, '1', "support-v1");
        var v2 = ApprovedModel(t, '2', "support-v2");
        t.Registry.Deploy("support", v1, "support-awq", null, "ops", s_policy);
        t.Registry.Deploy("support", v2, "support-awq", null, "ops", s_policy);
        var same = Assert.Throws<RegistryException>(() => t.Registry.Revert("support", null, "ops", s_policy));
        Assert.Contains("same upstream model name 'support-awq'", same.Message, StringComparison.Ordinal);

        t.Registry.Disable("support", "canary seen", "ops");
        t.Registry.Approve("model", v2, "security-reviewer", "reject", "memorised tickets", "carol", s_policy);
        var refused = Assert.Throws<GateException>(() => t.Registry.Enable("support", null, "ops", s_policy));
        Assert.Contains($"{v2} is rejected", refused.Message, StringComparison.Ordinal);
        Assert.False(t.Registry.Deployment("support")!.Enabled);
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void Incidents_KeepATimeline_AndCanariesOnlyTheirHash(string backend)
    {
        using var t = new TestRegistry(backend);
        var id = t.Registry.OpenIncident("canary-leak", "critical", "model:support", "canary in an answer", "gateway");
        t.Registry.RecordIncident(id, "contained", "model:support disabled", "carol");
        t.Registry.RecordIncident(id, "closed", "retrained without the leaking records", "carol");
        var timeline = t.Registry.Incident(id);
        Assert.Equal(["opened", "contained", "closed"], timeline.Select(e => e.Action));
        Assert.All(timeline, e => Assert.Equal(("canary-leak", "critical", "model:support"), (e.Kind, e.Severity, e.Subject)));
        Assert.Throws<RegistryException>(() => t.Registry.RecordIncident(id, "reopened", null, "carol"));
        Assert.Throws<RegistryException>(() => t.Registry.Incident("in-missing"));
        Assert.Single(t.Registry.Incidents());

        var canary = t.Registry.RegisterCanary("tickets v3", Manifests.Hex('c'), null, "alice");
        Assert.Equal(Manifests.Hex('c'), Assert.Single(t.Registry.Canaries()).Sha256);
        Assert.Equal(canary.Id, t.Registry.Canaries()[0].Id);
        Assert.True(AuditLog.Verify(t.Db).Ok);
    }
}
