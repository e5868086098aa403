using Drydock.Evaluation.Gate;
using Drydock.Tests.Shared;

namespace Drydock.Evaluation.Tests;

/// <summary>What identifies a run (the recorded model version included) and when a reference model is the target itself.</summary>
public sealed class RunIdentityTests
{
    private static RunIdentity Identity(string modelVersion) =>
        new("endpoint", "http://t/v1", null, "m", RunIdentity.Sha256("prompt"), [new SuiteIdentity("jailbreak", 1, "abc")], ["none"], "rules", "r", "1", modelVersion);

    [Fact]
    public void TheRecordedModelVersion_IsPartOfTheFingerprint()
    {
        Assert.NotEqual(Identity("mv-A").Fingerprint, Identity("mv-B").Fingerprint);
        Assert.NotEqual(Identity("mv-A").Fingerprint, Identity("none").Fingerprint);
        Assert.Equal(Identity("mv-A").Fingerprint, Identity("mv-A").Fingerprint);
        Assert.Equal("mv-A", Identity("mv-A").ToJson()["modelVersion"]!.GetValue<string>());
        Assert.Equal("none", Identity("").ToJson()["modelVersion"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("http://t:8000/v1", "m", true)]
    [InlineData("http://t:8000/v1/", "m", true)]
    [InlineData("HTTP://T:8000/v1", "M", true)]
    [InlineData("http://t:8000/v1", "base", false)]
    [InlineData("http://u:8000/v1", "m", false)]
    [InlineData("http://t:8001/v1", "m", false)]
    public void AnEndpointReference_IsTheTarget_OnlyAtTheSameUrlAndModel(string url, string model, bool same) =>
        Assert.Equal(same, TargetIdentity.Of("http://t:8000/v1", "m").IsSameModelAs(TargetIdentity.Of(url, model)));

    [Fact]
    public void AnOnnxReference_IsTheTarget_AtTheSamePathOrDigest()
    {
        using var dir = new TempDir();
        var a = Path.Combine(dir.Path, "a.onnx");
        var copy = Path.Combine(dir.Path, "copy.onnx");
        var other = Path.Combine(dir.Path, "other.onnx");
        File.WriteAllText(a, "model a");
        File.WriteAllText(copy, "model a");
        File.WriteAllText(other, "model b");
        var target = TargetIdentity.Of("onnx:" + a, "a");
        Assert.True(target.IsSameModelAs(TargetIdentity.Of("onnx:" + a, "a")));
        Assert.True(target.IsSameModelAs(TargetIdentity.Of("onnx:" + copy, "copy")));
        Assert.False(target.IsSameModelAs(TargetIdentity.Of("onnx:" + other, "other")));
        Assert.False(target.IsSameModelAs(TargetIdentity.Of("http://t/v1", "a")));
    }
}
