using Drydock.Provenance.Registry;
using Microsoft.Extensions.Logging;

namespace Drydock.Gateway.Monitoring;

/// <summary>
/// The gateway's writer of the registry's signal summaries: every <see cref="MonitorSettings.PublishSeconds"/>, on a
/// timer of its own and a registry connection of its own (requests never wait on it), it flushes the signal log and
/// replaces the summaries of the hours from the newest stored less one (see <see cref="SignalSummaries.Publish"/>),
/// then deletes the summaries older than <see cref="MonitorSettings.SummaryRetentionDays"/>. A registry that cannot be
/// written is logged and written again at the next tick; the signal log keeps everything meanwhile.
/// </summary>
internal sealed partial class SignalPublisher : IDisposable
{
    private readonly SignalRecorder _signals;
    private readonly string _folder;
    private readonly MonitorSettings _settings;
    private readonly Func<ProvenanceRegistry> _open;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private int _running;
    private bool _failing;
    private bool _written;

    public SignalPublisher(SignalRecorder signals, string folder, MonitorSettings settings, Func<ProvenanceRegistry> open, ILogger log, TimeProvider time)
    {
        _signals = signals;
        _folder = folder;
        _settings = settings;
        _open = open;
        _log = log;
        _time = time;
        var every = TimeSpan.FromSeconds(settings.PublishSeconds);
        _timer = time.CreateTimer(_ => Publish(), null, every, every);
    }

    /// <summary>One write of the summaries (a tick still running is not overlapped: this one is skipped).</summary>
    public void Publish()
    {
        if (Interlocked.Exchange(ref _running, 1) == 1) return;
        try
        {
            _signals.Flush();
            using var registry = _open();
            var (summaries, fromHour, deleted) = SignalSummaries.Publish(registry, _settings, _folder, _time.GetUtcNow());
            if (_failing || !_written) Writing(_log, summaries, _settings.PublishSeconds);
            else Written(_log, summaries, DriftMonitor.Time(DateTimeOffset.FromUnixTimeSeconds(fromHour)), deleted);
            _failing = false;
            _written = true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _failing = true;
            Failed(_log, e.GetType().Name, e.Message, _settings.PublishSeconds);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    public void Dispose() => _timer.Dispose();

    [LoggerMessage(40, LogLevel.Debug, "signal summaries: {Summaries} hourly summaries from {From} written to the registry; {Deleted} past retention deleted")]
    private static partial void Written(ILogger logger, int summaries, string from, int deleted);

    [LoggerMessage(41, LogLevel.Error, "signal summaries not written to the registry ({Error}: {Message}); written again in {Seconds} s, the signal log keeps them meanwhile")]
    private static partial void Failed(ILogger logger, string error, string message, int seconds);

    [LoggerMessage(42, LogLevel.Information, "signal summaries: {Summaries} hourly summaries written to the registry; written again every {Seconds} s")]
    private static partial void Writing(ILogger logger, int summaries, int seconds);
}
