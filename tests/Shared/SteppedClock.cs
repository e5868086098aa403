namespace Drydock.Tests.Shared;

/// <summary>
/// A clock that moves only when told (<see cref="Advance"/>); its timers fire, on the caller's thread, for every
/// period the move passes. Tests of anything whose time decides something use it instead of waiting.
/// </summary>
public sealed class SteppedClock(DateTimeOffset start) : TimeProvider
{
    private readonly List<Stepped> _timers = [];
    private DateTimeOffset _now = start;

    public int Fired { get; private set; }

    public override DateTimeOffset GetUtcNow() => _now;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new Stepped(callback, state, _now + dueTime, period);
        _timers.Add(timer);
        Run();
        return timer;
    }

    public void Advance(TimeSpan by)
    {
        _now += by;
        Run();
    }

    private void Run()
    {
        foreach (var timer in _timers.Where(t => !t.Disposed))
        {
            while (timer.Due <= _now)
            {
                timer.Callback(timer.State);
                Fired++;
                if (timer.Period <= TimeSpan.Zero) { timer.Due = DateTimeOffset.MaxValue; break; }
                timer.Due += timer.Period;
            }
        }
    }

    private sealed class Stepped(TimerCallback callback, object? state, DateTimeOffset due, TimeSpan period) : ITimer
    {
        public TimerCallback Callback { get; } = callback;

        public object? State { get; } = state;

        public DateTimeOffset Due { get; set; } = due;

        public TimeSpan Period { get; } = period;

        public bool Disposed { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period) => throw new NotSupportedException();

        public void Dispose() => Disposed = true;

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
