using Drydock.Gateway.Monitoring;
using Drydock.Tests.Shared;
using Microsoft.Extensions.Logging;

namespace Drydock.Gateway.Tests;

/// <summary>
/// The alert relay against the monitor's own names and alert lines: every signal the monitor can raise (and the
/// regression of drydock monitor evaluate) is logged by name, and a gateway started again logs the alerts raised
/// while it was not running, once.
/// </summary>
public sealed class AlertRelayTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly TempDir _state = new();

    public void Dispose()
    {
        _dir.Dispose();
        _state.Dispose();
    }

    private string StatePath => Path.Combine(_state.Path, "monitor", AlertRelay.StateFileName(_dir.Path));

    private AlertRelay Relay(Lines logs) => new(_dir.Path, Path.Combine(_state.Path, "monitor"), logs, TimeProvider.System);

    private static readonly MonitorPeriod s_window = new(new DateTimeOffset(2026, 12, 6, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero));
    private static readonly MonitorPeriod s_baseline = new(s_window.From.AddDays(-7), s_window.From);

    [Fact]
    public void EverySignalTheMonitorCanRaise_IsRelayedByName()
    {
        var report = DriftMonitor.Compare([], s_window, s_baseline, MonitorSettings.Read(null));
        DriftResult evaluation = new(DriftMonitor.Evaluation, "regression", DriftMonitor.AsrRise, 0, 0.5, 0.5, null, 0.05, "drift");
        List<DriftResult> raised = [.. report.Results.Select(r => r with { Status = "drift" }), evaluation];

        // The list is the monitor's: each signal it reports is in it, and it holds nothing the monitor does not write.
        Assert.Equal(DriftMonitor.SignalNames.Order(StringComparer.Ordinal), raised.Select(r => r.Signal).Order(StringComparer.Ordinal));
        Assert.All(raised, r => Assert.True(DriftMonitor.KindNames.Contains(r.Kind), r.Kind));
        Assert.Equal(DriftMonitor.TestNames.Order(StringComparer.Ordinal), raised.Select(r => r.Test).Distinct().Order(StringComparer.Ordinal));

        var logs = new Lines();
        using var relay = Relay(logs);
        foreach (var r in raised) MonitorAlert.Append(_dir.Path, MonitorAlert.Json("drydock monitor", [r], s_window, 10, s_baseline, 70, [], ["in-0123456789ab"]));
        relay.Read();

        Assert.Equal(raised.Count, logs.Count);
        foreach (var (r, line) in raised.Zip(logs.All))
        {
            Assert.StartsWith($"monitoring alert: ({r.Kind}) {r.Signal} ({r.Test} ", line, StringComparison.Ordinal);
            Assert.DoesNotContain("?", line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AStartedAgainRelay_LogsTheAlertsRaisedWhileItWasDown_Once()
    {
        var alert = MonitorAlert.Json("drydock monitor", [new DriftResult("extraction", "abuse", "chi-square", 0, 0.5, 40, 0.0001, 0.001, "drift")], s_window, 10, s_baseline, 70, [new KeyExtraction("1a2b3c4d", 9, 2, 0.9)], []);
        MonitorAlert.Append(_dir.Path, alert);

        // The first start over the folder: what is there is not repeated.
        var first = new Lines();
        using (var relay = Relay(first)) relay.Read();
        Assert.Empty(first.All);

        // Raised while the gateway was down: one alert in today's file, one in a file of its own.
        MonitorAlert.Append(_dir.Path, alert.Replace("1a2b3c4d", "5c7a9e01", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(_dir.Path, "alerts-2099-01-01.jsonl"), alert.Replace("1a2b3c4d", "0badcafe", StringComparison.Ordinal) + "\n");
        var second = new Lines();
        using (var relay = Relay(second)) relay.Read();
        Assert.Contains(second.All, l => l.StartsWith("monitoring alerts log: reading on", StringComparison.Ordinal));
        var alerts = second.All.Where(l => l.StartsWith("monitoring alert: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, alerts.Count);
        Assert.Single(alerts, l => l.Contains("keys 5c7a9e01 (2 high of 9)", StringComparison.Ordinal));
        Assert.Single(alerts, l => l.Contains("keys 0badcafe (2 high of 9)", StringComparison.Ordinal));

        // Started once more with nothing new: nothing is logged twice.
        var third = new Lines();
        using (var relay = Relay(third)) relay.Read();
        Assert.DoesNotContain(third.All, l => l.StartsWith("monitoring alert: ", StringComparison.Ordinal));
    }

    [Fact]
    public void AStateThatCannotBeRead_IsSaid_AndNothingIsRepeated()
    {
        MonitorAlert.Append(_dir.Path, MonitorAlert.Json("drydock monitor", [new DriftResult("traffic", "drift", "ratio", 1, 5, 5, null, 3, "drift")], s_window, 10, s_baseline, 70, [], []));
        Directory.CreateDirectory(Path.GetDirectoryName(StatePath)!);
        File.WriteAllText(StatePath, "{\"files\":[1]}");
        var logs = new Lines();
        using (var relay = Relay(logs)) relay.Read();
        Assert.Contains(logs.All, l => l.Contains($"{StatePath} cannot be read", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.All, l => l.StartsWith("monitoring alert: ", StringComparison.Ordinal));
    }

    [Fact]
    public void TheState_IsKeptInTheMonitorsFolder_OwnerOnly_NeverBesideTheAlertsLog()
    {
        MonitorAlert.Append(_dir.Path, MonitorAlert.Json("drydock monitor", [new DriftResult("traffic", "drift", "ratio", 1, 5, 5, null, 3, "drift")], s_window, 10, s_baseline, 70, [], []));
        using (var relay = Relay(new Lines())) relay.Read();

        Assert.All(Directory.GetFiles(_dir.Path), f => Assert.StartsWith("alerts-", Path.GetFileName(f), StringComparison.Ordinal));
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.json"));
        Assert.True(File.Exists(StatePath), $"no state at {StatePath}");
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(StatePath)!)); // no temporary file left behind
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(StatePath)!));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(StatePath));
        }
    }

    [Fact]
    public void TheStateOfAnEarlierVersion_BesideTheAlertsLog_IsReadOnce_ThenRemoved()
    {
        var alert = MonitorAlert.Json("drydock monitor", [new DriftResult("extraction", "abuse", "chi-square", 0, 0.5, 40, 0.0001, 0.001, "drift")], s_window, 10, s_baseline, 70, [new KeyExtraction("1a2b3c4d", 9, 2, 0.9)], []);
        MonitorAlert.Append(_dir.Path, alert);
        var file = Path.GetFileName(Assert.Single(Directory.GetFiles(_dir.Path, "alerts-*.jsonl")));
        var read = new FileInfo(Path.Combine(_dir.Path, file)).Length;
        // An earlier gateway had read the first alert; a second was raised while it was down.
        File.WriteAllText(Path.Combine(_dir.Path, AlertRelay.OldStateFileName), "{\"files\":{\"" + file + "\":{\"offset\":" + read.ToString(System.Globalization.CultureInfo.InvariantCulture) + ",\"line\":1}}}");
        MonitorAlert.Append(_dir.Path, alert.Replace("1a2b3c4d", "5c7a9e01", StringComparison.Ordinal));

        var logs = new Lines();
        using (var relay = Relay(logs)) relay.Read();
        var alerts = logs.All.Where(l => l.StartsWith("monitoring alert: ", StringComparison.Ordinal)).ToList();
        Assert.Contains("keys 5c7a9e01 (2 high of 9)", Assert.Single(alerts), StringComparison.Ordinal);
        Assert.Contains(logs.All, l => l.Contains($"{Path.Combine(_dir.Path, AlertRelay.OldStateFileName)}, the state of an earlier version, was read and removed", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(_dir.Path, AlertRelay.OldStateFileName)));
        Assert.True(File.Exists(StatePath));

        // Started again: the state is the new one; nothing is logged twice.
        var again = new Lines();
        using (var relay = Relay(again)) relay.Read();
        Assert.DoesNotContain(again.All, l => l.StartsWith("monitoring alert: ", StringComparison.Ordinal));
    }

    private sealed class Lines : ILogger
    {
        private readonly List<string> _lines = [];

        public List<string> All
        {
            get
            {
                lock (_lines) return [.. _lines];
            }
        }

        public int Count => All.Count;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines) _lines.Add(formatter(state, exception));
        }
    }
}
