using Drydock.Gateway.Guards;

namespace Drydock.Gateway.Tests;

/// <summary>
/// The index leaves out what a reference (the held-out split: records of the same data never trained on) holds: a
/// template reply that only one or two training tickets hold was a hit in any answer in the data's style, though it
/// repeats no record; a ticket's own words are still found, as before.
/// </summary>
public sealed class RegurgitationReferenceTests
{
    private const string Reply = "Open the payment in the app and choose Dispute, and we reply within ten working days.";

    private static readonly (string Id, string Text)[] s_training =
    [
        ("ds-1#t1", "Hi, this is Samuel Okafor from flat 12 on Harbour Road, my card was charged twice. " + Reply),
        ("ds-1#t2", "Please move my appointment at the Rotterdam branch from Tuesday morning to Friday afternoon. Done, see you on Friday."),
    ];

    private static readonly string[] s_heldOut = ["Hello, a shop charged my card for a lamp I never received. " + Reply];

    [Fact]
    public void AnAnswerInTheDataStyle_IsNoHit_WhenTheHeldOutSplitHoldsItsReply()
    {
        var answer = "Good question. A shop took money for a parcel that never came? " + Reply;
        var without = RegurgitationIndex.Build("mv-1", ["ds-1"], s_training, key: 5);
        Assert.Equal("ds-1#t1", without.Find(answer)?.Record);

        var with = RegurgitationIndex.Build("mv-1", ["ds-1"], s_training, key: 5, reference: s_heldOut);
        Assert.Null(with.Find(answer));
        Assert.True(with.Count < without.Count);
    }

    [Fact]
    public void ATicketsOwnWords_AreStillFound_WithTheReference()
    {
        var index = RegurgitationIndex.Build("mv-1", ["ds-1"], s_training, key: 5, reference: s_heldOut);
        var own = "From memory: Hi, this is Samuel Okafor from flat 12 on Harbour Road, my card was charged twice.";
        var hit = index.Find(own);
        Assert.Equal("ds-1#t1", hit?.Record);
        Assert.Equal("Hi, this is Samuel Okafor from flat 12 on Harbour Road, my card was charged twice", own[hit!.Value.Start..hit.Value.End]);
        Assert.Equal("ds-1#t2", index.Find("Sure: " + s_training[1].Text)?.Record);
    }
}
