using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Drydock.Cli.Tests;

/// <summary>drydock review end to end: sample, a real headless browser on the page, apply, and the next clean.</summary>
public sealed class ReviewCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drydock-review-" + Guid.NewGuid().ToString("N"));

    public ReviewCommandTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir, ".drydock")); // a project: review apply records into its registry
        File.Copy(Path.Combine(AppContext.BaseDirectory, "samples", "support-tickets.jsonl"), Path.Combine(_dir, "tickets.jsonl"));
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("DRYDOCK_ACTOR", null);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static List<JsonElement> Lines(string path) => [.. File.ReadLines(path).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    [Fact]
    public async Task Sample_MixesFlaggedAndRandom_AndDecisionsFlowIntoTheNextClean()
    {
        var sample = await CliRunner.RunIn(_dir, "review", "sample", "tickets.jsonl", "--size", "12", "--seed", "3");
        Assert.True(sample.Exit == 0, sample.Stderr);
        var items = Lines(Path.Combine(_dir, "review", "sample.jsonl"));
        Assert.Equal(12, items.Count);
        Assert.Equal(6, items.Count(i => i.GetProperty("flagged").GetBoolean()));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "review", "sample.html")));
        Assert.Equal(items.Select(i => i.GetProperty("reviewId").GetString()), (await CliRunner.RunIn(_dir, "review", "sample", "tickets.jsonl", "--size", "12", "--seed", "3")).Exit == 0
            ? Lines(Path.Combine(_dir, "review", "sample.jsonl")).Select(i => i.GetProperty("reviewId").GetString()) : []);

        // Clean once: which sampled records does it quarantine, and which does it keep?
        Assert.Equal(0, (await CliRunner.RunIn(_dir, "clean", "tickets.jsonl", "-o", "first.jsonl")).Exit);
        var quarantinedLines = Lines(Path.Combine(_dir, "first.jsonl.quarantine.jsonl")).Select(q => q.GetProperty("line").GetInt64()).ToHashSet();
        var release = items.First(i => quarantinedLines.Contains(i.GetProperty("line").GetInt64()));
        var reject = items.First(i => !quarantinedLines.Contains(i.GetProperty("line").GetInt64()));

        // Fill in two decisions; leave the rest undecided.
        var template = File.ReadAllLines(Path.Combine(_dir, "review", "decisions.jsonl"));
        var filled = template.Select(line =>
        {
            var sha = JsonDocument.Parse(line).RootElement.GetProperty("recordSha256").GetString();
            return sha == release.GetProperty("recordSha256").GetString() ? line.Replace("\"reviewer\":\"\",\"decision\":\"\"", "\"reviewer\":\"dana\",\"decision\":\"approve\"", StringComparison.Ordinal)
                : sha == reject.GetProperty("recordSha256").GetString() ? line.Replace("\"reviewer\":\"\",\"decision\":\"\",\"note\":\"\"", "\"reviewer\":\"dana\",\"decision\":\"reject\",\"note\":\"off-topic\"", StringComparison.Ordinal)
                : line;
        }).ToArray();
        await File.WriteAllLinesAsync(Path.Combine(_dir, "review", "decisions.jsonl"), filled, TestContext.Current.CancellationToken);

        Environment.SetEnvironmentVariable("DRYDOCK_ACTOR", "dana");
        var apply = await CliRunner.RunIn(_dir, "review", "apply", "review/decisions.jsonl");
        Assert.True(apply.Exit == 0, apply.Stderr);
        Assert.Contains("1 approved", apply.Stdout, StringComparison.Ordinal);
        Assert.Contains("10 lines without a decision", apply.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, (await CliRunner.RunIn(_dir, "audit", "verify")).Exit);
        Assert.Contains("review.approve", (await CliRunner.RunIn(_dir, "audit", "log")).Stdout, StringComparison.Ordinal);

        Assert.Equal(0, (await CliRunner.RunIn(_dir, "clean", "tickets.jsonl", "-o", "second.jsonl")).Exit);
        var ledger = Lines(Path.Combine(_dir, "second.jsonl.ledger.jsonl"));
        Assert.Contains(ledger, e => e.GetProperty("action").GetString() == "release" && e.GetProperty("line").GetInt64() == release.GetProperty("line").GetInt64());
        Assert.Contains(ledger, e => e.GetProperty("action").GetString() == "drop" && e.GetProperty("line").GetInt64() == reject.GetProperty("line").GetInt64());
        Assert.DoesNotContain(Lines(Path.Combine(_dir, "second.jsonl.quarantine.jsonl")), q => q.GetProperty("line").GetInt64() == release.GetProperty("line").GetInt64());
    }

    [Fact]
    public async Task Apply_RefusesABadDecisionsFile_NamingLineAndField_AndAppliesNothing()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "d.jsonl"),
            $"{{\"recordSha256\":\"{new string('a', 64)}\",\"reviewer\":\"dana\",\"decision\":\"approve\"}}\n{{\"recordSha256\":\"{new string('b', 64)}\",\"reviewer\":\"dana\",\"decision\":\"maybe\"}}\n",
            TestContext.Current.CancellationToken);
        var result = await CliRunner.RunIn(_dir, "review", "apply", "d.jsonl");
        Assert.Equal(2, result.Exit);
        Assert.Contains("d.jsonl:2: field decision", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, ".drydock", "review", "ledger.jsonl")));
    }

    [Fact]
    public async Task Page_RendersInHeadlessChromium_WithEveryFindingHighlighted()
    {
        Assert.Equal(0, (await CliRunner.RunIn(_dir, "review", "sample", "tickets.jsonl", "--size", "24")).Exit);
        var html = Path.Combine(_dir, "review", "sample.html");
        var chromium = HeadlessChromium.Find();

        var common = HeadlessChromium.Options(Path.Combine(_dir, "chromium-profile"));
        var dom = await HeadlessChromium.Run(chromium, [.. common, "--dump-dom", new Uri(html).AbsoluteUri]);
        // One mark per finding, overlapping findings sharing the first one's mark (UTF-16 offsets, as on the page).
        var findings = 0;
        foreach (var item in Lines(Path.Combine(_dir, "review", "sample.jsonl")))
        {
            foreach (var field in item.GetProperty("findings").EnumerateArray().GroupBy(f => f.GetProperty("field").GetString()))
            {
                var end = 0;
                foreach (var f in field.OrderBy(f => f.GetProperty("start").GetInt32()).ThenByDescending(f => f.GetProperty("end").GetInt32()))
                {
                    if (f.GetProperty("end").GetInt32() > Math.Max(end, f.GetProperty("start").GetInt32())) findings++;
                    end = Math.Max(end, f.GetProperty("end").GetInt32());
                }
            }
        }

        Assert.True(findings > 0);
        Assert.Equal(24, Regex.Count(dom, "<section class=\"record"));
        var poisoningNotes = Regex.Count(dom, "<p class=\"poisoning\">");
        Assert.Equal(findings + poisoningNotes, Regex.Count(dom, "<mark class=\"c-"));
        Assert.Contains("flagged", dom, StringComparison.Ordinal);

        var png = Path.Combine(_dir, "page.png");
        await HeadlessChromium.Run(chromium, [.. common, $"--screenshot={png}", "--window-size=1000,1400", new Uri(html).AbsoluteUri]);
        Assert.True(new FileInfo(png).Length > 10_000, "the screenshot is empty");
    }
}
