using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using YamlDotNet.RepresentationModel;

namespace Drydock.Cli.Tests;

public sealed class CleanCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drydock-clean-" + Guid.NewGuid().ToString("N"));

    public CleanCommandTests()
    {
        Directory.CreateDirectory(_dir);
        Environment.SetEnvironmentVariable("DRYDOCK_REDACTION_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("DRYDOCK_REDACTION_KEY", null);
        Directory.Delete(_dir, recursive: true);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private const string Records = """
        {"id": "1", "messages": [{"role": "user", "content": "My email is jane.roe@harbor-mail.net, please update it."}, {"role": "assistant", "content": "Done."}]}
        {"id": "2", "messages": [{"role": "user", "content": "Card 4539 1488 0343 6467 was declined."}, {"role": "assistant", "content": "Sorry."}]}
        {"id": "3", "messages": [{"role": "user", "content": "What are your opening hours on Saturday?"}, {"role": "assistant", "content": "Nine to five."}]}

        """;

    [Fact]
    public async Task Clean_ChatFile_WritesAllOutputsAndSummary()
    {
        var input = Write("in.jsonl", Records);
        var output = Path.Combine(_dir, "out.jsonl");
        var (exit, _, stderr) = await CliRunner.Run("clean", input, "-o", output);
        Assert.Equal(0, exit);
        Assert.Contains("3 records", stderr, StringComparison.Ordinal);
        Assert.Contains("2 kept, 1 quarantined", stderr, StringComparison.Ordinal);
        Assert.Contains("[EMAIL]", await File.ReadAllTextAsync(output, TestContext.Current.CancellationToken), StringComparison.Ordinal);
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(output + ".manifest.json", TestContext.Current.CancellationToken));
        Assert.StartsWith("sha256:", manifest.RootElement.GetProperty("datasetVersion").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, manifest.RootElement.GetProperty("quarantine").GetProperty("records").GetInt32());
        foreach (var (name, file) in new[] { ("output", output), ("quarantine", output + ".quarantine.jsonl"), ("ledger", output + ".ledger.jsonl") })
        {
            var onDisk = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken)));
            Assert.Equal(onDisk, manifest.RootElement.GetProperty(name).GetProperty("sha256").GetString());
        }
        Assert.Empty(Directory.EnumerateFiles(_dir, "*.tmp"));
    }

    [Fact]
    public async Task Clean_MalformedRecord_Exit2UnlessAllowed()
    {
        var input = Write("in.jsonl", Records + "{not json\n");
        var output = Path.Combine(_dir, "out.jsonl");
        var (exit, _, stderr) = await CliRunner.Run("clean", input, "-o", output);
        Assert.Equal(2, exit);
        Assert.Contains("in.jsonl:4: malformed: invalid JSON", stderr, StringComparison.Ordinal);
        Assert.Equal(0, (await CliRunner.Run("clean", input, "-o", output, "--allow-malformed")).Exit);
        Assert.Contains("{not json", await File.ReadAllTextAsync(output + ".quarantine.jsonl", TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clean_MixedFormats_Exit2WithMessageAndNoOutput()
    {
        var csv = Write("in.csv", "text\nhello\n");
        var json = Write("in.jsonl", Records);
        var output = Path.Combine(_dir, "out.jsonl");
        var (exit, _, stderr) = await CliRunner.Run("clean", csv, json, "-o", output);
        Assert.Equal(2, exit);
        Assert.Contains("mix CSV and JSON", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.EnumerateFiles(_dir, "*.tmp"));
    }

    [Fact]
    public async Task Clean_BadPolicy_Exit2NamingFileLineAndField()
    {
        var input = Write("in.jsonl", Records);
        var policy = Write("policy.yaml", "actions:\n  pii: scrub\n");
        var (exit, _, stderr) = await CliRunner.Run("clean", input, "-o", Path.Combine(_dir, "out.jsonl"), "--policy", policy);
        Assert.Equal(2, exit);
        Assert.Contains("policy.yaml:2: actions.pii:", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_WritesStarterThatMatchesTheSchema_AndDoesNotOverwrite()
    {
        var path = Path.Combine(_dir, "drydock.yaml");
        Assert.Equal(0, (await CliRunner.RunIn(_dir, "init", "-o", path)).Exit);
        await File.AppendAllTextAsync(path, "# edited\n", TestContext.Current.CancellationToken);
        var again = await CliRunner.RunIn(_dir, "init", "-o", path);
        Assert.Equal(0, again.Exit);
        Assert.Contains("kept", again.Stdout, StringComparison.Ordinal);
        Assert.EndsWith("# edited\n", await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(0, (await CliRunner.RunIn(_dir, "init", "-o", path, "--force")).Exit);
        Assert.True(File.Exists(Path.Combine(_dir, ".drydock", "keys", "signing.key")));

        var yaml = new YamlStream();
        yaml.Load(new StringReader(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken)));
        var json = ToJson(yaml.Documents[0].RootNode);
        var schema = JsonSchema.FromText(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "drydock.schema.json"), TestContext.Current.CancellationToken));
        Assert.True(schema.Evaluate(JsonDocument.Parse(json!.ToJsonString()).RootElement).IsValid);
        Assert.False(schema.Evaluate(JsonDocument.Parse("{\"actions\": {\"pii\": \"scrub\"}}").RootElement).IsValid);

        // The starter file is also a valid policy for clean.
        var input = Write("in.jsonl", Records);
        Assert.Equal(0, (await CliRunner.Run("clean", input, "-o", Path.Combine(_dir, "out.jsonl"), "--policy", path)).Exit);
    }

    // YAML to JSON: plain scalars that read as numbers or booleans become those.
    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, ToJson(kv.Value)))),
        YamlSequenceNode seq => new JsonArray([.. seq.Children.Select(ToJson)]),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } s when bool.TryParse(s.Value, out var b) => JsonValue.Create(b),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } s when double.TryParse(s.Value, System.Globalization.CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
        YamlScalarNode s => JsonValue.Create(s.Value),
        _ => null,
    };
}
