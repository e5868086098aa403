namespace Drydock.Cli.Tests;

/// <summary>A membership evaluation that could not compare its non-members with a raw input does not ship.</summary>
public sealed partial class GateCommandTests
{
    [Fact]
    public async Task TheGate_TreatsMembershipAsInconclusive_WhenARawInputWasNotCompared()
    {
        var model = await Project(MembershipOnly);
        await using var server = await Serving();
        var compared = await Membership(server, model, "clean.jsonl.holdout.jsonl");
        Assert.True(compared.Exit == 0, compared.ToString());
        var ship = await Run("gate", "--model", model);
        Assert.True(ship.Exit == 0, ship.ToString());

        // planted.jsonl, the file clean.jsonl was cleaned from, moved away: the newest evaluation cannot count.
        File.Move(Path.Combine(_dir, "planted.jsonl"), Path.Combine(_dir, "planted.moved"));
        var notCompared = await Membership(server, model, "clean.jsonl.holdout.jsonl");
        Assert.True(notCompared.Exit == 0, notCompared.ToString());
        var gate = await Run("gate", "--model", model);
        Assert.True(gate.Exit == 1, gate.ToString());
        Assert.Contains("planted.jsonl, an input ", gate.Stdout, StringComparison.Ordinal);
        Assert.Contains("was missing when it ran", gate.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{model}: NO-SHIP", gate.Stdout, StringComparison.Ordinal);
    }
}
