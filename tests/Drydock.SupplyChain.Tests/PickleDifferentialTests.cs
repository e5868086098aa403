using Drydock.SupplyChain.ModelFiles;

namespace Drydock.SupplyChain.Tests;

/// <summary>
/// Disagreements found by bench/fuzz/pickle-differential.py (the scanner called a pickle safe that Python's own
/// unpickler read as asking for a global outside the allow-list), kept as regression tests.
/// </summary>
public sealed class PickleDifferentialTests
{
    // Protocol 0 text GLOBAL with CRLF line ends: Python drops only the '\n' and asks for "collections\r"."OrderedDict\r";
    // the scanner dropped the '\r' too and matched the allow-list's collections.OrderedDict.
    [Fact]
    public void Global_CarriageReturnInTheName_IsNotTheAllowListedName()
    {
        var pickle = new PickleBuilder().Op('c').Line("collections\r").Line("OrderedDict\r").EmptyTuple().Reduce().Stop().Bytes;
        var findings = PickleScanner.Scan(pickle, "m.pkl", null).Findings;
        Assert.Contains(findings, f => f.Type == "pickle-callable" && f.Message.Contains("collections\r.OrderedDict\r", StringComparison.Ordinal));
    }

    [Fact]
    public void Global_WithoutCarriageReturn_IsStillAllowed()
    {
        var pickle = new PickleBuilder().Global("collections", "OrderedDict").EmptyTuple().Reduce().Stop().Bytes;
        Assert.Empty(PickleScanner.Scan(pickle, "m.pkl", null).Findings);
    }
}
