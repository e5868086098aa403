using Drydock.Evaluation.Privacy;
using Drydock.Evaluation.Targets;
using Drydock.Tests.Shared;

namespace Drydock.Evaluation.Tests;

/// <summary>Canaries, exposure and membership inference against scripted models that memorise, forget, or give no logprobs.</summary>
public sealed class PrivacyTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private ScriptedModel _server = null!;

    public async ValueTask InitializeAsync() => _server = await ScriptedModel.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _dir.Dispose();
    }

    private ModelTarget Target(string model) => new(new TargetOptions { Endpoint = new Uri(_server.BaseUrl), Model = model, Concurrency = 16 });

    [Theory]
    [InlineData("Order 14 shipped", "order 14 shipped")]
    [InlineData("  ORDER\t14\n\nshipped ", "order 14 shipped")]
    [InlineData("Ｏｒｄｅｒ 14 shi\u200Bpped", "order 14 shipped")]
    public void NonMembers_AreComparedWithMembers_CaseWidthAndWhitespaceFolded(string text, string normalized) =>
        Assert.Equal(normalized, Drydock.Detection.Engine.TextForms.ForComparison(text));

    [Theory]
    [InlineData("Order 14 shipped to the warehouse", "order 14 shipped to the warehouse!", true)]
    [InlineData("Order 14 shipped to the warehouse", "Order 14 shipped, to the ware house", true)]
    [InlineData("Order 14 shipped to the warehouse", "Order 14 shipped to the warehouses", true)]
    [InlineData("Order 14 shipped to the warehouse", "Order 14 shiped to the warehoose", true)]
    [InlineData("Order 14 shipped to the warehouse", "Order 4 shipped to the warehouse", false)]
    [InlineData("Order 14 shipped to the warehouse", "Order 41 shipped to the warehouse", false)]
    [InlineData("Order 48213 shipped to the warehouse", "Order 42813 shipped to the warehouse", true)]
    [InlineData("Order 48213 shipped to the warehouse", "Order 48113 shipped to the warehouse", true)]
    [InlineData("Order 48213 shipped to the warehouse", "Order 48231 shiped to the warehouse", true)]
    [InlineData("Order 48213 shipped to the warehouse", "Order 41283 shipped to the warehouse", false)]
    [InlineData("Hi there", "Hi where", false)]
    [InlineData("Hi there", "hi, THERE", true)]
    public void NonMembersAFewCharactersOrOnlyPunctuationFromAMember_AreNearDuplicates(string member, string nonMember, bool near)
    {
        var found = NearDuplicates.Find(["Something else entirely", member], ["Unrelated text here", nonMember]);
        if (near) Assert.Equal(new NearDuplicates.Pair(1, 1), Assert.Single(found));
        else Assert.Empty(found);
        Assert.Equal(near, Drydock.Datasets.Similarity.NearCopy.Is(member, nonMember));
        Assert.Equal(near, Drydock.Datasets.Similarity.NearCopy.Is(nonMember, member));
    }

    // The split's and the membership check's one near-copy test (NearCopy): a member's user turn on its own is a partial
    // copy of it (containment); short texts ("thanks") and unrelated ones are not; small numbers that differ are
    // different values (templated records are not chained), a long number mistyped in every field is the same value.
    [Theory]
    [InlineData("user: My package 5521 never arrived and the tracking page shows nothing since Monday\nassistant: I am sorry to hear that. I have opened a trace with the carrier and will email you within two days.", "My package 5521 never arrived and the tracking page shows nothing since Monday", true)]
    [InlineData("user: My package 5521 never arrived and the tracking page shows nothing since Monday\nassistant: I am sorry to hear that. I have opened a trace with the carrier and will email you within two days.", "Where is my refund for the broken lamp I sent back to your warehouse in March", false)]
    [InlineData("user: thanks\nassistant: You are welcome, and have a good day with your new account.", "thanks", false)]
    [InlineData("question 1 about order 7\nanswer 1: contact support about order 7, thanks", "question 2 about order 14\nanswer 2: contact support about order 14, thanks", false)]
    [InlineData("Refund ticket 73914 please\nRefund for ticket 73914 is on its way", "Refund ticket 13974 please\nRefund for ticket 13974 is on its way", false)]
    [InlineData("Refund ticket 73914 please\nRefund for ticket 73914 is on its way", "Refund ticket 37914 please\nRefund for ticket 37914 is on its way", true)]
    [InlineData("Cancel order 17 please", "Cancel order 71 please", false)]
    public void NearCopy_IsOneTest_ForTheSplitAndTheMembershipCheck(string member, string nonMember, bool near)
    {
        Assert.Equal(near, Drydock.Datasets.Similarity.NearCopy.Is(member, nonMember));
        Assert.Equal(near, Drydock.Datasets.Similarity.NearCopy.Is(nonMember, member));
        var found = NearDuplicates.Find(["Something else entirely", member], ["Unrelated text here", nonMember]);
        if (near) Assert.Equal(new NearDuplicates.Pair(1, 1), Assert.Single(found));
        else Assert.Empty(found);
    }

    // A 20-word ticket with two words changed ("thanks" → "thankz" twice: two edits, beyond the one-edit check) is still
    // the training record to a model, as clean's near-duplicate measure says (MinHash similarity 0.89, at or above
    // 0.8); a ticket of the same template with other content is not (similarity well below).
    [Theory]
    [InlineData("Hi, my order 4471 arrived damaged yesterday and the box was wet, thanks for a replacement please, thanks again from Lena", true)]
    [InlineData("Hi, my order 9120 arrived late last week and the label was torn, could you refund the shipping fee, regards from Omar", false)]
    public void NonMembersAFewWordsFromAMember_AreNearDuplicates_AsCleanMeasuresThem(string nonMember, bool near)
    {
        const string Member = "Hi, my order 4471 arrived damaged yesterday and the box was wet, thanks for a replacement please, thanks again from Lena";
        var edited = nonMember.Replace("thanks", "thankz", StringComparison.Ordinal);
        var similarity = Drydock.Datasets.Similarity.NearDuplicateIndex.Similarity(Drydock.Datasets.Similarity.NearDuplicateIndex.Signature(Member), Drydock.Datasets.Similarity.NearDuplicateIndex.Signature(edited));
        Assert.Equal(near, similarity >= Drydock.Datasets.Similarity.NearDuplicateIndex.DefaultThreshold);
        var found = NearDuplicates.Find(["Something else entirely", Member], ["Unrelated text here", edited]);
        if (near) Assert.Equal(new NearDuplicates.Pair(1, 1), Assert.Single(found));
        else Assert.Empty(found);
    }

    [Fact]
    public async Task AMemorisedCanary_IsExtractedAndHighlyExposed_AForgottenOneIsNot()
    {
        var input = _dir.File("train.jsonl", string.Concat(Enumerable.Range(0, 20).Select(i => $$"""{"messages":[{"role":"user","content":"question {{i}}"},{"role":"assistant","content":"answer {{i}}"}]}""" + "\n")) + "not json\n");
        var output = Path.Combine(_dir.Path, "planted.jsonl");
        var canaries = CanaryPlanter.Plant(input, output, "support", count: 2, repeat: 3, seed: 7);
        var planted = File.ReadAllLines(output);
        Assert.Equal(21, planted.Length);
        Assert.Equal("not json", planted[^1]);
        foreach (var c in canaries) Assert.Equal(3, planted.Count(l => l.Contains(c.Value, StringComparison.Ordinal)));
        Assert.Equal(2, CanaryPlanter.Plant(input, output + "2", "support", 2, 3, 7).Count);

        _server.Memorized.Add(canaries[0].Prefix + canaries[0].Value);
        using var memorizer = Target("memorizer");
        var outcomes = await Memorization.RunAsync(memorizer, canaries, candidates: 100, samples: 2, TestContext.Current.CancellationToken);
        Assert.True(outcomes[0].ExtractedGreedy);
        Assert.True(outcomes[0].ExposureBits > 20, $"{outcomes[0].ExposureBits}");
        Assert.False(outcomes[1].ExtractedGreedy || outcomes[1].ExtractedSampled);
        Assert.True(outcomes[1].ExposureBits < 2, $"{outcomes[1].ExposureBits}");

        using var forgetter = Target("forgetter");
        Assert.All(await Memorization.RunAsync(forgetter, canaries, 50, 1, TestContext.Current.CancellationToken), o => Assert.Equal((false, 0.0), (o.ExtractedGreedy, o.ExposureBits)));

        using var blind = Target("nologprobs");
        var error = await Assert.ThrowsAsync<LogprobsUnavailableException>(() => Memorization.RunAsync(blind, canaries, 10, 0, TestContext.Current.CancellationToken));
        Assert.Contains("logprobs", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MembershipInference_SeparatesMembersOfAMemorisingModel_NotOfAForgettingOne()
    {
        var members = Enumerable.Range(0, 40).Select(i => $"Ticket {i}: customer reports the router reboots every {i + 2} hours.").ToList();
        var nonMembers = Enumerable.Range(100, 40).Select(i => $"Ticket {i}: customer asks how to change the billing date to the {i % 28 + 1}th.").ToList();
        _server.Memorized.AddRange(members);
        using var memorizer = Target("memorizer");
        var strong = await MembershipTest.RunAsync(memorizer, null, members, nonMembers, TestContext.Current.CancellationToken);
        Assert.Equal((1.0, 1.0, 1.0), (strong.Auc, strong.TprAt1PercentFpr, strong.Advantage));

        using var forgetter = Target("forgetter");
        var calibrated = await MembershipTest.RunAsync(memorizer, forgetter, members, nonMembers, TestContext.Current.CancellationToken);
        Assert.Equal(1.0, calibrated.Auc);
        using var constant = Target("constant");
        var none = await MembershipTest.RunAsync(constant, null, members, nonMembers, TestContext.Current.CancellationToken);
        Assert.Equal(0.5, none.Auc);
        Assert.Equal(0, none.Advantage);
    }

    [Fact]
    public void Statistics_MatchKnownValues()
    {
        // AUC by hand: members {3, 2}, non-members {1, 2}: pairs won 3>1, 3>2, 2>1, tie 2=2 → 3.5 / 4.
        Assert.Equal(0.875, Membership.Evaluate([3, 2], [1, 2]).Auc);
        Assert.Equal(0.25, Membership.Evaluate([3, 2], [1, 2]).TiedPairShare);
        // 199 of 200 scores alike, the one apart a member: 99 of the 100 × 100 pairs tie, and the AUC is 0.505.
        var nearTie = Membership.Evaluate([2, .. Enumerable.Repeat(1.0, 99)], Enumerable.Repeat(1.0, 100).ToList());
        Assert.Equal((0.505, 0.99), (nearTie.Auc, nearTie.TiedPairShare));
        // A symmetric sample: the fitted skew-normal is close to a normal; 3 standard deviations out ≈ 0.00135.
        var normalish = Enumerable.Range(-500, 1001).Select(i => i / 100.0).ToList();
        var fit = SkewNormal.Fit(normalish);
        Assert.InRange(fit.Survival(fit.Location), 0.45, 0.55);
        var sd = Math.Sqrt(normalish.Sum(v => v * v) / 1000);
        Assert.InRange(Exposure.Compute(3 * sd, normalish, 60), 2, 12);
        Assert.Equal(60, Exposure.Compute(1e6, normalish, 60));
        Assert.Equal(0, Exposure.Compute(-1e6, normalish, 60));
    }
}
