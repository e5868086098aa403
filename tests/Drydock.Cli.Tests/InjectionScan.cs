using System.Text;
using System.Text.Json;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// The scan set-up the injection process tests share: records of one user message each, written to a file, scanned by
/// the built CLI in its own process, and the ids of the records it reported an injection in.
/// </summary>
internal static class InjectionScan
{
    /// <summary>
    /// Writes <paramref name="records"/> to <paramref name="file"/> in <paramref name="dir"/> and runs <c>drydock scan</c>
    /// on it with <paramref name="options"/> and <c>--format json</c>; the run (which must not have failed on its input)
    /// and the ids of the records with an <c>injection</c> finding.
    /// </summary>
    public static async Task<(ProcessResult Result, HashSet<string?> Injected)> Run(TempDir dir, string file, IEnumerable<(string Id, string Text)> records, string[] options, TimeSpan? timeout = null)
    {
        var text = new StringBuilder();
        foreach (var (id, content) in records)
        {
            text.Append(JsonSerializer.Serialize(new { id, messages = new[] { new { role = "user", content } } })).Append('\n');
        }

        var input = dir.File(file, text.ToString());
        var result = await DrydockProcess.Run(dir.Path, ["scan", input, .. options, "--format", "json"], timeout: timeout, cancellationToken: TestContext.Current.CancellationToken);
        Assert.NotEqual(2, result.Exit);
        using var report = JsonDocument.Parse(result.Stdout);
        var injected = report.RootElement.GetProperty("findings").EnumerateArray()
            .Where(f => f.GetProperty("category").GetString() == "injection")
            .Select(f => f.GetProperty("recordId").GetString())
            .ToHashSet(StringComparer.Ordinal);
        return (result, injected);
    }
}
