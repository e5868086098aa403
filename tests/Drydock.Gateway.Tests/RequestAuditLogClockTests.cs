using System.Text.Json.Nodes;
using Drydock.Gateway.Audit;
using Drydock.Tests.Shared;

namespace Drydock.Gateway.Tests;

/// <summary>
/// The request log's time is the clock it is given: each line's time and day file, and the retention that deletes
/// day files at start and every hour, follow a clock the test moves by days in an instant, with no waiting.
/// </summary>
public sealed class RequestAuditLogClockTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Retention_FollowsTheGivenClock_DeletingADayFileOnceItIsPastRetention()
    {
        var clock = new SteppedClock(new DateTimeOffset(2031, 3, 1, 23, 59, 0, TimeSpan.Zero));
        var folder = Path.Combine(_dir.Path, "requests");
        using var log = new RequestAuditLog(folder, retentionDays: 2, AuditText.None, new byte[32], clock);
        await log.WriteAsync(new JsonObject { ["key"] = "first" });
        await log.FlushAsync();
        var first = Path.Combine(folder, "requests-2031-03-01.jsonl");
        Assert.Contains("\"at\":\"2031-03-01T23:59:00.000Z\"", await File.ReadAllTextAsync(first, TestContext.Current.CancellationToken), StringComparison.Ordinal);

        // An hour on, the next day: the hourly purge runs, and the first day is within the two days kept.
        clock.Advance(TimeSpan.FromHours(1));
        await log.WriteAsync(new JsonObject { ["key"] = "second" });
        await log.FlushAsync();
        Assert.True(File.Exists(first));
        Assert.True(File.Exists(Path.Combine(folder, "requests-2031-03-02.jsonl")));
        Assert.True(clock.Fired >= 2, $"the purge ran {clock.Fired} times");

        // A day later the first day is past retention: deleted by the hourly purge, the second day kept.
        clock.Advance(TimeSpan.FromDays(1));
        Assert.False(File.Exists(first));
        Assert.True(File.Exists(Path.Combine(folder, "requests-2031-03-02.jsonl")));
        Assert.Equal(["second"], RequestAuditLog.Query(folder, new RequestFilter()).Select(l => (string?)l["key"]));
    }
}
