using System.Runtime.CompilerServices;
using Drydock.Tests.Shared;

namespace Drydock.Training.Tests;

/// <summary>Training's public API is tracked in PublicApi.approved.txt.</summary>
public class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesApprovedList() =>
        PublicApi.AssertApproved(typeof(Drydock.Training.TrainingPlan).Assembly, Path.Combine(SourceDirectory(), "PublicApi.approved.txt"));

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
