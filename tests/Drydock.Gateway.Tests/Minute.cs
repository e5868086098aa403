namespace Drydock.Gateway.Tests;

/// <summary>Rate limits count in fixed one-minute windows: a test that fills one waits out the last seconds of a minute first.</summary>
internal static class Minute
{
    public static async Task AwayFromItsEnd(int seconds = 15)
    {
        var left = 60 - (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() % 60_000 / 1000.0);
        if (left < seconds) await Task.Delay(TimeSpan.FromSeconds(left + 0.2), TestContext.Current.CancellationToken);
    }
}
