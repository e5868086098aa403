using Drydock.Evaluation.Privacy;

namespace Drydock.Evaluation.Tests;

// The membership refusal keeps the split's rule for mistyped numbers: a pair counts, a sequence of ids does not.
public class MistypedPairMembershipTests
{
    private static string Ticket(int n) => $"Status of ticket {n}?\nTicket {n} has shipped.";

    // Tickets 10000–10399 split 70/30 by id: each held-out ticket is one digit from several training ones, a sequence of
    // different values, not a mistyped copy; clean's held-out file of them is accepted.
    [Fact]
    public void SequentialIds_AreNotNearCopies_OfEachOther()
    {
        var members = Enumerable.Range(10000, 400).Where(n => n % 10 < 7).Select(Ticket).ToList();
        var nonMembers = Enumerable.Range(10000, 400).Where(n => n % 10 >= 7).Select(Ticket).ToList();
        Assert.Empty(NearDuplicates.Find(members, nonMembers));
    }

    // A member retyped with its long number's digits swapped is refused, among other records, and still is when the
    // members hold an exact copy of that member.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ARecordWithItsLongNumberMistyped_IsRefused(bool memberTwice)
    {
        const string Member = "Please cancel ticket 4711 today";
        List<string> members = ["Where is my refund for order 8812?", Member, "Reset the router at the north office"];
        if (memberTwice) members.Add(Member);
        var found = NearDuplicates.Find(members, ["The printer on floor two jams again", "Please cancel ticket 4171 today"]);
        Assert.Equal(new NearDuplicates.Pair(1, 1), Assert.Single(found));
        Assert.True(Drydock.Datasets.Similarity.NearDuplicateIndex.Similarity(Drydock.Datasets.Similarity.NearDuplicateIndex.Signature(Member), Drydock.Datasets.Similarity.NearDuplicateIndex.Signature("Please cancel ticket 4171 today")) < Drydock.Datasets.Similarity.NearDuplicateIndex.DefaultThreshold);
    }

    // A member retyped with its number mistyped, beside a decoy one typo from the member (among the members or the
    // non-members): the link is no pair, so not a near copy, yet the retyped record is no independent non-member.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AMistypedCopyBesideADecoy_IsReportedApart(bool decoyIsMember)
    {
        const string Member = "Please cancel ticket 4711 today";
        const string Decoy = "Please cancel ticket 4712 today";
        List<string> members = ["Where is my refund for order 8812?", Member];
        List<string> nonMembers = ["The printer on floor two jams again", "Please cancel ticket 4171 today"];
        (decoyIsMember ? members : nonMembers).Add(Decoy);
        var (copies, mistyped) = NearDuplicates.FindLinks(members, nonMembers);
        Assert.Empty(copies);
        Assert.Contains(new NearDuplicates.Pair(1, 1), mistyped);
        Assert.Equal(decoyIsMember ? 1 : 2, mistyped.Count);
    }

    // Sequential ids are reported apart too: each held-out ticket is one typo from a training ticket.
    [Fact]
    public void SequentialIds_AreReportedApart()
    {
        var members = Enumerable.Range(10000, 100).Where(n => n % 10 < 7).Select(Ticket).ToList();
        var nonMembers = Enumerable.Range(10000, 100).Where(n => n % 10 >= 7).Select(Ticket).ToList();
        var (copies, mistyped) = NearDuplicates.FindLinks(members, nonMembers);
        Assert.Empty(copies);
        Assert.Equal(nonMembers.Count, mistyped.Count);
    }
}
