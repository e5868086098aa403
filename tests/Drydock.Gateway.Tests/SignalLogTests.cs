using System.Text;
using System.Text.Json;
using Drydock.Gateway.Monitoring;
using Drydock.Tests.Shared;

namespace Drydock.Gateway.Tests;

/// <summary>The signal log's rows, template ids and reader, without a gateway.</summary>
public sealed class SignalLogTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Row_WrittenAndReadBack_KeepsEveryCount()
    {
        var counts = new SignalCounts { Requests = 7, Tokens = 900, LatencyMs = 70, UpstreamErrors = 1, CanaryHits = 1, Answers = 6, Refusals = 2, ExtractionScored = 3, ExtractionHigh = 1, ExtractionMax = 0.71, InputBlockedRequests = 1, OutputRedactedRequests = 2 };
        counts.PromptLength[5] = 7;
        counts.Latency[3] = 7;
        counts.InputBlocked["prompt-injection"] = 1;
        counts.OutputRedacted["email"] = 2;
        counts.Templates["0a1b2c3d"] = 7;
        var line = Row(counts, 120, "tiny", "internal", "ddk_abc");

        var back = new SignalCounts();
        var header = SignalCounts.Read(line, back);
        Assert.Equal(new SignalRowHeader(120, "tiny", "internal", "ddk_abc"), header);
        Assert.Equal(Encoding.UTF8.GetString(line), Encoding.UTF8.GetString(Row(back, 120, "tiny", "internal", "ddk_abc")));
    }

    [Fact]
    public void Read_CutShortOrEdited_Throws()
    {
        var counts = new SignalCounts { Requests = 3 };
        counts.Templates["x"] = 3;
        var line = Encoding.UTF8.GetString(Row(counts, 60, "m", "t", "k"));
        Assert.ThrowsAny<JsonException>(() => SignalCounts.Read(Encoding.UTF8.GetBytes(line[..^5]), new SignalCounts()));
        Assert.ThrowsAny<Exception>(() => SignalCounts.Read(Encoding.UTF8.GetBytes(line.Replace("\"requests\":3", "\"requests\":-3", StringComparison.Ordinal)), new SignalCounts()));
        Assert.ThrowsAny<Exception>(() => SignalCounts.Read(Encoding.UTF8.GetBytes(line.Replace("\"requests\":3", "\"requests\":\"3\"", StringComparison.Ordinal)), new SignalCounts()));
    }

    [Fact]
    public void TemplateSketch_SameOpeningSameId_OtherOpeningOrKeyOtherId()
    {
        var sketch = new TemplateSketch(new byte[32]);
        var a = sketch.Cluster("Summarize this support ticket for the on-call engineer: customer 4411 cannot log in since Monday");
        var b = sketch.Cluster("Summarize this support ticket for the on-call engineer: customer 87 reports a wrong invoice");
        var c = sketch.Cluster("Translate into French: the parcel arrives tomorrow");
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Matches("^[0-9a-f]{8}$", a);
        Assert.NotEqual(a, new TemplateSketch(Enumerable.Repeat((byte)7, 32).ToArray()).Cluster("Summarize this support ticket for the on-call engineer: customer 4411"));
    }

    [Fact]
    public void Compare_SkipsACutLine_NamingFileAndLine_AndCountsTheRest()
    {
        var day = DateTimeOffset.UtcNow.Date;
        var at = new DateTimeOffset(day, TimeSpan.Zero).AddHours(1).ToUnixTimeSeconds();
        var good = Encoding.UTF8.GetString(Row(new SignalCounts { Requests = 5 }, at, "m", "t", "k"));
        var file = Path.Combine(_dir.Path, $"signals-{day:yyyy-MM-dd}.jsonl");
        File.WriteAllText(file, good + "\n" + good[..20] + "\n" + good + "\n" + good[..10]);
        var window = new MonitorPeriod(new DateTimeOffset(day, TimeSpan.Zero), new DateTimeOffset(day, TimeSpan.Zero).AddHours(2));
        var baseline = new MonitorPeriod(window.From.AddDays(-7), window.From);
        var report = DriftMonitor.Compare(_dir.Path, window, baseline, new MonitorSettings());
        Assert.Equal(10, report.WindowTotals.Requests);
        Assert.Equal(2, report.SkippedCount);
        Assert.Equal([2L, 4L], report.Skipped.Select(s => s.Line));
        Assert.All(report.Skipped, s => Assert.Equal(file, s.File));

        // Nothing in the baseline: it says so, and tests nothing.
        Assert.False(report.Alert);
        Assert.Contains(report.Notes, n => n.Contains("min-baseline-requests", StringComparison.Ordinal));
        Assert.All(report.Results.Where(r => r.Signal != "canary-hits"), r => Assert.Equal("insufficient", r.Status));
    }

    [Fact]
    public void Compare_ACanaryHitAlerts_EvenWithoutABaseline()
    {
        var now = DateTimeOffset.UtcNow;
        var row = Encoding.UTF8.GetString(Row(new SignalCounts { Requests = 1, CanaryHits = 1 }, now.AddMinutes(-5).ToUnixTimeSeconds(), "m", "t", "k"));
        File.WriteAllText(Path.Combine(_dir.Path, $"signals-{now.AddMinutes(-5):yyyy-MM-dd}.jsonl"), row + "\n");
        var (window, baseline) = DriftMonitor.DefaultPeriods(new MonitorSettings(), now);
        var report = DriftMonitor.Compare(_dir.Path, window, baseline, new MonitorSettings());
        Assert.True(report.Alert);
        Assert.Equal("drift", report.Results.Single(r => r.Signal == "canary-hits").Status);
    }

    private static byte[] Row(SignalCounts counts, long at, string alias, string tier, string key)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer)) counts.Write(w, at, alias, tier, key);
        return buffer.WrittenSpan.ToArray();
    }
}
