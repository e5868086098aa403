using System.Text;
using System.Text.Json;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// Through the built CLI in its own process: a JSONL file of records holding random private-key bodies (bare, wrapped,
/// after a sentence, armoured) scans to a report with no injection finding and no 8-character piece of any body.
/// </summary>
public sealed class ScanKeyBodyProcessTests : IDisposable
{
    private const string Base64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Body(Random random, int length, bool wrapped)
    {
        var body = new StringBuilder(length + length / 64 + 1);
        for (var i = 0; i < length; i++)
        {
            if (wrapped && i > 0 && i % 64 == 0) body.Append('\n');
            body.Append(Base64[random.Next(Base64.Length)]);
        }

        return body.ToString();
    }

    [Fact]
    public async Task Scan_RandomKeyBodies_ReportHoldsNoInjectionAndNoPieceOfAKey()
    {
        // The seed and length of bodies that the classifier once scored as jailbreaks, quoting pieces of them.
        var random = new Random(3_000 + 16_000);
        var records = new StringBuilder();
        var pieces = new HashSet<string>(StringComparer.Ordinal);
        for (var n = 0; n < 40; n++)
        {
            var body = Body(random, 16_000, wrapped: n % 4 != 0);
            var content = (n % 4) switch
            {
                0 or 1 => body,
                2 => "Here is the key you asked for:\n" + body + "\nuse it for the staging deploy only",
                _ => "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n",
            };
            foreach (var line in body.Split('\n'))
            {
                for (var i = 0; i + 8 <= line.Length; i++) pieces.Add(line.Substring(i, 8));
            }

            records.Append(JsonSerializer.Serialize(new { id = n.ToString(System.Globalization.CultureInfo.InvariantCulture), messages = new[] { new { role = "user", content } } })).Append('\n');
        }

        var input = _dir.File("keys.jsonl", records.ToString());
        var result = await DrydockProcess.Run(_dir.Path, ["scan", input, "--format", "json"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.NotEqual(2, result.Exit);
        using var report = JsonDocument.Parse(result.Stdout);
        var findings = report.RootElement.GetProperty("findings").EnumerateArray().ToList();
        Assert.Contains(findings, f => f.GetProperty("category").GetString() == "secret");
        Assert.DoesNotContain(findings, f => f.GetProperty("category").GetString() == "injection");

        // Every string of the report, as written and as decoded.
        var strings = new List<string> { result.Stdout, result.Stderr };
        Collect(report.RootElement, strings);
        foreach (var s in strings)
        {
            for (var i = 0; i + 8 <= s.Length; i++)
            {
                Assert.False(pieces.Contains(s.Substring(i, 8)), $"the report holds a piece of a key: {s.Substring(i, 8)}");
            }
        }
    }

    private static void Collect(JsonElement element, List<string> strings)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                strings.Add(element.GetString()!);
                break;
            case JsonValueKind.Object:
                foreach (var p in element.EnumerateObject()) Collect(p.Value, strings);
                break;
            case JsonValueKind.Array:
                foreach (var e in element.EnumerateArray()) Collect(e, strings);
                break;
        }
    }
}
