using System.Text.Json;
using Json.Schema;

namespace Drydock.Cli.Tests;

public class ReportSchemaTests
{
    // The schema registers its $id globally, so it is parsed once for all cases.
    private static readonly Lazy<JsonSchema> s_schema = new(() =>
        JsonSchema.FromText(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "scan-report.schema.json"))));

    [Theory]
    [InlineData("Golden/chat.jsonl")]
    [InlineData("Golden/empty.jsonl")]
    public async Task JsonReport_ValidatesAgainstThePublishedSchema(string input)
    {
        var schema = s_schema.Value;
        var (_, stdout, _) = await CliRunner.Run("scan", input, "--format", "json");
        var result = schema.Evaluate(JsonDocument.Parse(stdout).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, string.Join("\n", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
    }

    [Fact]
    public void Schema_RejectsAReportMissingItsFindings()
    {
        var report = JsonDocument.Parse("{\"tool\": {\"name\": \"drydock\", \"version\": \"0.1.0\"}, \"inputs\": [], \"summary\": {}, \"errors\": []}");
        Assert.False(s_schema.Value.Evaluate(report.RootElement).IsValid);
    }
}
