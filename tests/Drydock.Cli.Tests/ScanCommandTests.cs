using System.Text.Json;

namespace Drydock.Cli.Tests;

public class ScanCommandTests
{
    private const string Input = "Golden/chat.jsonl";

    // Golden files: the approved output sits next to the input. After a deliberate change, re-approve with
    // DRYDOCK_APPROVE=1 ./test.sh and review the diff.
    [Theory]
    [InlineData("json", "chat.scan.json")]
    [InlineData("sarif", "chat.scan.sarif")]
    [InlineData("table", "chat.scan.txt")]
    public async Task Scan_GoldenInput_MatchesApprovedOutput(string format, string approved)
    {
        var (exit, stdout, stderr) = await CliRunner.Run("scan", Input, "--format", format);
        Assert.Equal(2, exit);
        Assert.Contains("Golden/chat.jsonl:5: invalid JSON", stderr, StringComparison.Ordinal);
        var approvedPath = Path.Combine(CliRunner.SourceDirectory(), "Golden", approved);
        if (Environment.GetEnvironmentVariable("DRYDOCK_APPROVE") == "1")
        {
            await File.WriteAllTextAsync(approvedPath, stdout, TestContext.Current.CancellationToken);
        }

        Assert.Equal(await File.ReadAllTextAsync(approvedPath, TestContext.Current.CancellationToken), stdout);
    }

    [Fact]
    public async Task Scan_Json_FollowsTheContractAndHoldsNoRawValue()
    {
        var (_, stdout, _) = await CliRunner.Run("scan", Input, "--format", "json");
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(["tool", "inputs", "summary", "findings", "errors"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("drydock", root.GetProperty("tool").GetProperty("name").GetString());
        var findings = root.GetProperty("findings").EnumerateArray().ToList();
        Assert.Equal(root.GetProperty("summary").GetProperty("findings").GetInt32(), findings.Count);
        foreach (var finding in findings)
        {
            foreach (var key in new[] { "file", "line", "recordId", "field", "category", "type", "severity", "start", "end", "confidence", "excerpt" })
            {
                Assert.True(finding.TryGetProperty(key, out _), $"finding lacks '{key}'");
            }
        }

        foreach (var raw in new[] { "4539 1488 0343 6467", "jane.doe@acme-mail.com", "536-90-4399", "GB29NWBK60161331926819", "7946 0321" })
        {
            Assert.DoesNotContain(raw, stdout, StringComparison.Ordinal);
        }

        // Offsets are code points: the SSN after two emoji starts at the same index Python would give.
        var ssn = findings.Single(f => f.GetProperty("type").GetString() == "us-ssn");
        Assert.Equal(4, ssn.GetProperty("line").GetInt32());
        Assert.Equal("Emoji first 😀😀 then SSN ".Length - 2, ssn.GetProperty("start").GetInt32());
        var error = Assert.Single(root.GetProperty("errors").EnumerateArray());
        Assert.Equal(5, error.GetProperty("line").GetInt32());
    }

    [Fact]
    public async Task Scan_Sarif_IsVersion210WithRuleIndexes()
    {
        var (_, stdout, _) = await CliRunner.Run("scan", Input, "--format", "sarif");
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal("2.1.0", doc.RootElement.GetProperty("version").GetString());
        var run = doc.RootElement.GetProperty("runs")[0];
        var rules = run.GetProperty("tool").GetProperty("driver").GetProperty("rules").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToList();
        var results = run.GetProperty("results").EnumerateArray().ToList();
        Assert.NotEmpty(results);
        foreach (var result in results)
        {
            Assert.Equal(result.GetProperty("ruleId").GetString(), rules[result.GetProperty("ruleIndex").GetInt32()]);
            Assert.True(result.GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("region").GetProperty("startLine").GetInt32() > 0);
        }

        Assert.False(run.GetProperty("invocations")[0].GetProperty("executionSuccessful").GetBoolean());
    }

    [Fact]
    public async Task Scan_Twice_ByteIdenticalReports()
    {
        var first = await CliRunner.Run("scan", Input, "--format", "json");
        var second = await CliRunner.Run("scan", Input, "--format", "json", "--threads", "1");
        Assert.Equal(first.Stdout, second.Stdout);
    }

    [Theory]
    [InlineData(new[] { "--allow-malformed" }, 1)]
    [InlineData(new[] { "--allow-malformed", "--fail-on", "none" }, 0)]
    [InlineData(new[] { "--allow-malformed", "--categories", "secret", "--fail-on", "critical" }, 1)]
    [InlineData(new[] { "--allow-malformed", "--categories", "pii", "--fail-on", "critical" }, 1)]
    public async Task Scan_ExitCode_FollowsThreshold(string[] options, int expected)
    {
        var (exit, _, _) = await CliRunner.Run(["scan", Input, .. options]);
        Assert.Equal(expected, exit);
    }

    [Fact]
    public async Task Scan_MissingFile_ExitTwoNamingIt()
    {
        var (exit, stdout, stderr) = await CliRunner.Run("scan", "Golden/nope.jsonl");
        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains("Golden/nope.jsonl: no such file or directory", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--format", "xml")]
    [InlineData("--categories", "pii,bogus")]
    [InlineData("--fail-on", "sometimes")]
    public async Task Scan_BadOption_ExitTwo(string option, string value)
    {
        var (exit, _, stderr) = await CliRunner.Run("scan", Input, option, value);
        Assert.Equal(2, exit);
        Assert.NotEmpty(stderr);
    }

    [Fact]
    public async Task Scan_OutputFile_WrittenAtomicallyWithNoTemporaryLeft()
    {
        var dir = Directory.CreateTempSubdirectory("drydock-cli-");
        try
        {
            var output = Path.Combine(dir.FullName, "report.json");
            var (exit, stdout, _) = await CliRunner.Run("scan", Input, "--format", "json", "--output", output, "--allow-malformed");
            Assert.Equal(1, exit);
            Assert.Empty(stdout);
            using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(output, TestContext.Current.CancellationToken));
            Assert.True(doc.RootElement.GetProperty("summary").GetProperty("findings").GetInt32() > 0);
            Assert.Equal(["report.json"], dir.GetFiles().Select(f => f.Name));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Scan_UserRule_FindsItsPattern()
    {
        var dir = Directory.CreateTempSubdirectory("drydock-cli-");
        try
        {
            var rules = Path.Combine(dir.FullName, "rules.yaml");
            await File.WriteAllTextAsync(rules, """
                rules:
                  - id: ACME-001
                    category: secret
                    type: acme-token
                    severity: critical
                    pattern: 'acme_[a-z0-9]{16}'
                    keywords: [acme_]
                    examples: ['key acme_0123456789abcdef']
                    counterExamples: ['acme_short']
                """, TestContext.Current.CancellationToken);
            var data = Path.Combine(dir.FullName, "d.jsonl");
            await File.WriteAllTextAsync(data, "{\"text\": \"use acme_q1w2e3r4t5y6u7i8 now\"}\n", TestContext.Current.CancellationToken);
            var (exit, stdout, _) = await CliRunner.Run("scan", data, "--rules", rules, "--format", "json");
            Assert.Equal(1, exit);
            Assert.Contains("\"ruleId\":\"ACME-001\"", stdout, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("pattern: 'a(b'", "rules[0].pattern")]
    [InlineData("pattern: 'zz[0-9]{4}'\n    examples: ['nothing here']", "rules[0].examples")]
    [InlineData("pattern: 'x'\n    severity: extreme", "rules[0].severity")]
    public async Task Scan_BadUserRule_ExitTwoNamingFileLineAndField(string body, string field)
    {
        var dir = Directory.CreateTempSubdirectory("drydock-cli-");
        try
        {
            var rules = Path.Combine(dir.FullName, "bad.yaml");
            var yaml = "rules:\n  - id: X-1\n    category: secret\n    type: t\n" + (body.Contains("severity", StringComparison.Ordinal) ? "" : "    severity: high\n") + "    " + body + "\n";
            await File.WriteAllTextAsync(rules, yaml, TestContext.Current.CancellationToken);
            var (exit, _, stderr) = await CliRunner.Run("scan", Input, "--rules", rules);
            Assert.Equal(2, exit);
            Assert.Matches($@"bad\.yaml:[0-9]+: {System.Text.RegularExpressions.Regex.Escape(field)}:", stderr);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Rules_ListsTheCatalogue()
    {
        var (exit, stdout, _) = await CliRunner.Run("rules", "--categories", "secret");
        Assert.Equal(0, exit);
        Assert.Contains("DD-SEC-001", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("DD-PII-001", stdout, StringComparison.Ordinal);
    }
}
