using Drydock.Provenance.Audit;
using Drydock.Provenance.Registry;

namespace Drydock.Provenance.Tests;

public sealed class RegistryTests
{
    private static readonly ApprovalPolicy s_policy = new(["data-owner", "security-reviewer"], "confidential");

    private const string ThreatModelText = "project: support-bot\nassets: [tickets]\n";

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void Migrations_RunOnce_AndReopeningKeepsTheSchema(string backend)
    {
        using var t = new TestRegistry(backend);
        Assert.Equal(11, t.Db.SchemaVersion);
        Assert.Equal(0, t.Db.Migrate());
        using var again = t.OpenAnother();
        Assert.Equal(11, again.Database.SchemaVersion);
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void EvaluationEvidence_IsRecordedWithItsEvaluation_AndItsDeletionFailsVerification(string backend)
    {
        using var t = new TestRegistry(backend);
        var model = t.Registry.RegisterModel("m", Manifests.Hex('e'), null, [], [], null, "alice").Model.Id;
        var legacy = t.Registry.RecordEvaluation(model, "probes", "t", new Dictionary<string, double> { ["attack.jailbreak"] = 0 }, null, "alice");
        var json = "{\"kind\":\"probes\",\"counts\":{\"planned\":10}," + new string(' ', 300) + "\"x\":1}";
        var recorded = t.Registry.RecordEvaluation(model, "probes", "t", new Dictionary<string, double> { ["attack.jailbreak"] = 0.5 }, "abc", "alice", new EvaluationEvidence(Manifests.Hex('1'), "partial", json));
        Assert.Null(legacy.Evidence);
        Assert.Equal(new EvaluationEvidence(Manifests.Hex('1'), "partial", json), recorded.Evidence);
        Assert.Equal([null, recorded.Evidence], t.Registry.Evaluations(model).Select(e => e.Evidence));
        Assert.Throws<RegistryException>(() => t.Registry.RecordEvaluation(model, "probes", "t", new Dictionary<string, double>(), null, "alice", new EvaluationEvidence("f", "done", "{}")));
        Assert.True(AuditLog.Verify(t.Db).Ok);
        t.Db.Execute("DELETE FROM evaluation_evidence");
        Assert.Contains("evaluation_evidence", AuditLog.Verify(t.Db).Problem, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void RegisterDataset_IsIdempotent_AndFindsParentsByInputHash(string backend)
    {
        using var t = new TestRegistry(backend);
        var (m1, j1) = Manifests.Make(Manifests.Hex('a'), Manifests.Hex('0'));
        var (first, created) = t.Registry.RegisterDataset(m1, j1, "tickets-v1", [], null, "alice");
        Assert.True(created);
        Assert.Equal("ds-aaaaaaaaaaaa", first.Id);
        Assert.Equal("confidential", first.Classification);
        Assert.Equal(100, first.Records);
        Assert.False(t.Registry.RegisterDataset(m1, j1, "tickets-v1", [], null, "alice").Created);

        // v2 was cleaned from v1's output: v1 is its parent without being named.
        var (m2, j2) = Manifests.Make(Manifests.Hex('b'), Manifests.Hex('a'));
        var (second, _) = t.Registry.RegisterDataset(m2, j2, "tickets-v2", [], null, "alice");
        Assert.Equal(["ds-aaaaaaaaaaaa"], second.Parents);
        Assert.Equal(second.Id, t.Registry.GetDataset("sha256:" + Manifests.Hex('b')).Id);
        Assert.Equal(second.Id, t.Registry.GetDataset("ds-bbb").Id);
        Assert.Equal(2, t.Registry.ListDatasets().Count);
        Assert.Throws<RegistryException>(() => t.Registry.GetDataset("ds-ccc"));

        var diff = DatasetDiff.Compare(first, second);
        Assert.Contains(diff, c => c.Field == "version");
        Assert.Contains(diff, c => c.Field == "inputs.tickets.jsonl");
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void Approval_NeedsAnApprovedThreatModel_TheRoles_AndASecondPerson(string backend)
    {
        using var t = new TestRegistry(backend);
        var (m, j) = Manifests.Make(Manifests.Hex('a'), Manifests.Hex('0'));
        var id = t.Registry.RegisterDataset(m, j, "tickets", [], null, "alice").Dataset.Id;

        var gate = Assert.Throws<GateException>(() => t.Registry.Approve("dataset", id, "data-owner", "approve", null, "alice", s_policy));
        Assert.Contains(gate.Reasons, r => r.StartsWith("threat-model:", StringComparison.Ordinal));

        var threat = t.Registry.RegisterThreatModel("support-bot", ThreatModelText, "carol");
        Assert.Throws<GateException>(() => t.Registry.Approve("dataset", id, "data-owner", "approve", null, "alice", s_policy)); // registered, not approved
        t.Registry.Approve("threat-model", threat.Id, "security-reviewer", "approve", null, "carol", s_policy);

        t.Registry.Approve("dataset", id, "data-owner", "approve", null, "alice", s_policy);
        var status = t.Registry.Status("dataset", id, s_policy.RequiredRoles);
        Assert.Equal("pending", status.State);
        Assert.Contains(status.Reasons, r => r.Contains("separation of duties", StringComparison.Ordinal));

        // One actor gives one of the two required approvals, whatever roles it holds: refused, naming the role it signed.
        var twice = Assert.Throws<RegistryException>(() => t.Registry.Approve("dataset", id, "security-reviewer", "approve", null, "alice", s_policy));
        Assert.Contains($"alice already approved dataset {id} as data-owner", twice.Message, StringComparison.Ordinal);
        Assert.Equal(["data-owner"], t.Registry.Approvals("dataset", id).Select(a => a.Role));

        t.Registry.Approve("dataset", id, "security-reviewer", "approve", "ledger reviewed", "bob", s_policy);
        Assert.Equal("approved", t.Registry.Status("dataset", id, s_policy.RequiredRoles).State);

        t.Registry.Approve("dataset", id, "data-owner", "reject", "owner withdrew", "dave", s_policy);
        var rejected = t.Registry.Status("dataset", id, s_policy.RequiredRoles);
        Assert.Equal("rejected", rejected.State);
        Assert.Contains("owner withdrew", rejected.Reasons[0], StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void Approval_RefusesDataClassifiedAboveTheUseCase(string backend)
    {
        using var t = new TestRegistry(backend);
        var threat = t.Registry.RegisterThreatModel("support-bot", ThreatModelText, "carol");
        t.Registry.Approve("threat-model", threat.Id, "security-reviewer", "approve", null, "carol", s_policy);

        // Cleaned under a lenient policy (regulated allowed); the project's use case now allows internal at most.
        var (m, j) = Manifests.Make(Manifests.Hex('a'), Manifests.Hex('0'), classification: "regulated", max: "regulated");
        var id = t.Registry.RegisterDataset(m, j, "cards", [], null, "alice").Dataset.Id;
        var gate = Assert.Throws<GateException>(() => t.Registry.Approve("dataset", id, "data-owner", "approve", null, "bob", s_policy with { MaxClassification = "internal" }));
        Assert.Contains(gate.Reasons, r => r.StartsWith("classification:", StringComparison.Ordinal) && r.Contains("data/tickets/** (regulated)", StringComparison.Ordinal));
        Assert.Empty(t.Registry.Approvals("dataset", id));

        // A rejection is never gated.
        t.Registry.Approve("dataset", id, "data-owner", "reject", "cards", "bob", s_policy with { MaxClassification = "internal" });
        Assert.Equal("rejected", t.Registry.Status("dataset", id, s_policy.RequiredRoles).State);
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void Models_AreTiedToDatasets_AndNeedThemApproved(string backend)
    {
        using var t = new TestRegistry(backend);
        var (m, j) = Manifests.Make(Manifests.Hex('a'), Manifests.Hex('0'));
        var dataset = t.Registry.RegisterDataset(m, j, "tickets", [], null, "alice").Dataset;
        var (model, created) = t.Registry.RegisterModel("support-lora", Manifests.Hex('f'), "base@sha256:1", [new ModelFile("adapter.safetensors", Manifests.Hex('9'), 10)], [dataset.Id], null, "alice");
        Assert.True(created);
        Assert.Equal([dataset.Id], model.Datasets);
        Assert.Equal([model.Id], t.Registry.ModelsUsing(dataset.Id).Select(x => x.Id));

        var gate = Assert.Throws<GateException>(() => t.Registry.Approve("model", model.Id, "security-reviewer", "approve", null, "bob", s_policy));
        Assert.Contains(gate.Reasons, r => r.StartsWith($"dataset: {dataset.Id} is pending", StringComparison.Ordinal));

        var up = Lineage.Of(t.Registry, model.Id, s_policy.RequiredRoles);
        Assert.Equal("model", up.Kind);
        var ds = Assert.Single(up.Children, c => c.Kind == "dataset");
        Assert.Contains(ds.Children, c => c.Kind == "source" && c.Label == "data/tickets/**" && c.Facts["classification"] == "confidential");
        Assert.Contains(ds.Children, c => c.Kind == "ledger" && c.Facts["sha256"] == Manifests.Hex('d'));

        var down = Lineage.Of(t.Registry, dataset.Id, s_policy.RequiredRoles);
        Assert.Contains(down.Children, c => c.Kind == "model" && c.Id == model.Id);
    }

    [Theory]
    [MemberData(nameof(TestRegistry.Both), MemberType = typeof(TestRegistry))]
    public void ConcurrentWriters_KeepOneUnbrokenChain(string backend)
    {
        using var t = new TestRegistry(backend);
        var threat = t.Registry.RegisterThreatModel("support-bot", ThreatModelText, "carol");
        Parallel.For(0, 4, worker =>
        {
            using var registry = t.OpenAnother();
            for (var i = 0; i < 10; i++) registry.Approve("threat-model", threat.Id, "security-reviewer", "approve", $"{worker}/{i}", $"w{worker}", s_policy);
        });
        var result = AuditLog.Verify(t.Db);
        Assert.True(result.Ok, result.Problem);
        Assert.Equal(41, result.Entries);
    }

    [Theory]
    [InlineData("postgres://drydock:hunter2-pw@db.example:5433/registry", "postgres://drydock@db.example:5433/registry")]
    [InlineData("Host=db.example;Port=5433;Username=drydock;Password=hunter2-pw;Database=registry", "postgres://drydock@db.example:5433/registry")]
    [InlineData("/srv/project/.drydock/registry.db", "/srv/project/.drydock/registry.db")]
    public void ALocationAsShown_NeverHoldsItsPassword(string location, string shown)
    {
        Assert.Equal(shown, RegistryDatabase.Shown(location));
    }
}
